package dynamo

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/job"
)

// JobFromItem decodes a stored job (without its assignment).
func JobFromItem(m map[string]types.AttributeValue) (job.Job, error) {
	it := &item{m: m}
	j := job.Job{
		ID:             it.str("id"),
		Title:          it.str("title"),
		CustomerID:     it.str("customerId"),
		Address:        it.str("address"),
		Status:         job.Status(it.str("status")),
		PreviousStatus: job.Status(it.str("previousStatus")),
		Version:        it.int("version"),
		CreatedAt:      it.time("createdAt"),
		UpdatedAt:      it.time(attrUpdatedAt),
		CancelledAt:    it.time("cancelledAt"),
		CancelledBy:    it.str("cancelledBy"),
		CancelReason:   it.str("cancelReason"),
	}
	if it.err == nil && (j.ID == "" || j.Status == "") {
		it.err = errors.New("item has no id or status")
	}
	if it.err != nil {
		return job.Job{}, fmt.Errorf("decode job %q: %w", j.ID, it.err)
	}
	return j, nil
}

// AssignmentFromItem decodes a stored assignment.
func AssignmentFromItem(m map[string]types.AttributeValue) (job.Assignment, error) {
	it := &item{m: m}
	a := job.Assignment{
		ID:             it.str("id"),
		JobID:          it.str("jobId"),
		TechnicianID:   it.str("technicianId"),
		ScheduledStart: it.time("scheduledStart"),
		ScheduledEnd:   it.time("scheduledEnd"),
		Status:         job.AssignmentStatus(it.str("status")),
		Version:        it.int("version"),
		CreatedAt:      it.time("createdAt"),
		UpdatedAt:      it.time(attrUpdatedAt),
		CancelledAt:    it.time("cancelledAt"),
		CancelledBy:    it.str("cancelledBy"),
		CancelReason:   it.str("cancelReason"),
	}
	if it.err == nil && (a.ID == "" || a.JobID == "" || a.Status == "") {
		it.err = errors.New("item has no id, jobId or status")
	}
	if it.err != nil {
		return job.Assignment{}, fmt.Errorf("decode assignment %q: %w", a.ID, it.err)
	}
	return a, nil
}

// JobItem encodes a job as stored; Assignment becomes the job's assignmentId (store the
// assignment itself with AssignmentItem). Transitions never write whole items; this is
// for loading jobs (demo data, tests, imports).
func JobItem(j job.Job) map[string]types.AttributeValue {
	w := itemWriter(jobKey(j.ID))
	w["type"] = sAV(typeJob)
	w["id"] = sAV(j.ID)
	w["title"] = sAV(j.Title)
	w.str("customerId", j.CustomerID)
	w.str("address", j.Address)
	w["status"] = sAV(string(j.Status))
	w.str("previousStatus", string(j.PreviousStatus))
	w["version"] = iAV(j.Version)
	w.time("createdAt", j.CreatedAt)
	w.time(attrUpdatedAt, j.UpdatedAt)
	w.time("cancelledAt", j.CancelledAt)
	w.str("cancelledBy", j.CancelledBy)
	w.str("cancelReason", j.CancelReason)
	if j.Assignment != nil {
		w["assignmentId"] = sAV(j.Assignment.ID)
	}
	return w
}

// AssignmentItem encodes an assignment as stored.
func AssignmentItem(a job.Assignment) map[string]types.AttributeValue {
	w := itemWriter(assignmentKey(a.JobID, a.ID))
	w["type"] = sAV(typeAssignment)
	w["id"] = sAV(a.ID)
	w["jobId"] = sAV(a.JobID)
	w.str("technicianId", a.TechnicianID)
	w.time("scheduledStart", a.ScheduledStart)
	w.time("scheduledEnd", a.ScheduledEnd)
	w["status"] = sAV(string(a.Status))
	w["version"] = iAV(a.Version)
	w.time("createdAt", a.CreatedAt)
	w.time(attrUpdatedAt, a.UpdatedAt)
	w.time("cancelledAt", a.CancelledAt)
	w.str("cancelledBy", a.CancelledBy)
	w.str("cancelReason", a.CancelReason)
	return w
}
