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
		Title:          it.str(attr.Title),
		CustomerID:     it.str(attr.CustomerID),
		Address:        it.str(attr.Address),
		Status:         job.Status(it.str(attr.Status)),
		PreviousStatus: job.Status(it.str(attr.PreviousStatus)),
		Version:        it.int(attr.Version),
		CreatedAt:      it.time(attr.CreatedAt),
		UpdatedAt:      it.time(attr.UpdatedAt),
		CancelledAt:    it.time(attr.CancelledAt),
		CancelledBy:    it.str(attr.CancelledBy),
		CancelReason:   it.str(attr.Reason),
	}
	if start, end := it.time(attr.RequestedStart), it.time(attr.RequestedEnd); !start.IsZero() || !end.IsZero() {
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
		JobID:          it.str(attr.JobID),
		TechnicianID:   it.str(attr.TechnicianID),
		ScheduledStart: it.time(attr.ScheduledStart),
		ScheduledEnd:   it.time(attr.ScheduledEnd),
		Status:         job.AssignmentStatus(it.str(attr.Status)),
		Version:        it.int(attr.Version),
		CreatedAt:      it.time(attr.CreatedAt),
		UpdatedAt:      it.time(attr.UpdatedAt),
		CancelledAt:    it.time(attr.CancelledAt),
		CancelledBy:    it.str(attr.CancelledBy),
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
	w[attr.Title] = sAV(j.Title)
	w.str(attr.CustomerID, j.CustomerID)
	w.str(attr.Address, j.Address)
	if rw := j.RequestedWindow; rw != nil {
		w.time(attr.RequestedStart, rw.Start)
		w.time(attr.RequestedEnd, rw.End)
	}
	w[attr.Status] = sAV(string(j.Status))
	w.str(attr.PreviousStatus, string(j.PreviousStatus))
	w[attr.Version] = iAV(j.Version)
	w.time(attr.CreatedAt, j.CreatedAt)
	w.time(attr.UpdatedAt, j.UpdatedAt)
	w.time(attr.CancelledAt, j.CancelledAt)
	w.str(attr.CancelledBy, j.CancelledBy)
	w.str(attr.Reason, j.CancelReason)
	if j.Assignment != nil {
		w[attr.AssignmentID] = sAV(j.Assignment.ID)
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
	w[attr.JobID] = sAV(a.JobID)
	w.str(attr.TechnicianID, a.TechnicianID)
	w.time(attr.ScheduledStart, a.ScheduledStart)
	w.time(attr.ScheduledEnd, a.ScheduledEnd)
	w[attr.Status] = sAV(string(a.Status))
	w[attr.Version] = iAV(a.Version)
	w.time(attr.CreatedAt, a.CreatedAt)
	w.time(attr.UpdatedAt, a.UpdatedAt)
	w.time(attr.CancelledAt, a.CancelledAt)
	w.str(attr.CancelledBy, a.CancelledBy)
	w.str(attr.Reason, a.CancelReason)
	return w
}
