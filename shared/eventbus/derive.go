// Package eventbus publishes the lifecycle events. Events are derived from the table's
// stream (the committed change), never sent beside the write, so a function that dies
// right after its write still has its event published. docs/events.md is the catalog.
package eventbus

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/event"
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

func (im *image) time(name string) time.Time {
	s := im.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		im.fail(name, "a timestamp")
	}
	return t
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
// that are not a published transition: inserts and removals, items of other types, and
// modifications that leave the status unchanged or reach a status no event announces
// (a session completed elsewhere). A record whose images cannot be read is an error.
func Derive(rec events.DynamoDBEventRecord) (e Entry, ok bool, err error) {
	if rec.EventName != string(events.DynamoDBOperationTypeModify) {
		return Entry{}, false, nil
	}
	nw, old := &image{m: rec.Change.NewImage}, &image{m: rec.Change.OldImage}
	kind, to, from := nw.str("type"), nw.str("status"), old.str("status")
	if err := firstErr(nw.err, old.err); err != nil {
		return Entry{}, false, err
	}
	if to == from || (kind != "interview" && kind != "job") {
		return Entry{}, false, nil
	}

	t := event.Transition{
		OccurredAt:     nw.time("updatedAt"),
		CorrelationID:  nw.str("correlationId"),
		Version:        nw.int("version"),
		PreviousStatus: from,
		Status:         to,
		Reason:         nw.str("cancelReason"),
	}
	if a := nw.sub("actor"); a != nil {
		t.Actor = event.Actor{Sub: a.str("sub"), Roles: a.strings("roles")}
		nw.err = firstErr(nw.err, a.err)
	}
	id := nw.str("id")
	t.EventID = event.ID(kind, id, t.Version)

	var detail any
	switch {
	case kind == "interview":
		switch {
		case to == "cancelled":
			e.DetailType = event.TypeInterviewCancelled
		case to == "paused":
			e.DetailType = event.TypeInterviewPaused
		case to == "active" && from == "paused":
			e.DetailType = event.TypeInterviewResumed
		default:
			return Entry{}, false, nil
		}
		if e.DetailType != event.TypeInterviewCancelled {
			t.Reason = ""
		}
		detail = event.Interview{Transition: t, SessionID: id, OwnerID: nw.str("ownerId")}
	case kind == "job" && to == "Cancelled":
		e.DetailType = event.TypeJobCancelled
		j := event.Job{Transition: t, JobID: id}
		if a := nw.sub("cancelledAssignment"); a != nil {
			j.Assignment = &event.Assignment{
				ID:             a.str("id"),
				TechnicianID:   a.str("technicianId"),
				ScheduledStart: a.time("scheduledStart"),
				ScheduledEnd:   a.time("scheduledEnd"),
				PreviousStatus: a.str("status"),
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
	e.Detail, e.Time, e.EventID, e.EntityID = b, t.OccurredAt, t.EventID, id
	return e, true, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
