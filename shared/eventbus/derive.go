// Package eventbus publishes the lifecycle events. Events are derived from the table's
// stream (the committed change), never sent beside the write, so a function that dies
// right after its write still has its event published. docs/events.md is the catalog.
// Items are read with shared/dynamo/attr's names and the domain's statuses, never with
// shared/dynamo itself, which would link the DynamoDB client into the publisher.
package eventbus

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
)

// Entry is one event to publish, derived from one stream record.
type Entry struct {
	Source     string
	DetailType string
	Detail     []byte
	Time       time.Time
	EventID    string
	// EntityID names the session or job, for logs.
	EntityID string
}

// image reads a stream image attribute by attribute. Accessing an attribute of the wrong
// type is an error, not a panic (aws-lambda-go's accessors panic).
type image struct {
	m   map[string]events.DynamoDBAttributeValue
	err error
}

func (im *image) fail(name, want string) {
	if im.err == nil {
		im.err = fmt.Errorf("attribute %q is not %s", name, want)
	}
}

func (im *image) str(name string) string {
	v, ok := im.m[name]
	if !ok || v.IsNull() {
		return ""
	}
	if v.DataType() != events.DataTypeString {
		im.fail(name, "a string")
		return ""
	}
	return v.String()
}

// num reads a number; ok is false when it is absent.
func (im *image) num(name string) (float64, bool) {
	v, present := im.m[name]
	if !present || v.IsNull() {
		return 0, false
	}
	if v.DataType() != events.DataTypeNumber {
		im.fail(name, "a number")
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Number(), 64)
	if err != nil {
		im.fail(name, "a number")
		return 0, false
	}
	return f, true
}

func (im *image) int(name string) int64 {
	v, ok := im.m[name]
	if !ok || v.IsNull() {
		return 0
	}
	if v.DataType() != events.DataTypeNumber {
		im.fail(name, "a number")
		return 0
	}
	n, err := strconv.ParseInt(v.Number(), 10, 64)
	if err != nil {
		im.fail(name, "an integer")
	}
	return n
}

func (im *image) time(name string) event.Time {
	s := im.str(name)
	if s == "" {
		return event.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		im.fail(name, "a timestamp")
	}
	return event.Time{Time: t}
}

func (im *image) sub(name string) *image {
	v, ok := im.m[name]
	if !ok || v.IsNull() {
		return nil
	}
	if v.DataType() != events.DataTypeMap {
		im.fail(name, "a map")
		return nil
	}
	return &image{m: v.Map()}
}

func (im *image) strings(name string) []string {
	v, ok := im.m[name]
	if !ok || v.IsNull() {
		return nil
	}
	switch v.DataType() {
	case events.DataTypeStringSet:
		return v.StringSet()
	case events.DataTypeList:
		var out []string
		for _, e := range v.List() {
			if e.DataType() != events.DataTypeString {
				im.fail(name, "a list of strings")
				return nil
			}
			out = append(out, e.String())
		}
		return out
	}
	im.fail(name, "a list of strings")
	return nil
}

// Derive turns one stream record into the event it stands for. ok is false for records
// that are not a published transition: removals, items of other types, inserts that are no
// create of the API (items loaded directly), modifications that leave the status unchanged
// other than by a transition that does so (Record), and those that reach a status no event
// announces (a session completed elsewhere). A record
// whose images cannot be read is an error.
func Derive(rec events.DynamoDBEventRecord) (e Entry, ok bool, err error) {
	nw, old := &image{m: rec.Change.NewImage}, &image{m: rec.Change.OldImage}
	kind, to, from := nw.str(attr.Type), nw.str(attr.Status), old.str(attr.Status)
	created := false
	switch rec.EventName {
	case string(events.DynamoDBOperationTypeModify):
	case string(events.DynamoDBOperationTypeInsert):
		// A create records its action, as a transition does; a loaded item does not.
		created = (kind == attr.TypeInterview && nw.str(attr.LastAction) == interview.ActionCreate) ||
			(kind == attr.TypeJob && nw.str(attr.LastAction) == job.ActionCreate)
		if !created {
			return Entry{}, false, nw.err
		}
	default:
		return Entry{}, false, nil
	}
	if err := firstErr(nw.err, old.err); err != nil {
		return Entry{}, false, err
	}
	if kind != attr.TypeInterview && kind != attr.TypeJob {
		return Entry{}, false, nil
	}
	// A write that leaves the status as it was is announced only when it is one of our
	// transitions that does so (a session's Record, a job's reassignment): it records the action and steps the version by
	// one. Any other change in place (another writer's, or a record whose version did not
	// move) is no event.
	if to == from && !created && (nw.int(attr.Version) != old.int(attr.Version)+1 || !staysPut(kind, nw.str(attr.LastAction))) {
		return Entry{}, false, firstErr(nw.err, old.err)
	}

	t := event.Transition{
		OccurredAt:     nw.time(attr.UpdatedAt),
		CorrelationID:  nw.str(attr.CorrelationID),
		Version:        nw.int(attr.Version),
		PreviousStatus: from,
		Status:         to,
		Reason:         nw.str(attr.Reason),
	}
	if a := nw.sub(attr.Actor); a != nil {
		t.Actor = event.Actor{Sub: a.str(attr.ActorSub), Roles: a.strings(attr.ActorRoles)}
		nw.err = firstErr(nw.err, a.err)
	}
	id := nw.str(attr.ID)
	t.EventID = event.ID(kind, id, t.Version)

	var detail any
	switch {
	case kind == attr.TypeInterview:
		if created {
			e.DetailType = event.TypeInterviewCreated
		} else {
			// The row of the lifecycle's table the write recorded (lastAction) names the
			// event, when the status change is one that row makes. A write of another
			// writer records no action of ours: a session it marks completed is not
			// announced.
			tr, ok := interview.TransitionFor(nw.str(attr.LastAction))
			if !ok || tr.Event == "" || tr.To != interview.Status(to) || !tr.Allows(interview.Status(from)) {
				return Entry{}, false, nil
			}
			e.DetailType = tr.Event
		}
		if e.DetailType != event.TypeInterviewCancelled {
			t.Reason = ""
		}
		d := event.Interview{Transition: t, SessionID: id, OwnerID: nw.str(attr.OwnerID)}
		switch e.DetailType {
		case event.TypeInterviewCreated:
			d.Title = nw.str(attr.Title)
		case event.TypeInterviewCompleted:
			if score, ok := nw.num(attr.Score); ok {
				d.Score = &score
			}
		case event.TypeInterviewProgressRecorded:
			if score, ok := nw.num(attr.Score); ok {
				d.Score = &score
			}
			if progress, ok := nw.num(attr.Progress); ok {
				d.Progress = &progress
			}
			d.MessageID = nw.str(attr.LastMessageID)
		case event.TypeInterviewPaused:
			if at := nw.time(attr.ResumeAt); !at.IsZero() {
				d.ResumeAt = &at
			}
		}
		detail = d
	case kind == attr.TypeJob && created:
		e.DetailType = event.TypeJobCreated
		t.Reason = ""
		detail = event.Job{Transition: t, JobID: id, Title: nw.str(attr.Title), CustomerID: nw.str(attr.CustomerID)}
	case kind == attr.TypeJob:
		// As for sessions: the row the write recorded names the event, when the status
		// change is one that row makes.
		tr, ok := job.TransitionFor(nw.str(attr.LastAction))
		if !ok || tr.Event == "" || tr.To != job.Status(to) || !tr.Allows(job.Status(from)) {
			return Entry{}, false, nil
		}
		e.DetailType = tr.Event
		j := event.Job{Transition: t, JobID: id}
		if e.DetailType != event.TypeJobCancelled {
			// The assignment the write made or concerns, and the technician a reassignment
			// took the job from (the job records both: jobs_assign.go).
			if b := nw.sub(attr.Booked); b != nil {
				j.Booked = &event.Booking{ID: b.str(attr.ID), TechnicianID: b.str(attr.TechnicianID),
					ScheduledStart: b.time(attr.ScheduledStart), ScheduledEnd: b.time(attr.ScheduledEnd)}
				nw.err = firstErr(nw.err, b.err)
			}
			switch e.DetailType {
			case event.TypeJobAssigned:
				j.UnassignedTechnicianID = nw.str(attr.UnassignedTechnicianID)
			case event.TypeJobRescheduled:
				if f := nw.sub(attr.RescheduledFrom); f != nil {
					j.RescheduledFrom = &event.Window{Start: f.time(attr.RescheduledFromStart), End: f.time(attr.RescheduledFromEnd)}
					nw.err = firstErr(nw.err, f.err)
				}
			}
			t.Reason = ""
			j.Transition = t
			detail = j
			break
		}
		if a := nw.sub(attr.CancelledAssignment); a != nil {
			j.Assignment = &event.Assignment{
				ID:             a.str(attr.ID),
				TechnicianID:   a.str(attr.TechnicianID),
				ScheduledStart: a.time(attr.ScheduledStart),
				ScheduledEnd:   a.time(attr.ScheduledEnd),
				PreviousStatus: a.str(attr.Status),
			}
			nw.err = firstErr(nw.err, a.err)
		}
		detail = j
	default:
		return Entry{}, false, nil
	}
	if nw.err != nil {
		return Entry{}, false, nw.err
	}
	if id == "" || t.Version == 0 || t.OccurredAt.IsZero() || t.Actor.Sub == "" {
		// Every transition writes these in the same write as the status; without them the
		// record is not one of ours to announce, and must not be published half-empty.
		return Entry{}, false, fmt.Errorf("%s transition record without id, version, updatedAt or actor", kind)
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return Entry{}, false, err
	}
	e.Source = event.Types[e.DetailType]
	e.Detail, e.Time, e.EventID, e.EntityID = b, t.OccurredAt.Time, t.EventID, id
	return e, true, nil
}

// staysPut reports whether action is a transition of kind's lifecycle that leaves the
// status as it is.
func staysPut(kind, action string) bool {
	switch kind {
	case attr.TypeInterview:
		t, ok := interview.TransitionFor(action)
		return ok && t.Allows(t.To)
	case attr.TypeJob:
		t, ok := job.TransitionFor(action)
		return ok && t.Allows(t.To)
	}
	return false
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
