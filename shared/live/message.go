package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Audience is who may receive an event.
type Audience struct {
	// Owner, when set, is the one caller whose connections receive it (interview events:
	// the session's owner; a job event's technician: Address's deliveries).
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

// Message is what a connection receives for an event: the fields of the event's detail
// that MessageFields lists for its type, with its eventId, detail-type and the entity it
// is about, at which version. Delivery is at least once and may reorder: a client
// deduplicates on EventID and keeps, per entity, the highest Version it has seen.
type Message struct {
	// Type is the event's detail-type (InterviewPaused, JobCancelled, …).
	Type    string `json:"type"`
	EventID string `json:"eventId"`
	// Entity is "interview" or "job"; EntityID its id (sessionId or jobId).
	Entity   string `json:"entity"`
	EntityID string `json:"entityId"`
	// Version is the entity's version after the transition.
	Version int64 `json:"version"`
	// Detail holds the detail's fields of MessageFields[Type], and nothing else.
	Detail json.RawMessage `json:"detail"`
	// AllowedActions are what the message's recipients may do to the entity now, so a
	// screen updates its buttons without a request: the same for one audience (an
	// interview's owner; for a job, any caller who may read jobs, all of whom may act
	// alike; a technician a job event concerns gets a message of their own: Address).
	AllowedActions []string `json:"allowedActions"`
}

// MessageFields lists, per detail-type, the fields of an event's detail that reach
// browsers (a dotted name is a field of an object field). Nothing else does: not the
// actor's roles, not the correlation id, and no field later added to an event until it
// is listed here (and in schemas/live-message.json, which tests hold to this list).
var MessageFields = map[string][]string{
	// A creation left no status: it has no previousStatus, and says the new session's title.
	event.TypeInterviewCreated:   {"eventId", "occurredAt", "actor.sub", "version", "status", "sessionId", "ownerId", "title"},
	event.TypeInterviewCancelled: slices.Concat(interviewFields, []string{"reason"}),
	event.TypeInterviewCompleted: slices.Concat(interviewFields, []string{"score"}),
	// A pause until a time says when the session resumes itself.
	event.TypeInterviewPaused:  slices.Concat(interviewFields, []string{"resumeAt"}),
	event.TypeInterviewResumed: interviewFields,
	// How far the session has come, and which message it recorded; never the message.
	event.TypeInterviewProgressRecorded: slices.Concat(interviewFields, []string{"progress", "score", "messageId"}),
	// A creation left no status, as for sessions; a new job is known by its title and customer.
	event.TypeJobCreated: {"eventId", "occurredAt", "actor.sub", "version", "status", "jobId", "title", "customerId"},
	event.TypeJobAssigned: slices.Concat(transitionFields, []string{"jobId", "booked.id", "booked.technicianId", "booked.scheduledStart",
		"booked.scheduledEnd", "unassignedTechnicianId"}),
	event.TypeJobRescheduled:      slices.Concat(jobStepFields, []string{"rescheduledFrom.start", "rescheduledFrom.end"}),
	event.TypeAssignmentConfirmed: jobStepFields,
	event.TypeJobStarted:          jobStepFields,
	event.TypeJobCompleted:        jobStepFields,
	event.TypeJobCancelled: slices.Concat(transitionFields, []string{"reason", "jobId",
		"assignment.id", "assignment.technicianId", "assignment.scheduledStart", "assignment.scheduledEnd", "assignment.previousStatus"}),
}

var (
	// transitionFields are what every transition's message says: which event, when, by
	// whom, from which status to which.
	transitionFields = []string{"eventId", "occurredAt", "actor.sub", "version", "previousStatus", "status"}
	interviewFields  = slices.Concat(transitionFields, []string{"sessionId", "ownerId"})
	// jobStepFields are a technician's transition's: the job and the assignment it concerns.
	jobStepFields = slices.Concat(transitionFields, []string{"jobId", "booked.id", "booked.technicianId", "booked.scheduledStart", "booked.scheduledEnd"})
)

// jobReader stands for any recipient of a job's events: a caller who may read jobs.
var jobReader = lifecycle.Actor{Roles: []string{job.RoleDispatcher}}

// Entity kinds of a Message.
const (
	EntityInterview = "interview"
	EntityJob       = "job"
)

// errNoOwner: an interview event without an owner cannot be routed to anyone.
var errNoOwner = errors.New("interview event has no ownerId")

// Address decodes an event (its detail-type and detail, as EventBridge delivers them), once,
// and returns who may receive it and the message they receive, and, for a job event, the
// deliveries the technicians it concerns are owed besides (concerned).
func Address(detailType string, detail json.RawMessage) (Audience, Message, []Delivery, error) {
	d, err := event.Decode(detailType, detail)
	if err != nil {
		return Audience{}, Message{}, nil, err
	}
	fields, ok := MessageFields[detailType]
	if !ok {
		return Audience{}, Message{}, nil, fmt.Errorf("%w %q: no message fields listed", event.ErrUnknownType, detailType)
	}
	projected, err := project(detail, fields)
	if err != nil {
		return Audience{}, Message{}, nil, fmt.Errorf("%s: %w", detailType, err)
	}
	m := Message{Type: detailType, Detail: projected}
	var a Audience
	var t event.Transition
	var jobEvent *event.Job
	switch d := d.(type) {
	case *event.Interview:
		if d.OwnerID == "" {
			return Audience{}, Message{}, nil, errNoOwner
		}
		a, t, m.Entity, m.EntityID = Audience{Owner: d.OwnerID}, d.Transition, EntityInterview, d.SessionID
		owner := lifecycle.Actor{Sub: d.OwnerID}
		m.AllowedActions = interview.AllowedActions(interview.Session{OwnerID: d.OwnerID, Status: interview.Status(d.Status)}, owner)
	case *event.Job:
		a, t, m.Entity, m.EntityID = Audience{JobReaders: true}, d.Transition, EntityJob, d.JobID
		m.AllowedActions = job.AllowedActions(jobState(detailType, d), jobReader)
		jobEvent = d
	}
	if t.EventID == "" || m.EntityID == "" {
		return Audience{}, Message{}, nil, fmt.Errorf("%s event without an eventId or entity id", detailType)
	}
	m.EventID, m.Version = t.EventID, t.Version
	var more []Delivery
	if jobEvent != nil {
		more = concerned(detailType, jobEvent, m)
	}
	return a, m, more, nil
}

// Delivery is what a job event owes one technician it concerns: a message on each of
// their connections (Audience), with what that connection's caller may do now (For).
type Delivery struct {
	Audience Audience
	Message  Message
	// state is the job as the event leaves it, from which For works out the actions.
	state job.Job
}

// For is the message for c, one of the technician's connections: Message with what c's
// caller may do to the job now, by c's own roles (a technician who also dispatches may
// do what both roles may).
func (d Delivery) For(c Connection) Message {
	m := d.Message
	m.AllowedActions = job.AllowedActions(d.state, c.Actor())
	return m
}

// concerned returns what job event j owes, beside its readers (Address's audience), the
// technicians it concerns: the one booked (or whose booking it confirms, starts, completes
// or moves), the one a reassignment took the job from, and the one whose booking a cancel
// ended. Each gets m, the readers' message, with what they may do now (Delivery.For).
// Interview events concern no one else.
func concerned(detailType string, j *event.Job, m Message) []Delivery {
	var techs []string
	add := func(sub string) {
		if sub != "" && !slices.Contains(techs, sub) {
			techs = append(techs, sub)
		}
	}
	state := jobState(detailType, j)
	if b := j.Booked; b != nil {
		add(b.TechnicianID)
	}
	add(j.UnassignedTechnicianID)
	if a := j.Assignment; a != nil {
		add(a.TechnicianID)
	}
	var out []Delivery
	for _, sub := range techs {
		out = append(out, Delivery{Audience: Audience{Owner: sub}, Message: m, state: state})
	}
	return out
}

// jobState is the job as a job event leaves it, so far as what anyone may do to it next
// depends on it: its status, and the assignment the event names, in the status the event
// leaves it.
func jobState(detailType string, j *event.Job) job.Job {
	state := job.Job{Status: job.Status(j.Status)}
	if b := j.Booked; b != nil {
		st := job.Pending
		switch detailType {
		case event.TypeAssignmentConfirmed, event.TypeJobStarted, event.TypeJobCompleted:
			st = job.Confirmed
		}
		state.Assignment = &job.Assignment{ID: b.ID, TechnicianID: b.TechnicianID, Status: st}
	}
	return state
}

// project returns the fields of detail that fields names, in a JSON object of the same
// shape; a named field the detail lacks is left out.
func project(detail json.RawMessage, fields []string) (json.RawMessage, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(detail, &in); err != nil {
		return nil, fmt.Errorf("decode detail: %w", err)
	}
	out := map[string]any{}
	nested := map[string][]string{}
	for _, f := range fields {
		if parent, child, ok := strings.Cut(f, "."); ok {
			nested[parent] = append(nested[parent], child)
		} else if v, ok := in[f]; ok {
			out[f] = v
		}
	}
	for parent, children := range nested {
		v, ok := in[parent]
		if !ok || string(v) == "null" {
			continue
		}
		sub, err := project(v, children)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", parent, err)
		}
		out[parent] = sub
	}
	return json.Marshal(out)
}
