package live

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/job"
)

// Audience is who may receive an event.
type Audience struct {
	// Owner, when set, is the one caller whose connections receive it (interview events:
	// the session's owner).
	Owner string
	// JobReaders: the connections of callers who may read jobs (job.Authorize: Dispatcher
	// or Admin) receive it.
	JobReaders bool
}

// Admits reports whether connection c is entitled to the audience's events.
func (a Audience) Admits(c Connection) bool {
	switch {
	case a.Owner != "":
		return c.Sub == a.Owner
	case a.JobReaders:
		return job.Authorize(c.Actor()) == nil
	default:
		return false
	}
}

// Message is what a connection receives for an event: the event's detail as published
// on the bus, with its eventId, detail-type and the entity it is about, at which version.
// Delivery is at least once and may reorder: a client deduplicates on EventID and keeps,
// per entity, the highest Version it has seen.
type Message struct {
	// Type is the event's detail-type (InterviewPaused, JobCancelled, …).
	Type    string `json:"type"`
	EventID string `json:"eventId"`
	// Entity is "interview" or "job"; EntityID its id (sessionId or jobId).
	Entity   string `json:"entity"`
	EntityID string `json:"entityId"`
	// Version is the entity's version after the transition.
	Version int64           `json:"version"`
	Detail  json.RawMessage `json:"detail"`
}

// Entity kinds of a Message.
const (
	EntityInterview = "interview"
	EntityJob       = "job"
)

// errNoOwner: an interview event without an owner cannot be routed to anyone.
var errNoOwner = errors.New("interview event has no ownerId")

// Route decodes an event (its detail-type and detail, as EventBridge delivers them) and
// returns who may receive it and the message they receive.
func Route(detailType string, detail json.RawMessage) (Audience, Message, error) {
	d, err := event.Decode(detailType, detail)
	if err != nil {
		return Audience{}, Message{}, err
	}
	m := Message{Type: detailType, Detail: detail}
	var a Audience
	var t event.Transition
	switch d := d.(type) {
	case *event.Interview:
		if d.OwnerID == "" {
			return Audience{}, Message{}, errNoOwner
		}
		a, t, m.Entity, m.EntityID = Audience{Owner: d.OwnerID}, d.Transition, EntityInterview, d.SessionID
	case *event.Job:
		a, t, m.Entity, m.EntityID = Audience{JobReaders: true}, d.Transition, EntityJob, d.JobID
	}
	if t.EventID == "" || m.EntityID == "" {
		return Audience{}, Message{}, fmt.Errorf("%s event without an eventId or entity id", detailType)
	}
	m.EventID, m.Version = t.EventID, t.Version
	return a, m, nil
}
