package dynamo

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/job"
)

// JobFromItem decodes a stored job (without its assignment).
func JobFromItem(m map[string]types.AttributeValue) (job.Job, error) {
	it := &item{m: m}
	j := job.Job{
		ID:             it.str(attr.ID),
		Title:          it.str("title"),
		CustomerID:     it.str("customerId"),
		Address:        it.str("address"),
		Status:         job.Status(it.str(attr.Status)),
		PreviousStatus: job.Status(it.str("previousStatus")),
		Version:        it.int(attr.Version),
		CreatedAt:      it.time(attr.CreatedAt),
		UpdatedAt:      it.time(attr.UpdatedAt),
		CancelledAt:    it.time("cancelledAt"),
		CancelledBy:    it.str("cancelledBy"),
		CancelReason:   it.str(attr.Reason),
	}
	if start, end := it.time("requestedStart"), it.time("requestedEnd"); !start.IsZero() || !end.IsZero() {
		j.RequestedWindow = &job.Window{Start: start, End: end}
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
		ID:             it.str(attr.ID),
		JobID:          it.str("jobId"),
		TechnicianID:   it.str(attr.TechnicianID),
		ScheduledStart: it.time(attr.ScheduledStart),
		ScheduledEnd:   it.time(attr.ScheduledEnd),
		Status:         job.AssignmentStatus(it.str(attr.Status)),
		Version:        it.int(attr.Version),
		CreatedAt:      it.time(attr.CreatedAt),
		UpdatedAt:      it.time(attr.UpdatedAt),
		CancelledAt:    it.time("cancelledAt"),
		CancelledBy:    it.str("cancelledBy"),
		CancelReason:   it.str(attr.Reason),
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
	w[attr.Type] = sAV(attr.TypeJob)
	w[attr.ID] = sAV(j.ID)
	w["title"] = sAV(j.Title)
	w.str("customerId", j.CustomerID)
	w.str("address", j.Address)
	if rw := j.RequestedWindow; rw != nil {
		w.time("requestedStart", rw.Start)
		w.time("requestedEnd", rw.End)
	}
	w[attr.Status] = sAV(string(j.Status))
	w.str("previousStatus", string(j.PreviousStatus))
	w[attr.Version] = iAV(j.Version)
	w.time(attr.CreatedAt, j.CreatedAt)
	w.time(attr.UpdatedAt, j.UpdatedAt)
	w.time("cancelledAt", j.CancelledAt)
	w.str("cancelledBy", j.CancelledBy)
	w.str(attr.Reason, j.CancelReason)
	if j.Assignment != nil {
		w["assignmentId"] = sAV(j.Assignment.ID)
	}
	for k, v := range boardEntry(j) {
		w[k] = v
	}
	return w
}

// AssignmentItem encodes an assignment as stored.
func AssignmentItem(a job.Assignment) map[string]types.AttributeValue {
	w := itemWriter(assignmentKey(a.JobID, a.ID))
	w[attr.Type] = sAV(attr.TypeAssignment)
	w[attr.ID] = sAV(a.ID)
	w["jobId"] = sAV(a.JobID)
	w.str(attr.TechnicianID, a.TechnicianID)
	w.time(attr.ScheduledStart, a.ScheduledStart)
	w.time(attr.ScheduledEnd, a.ScheduledEnd)
	w[attr.Status] = sAV(string(a.Status))
	w[attr.Version] = iAV(a.Version)
	w.time(attr.CreatedAt, a.CreatedAt)
	w.time(attr.UpdatedAt, a.UpdatedAt)
	w.time("cancelledAt", a.CancelledAt)
	w.str("cancelledBy", a.CancelledBy)
	w.str(attr.Reason, a.CancelReason)
	return w
}
