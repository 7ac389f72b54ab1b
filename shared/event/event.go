// Package event is the contract of the events the lifecycle API publishes on EventBridge:
// sources, detail-types, the detail of each, and functions to decode them. Consumers
// import it; it has no AWS imports. docs/events.md is the catalog and schemas/ holds a
// JSON Schema per detail-type.
//
// Delivery is at least once: the same event may arrive more than once, always with the
// same EventID. Consumers deduplicate on EventID and may order one entity's events by
// Version.
package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Sources.
const (
	SourceInterviews = "lifecycle.interviews"
	SourceJobs       = "lifecycle.jobs"
)

// Detail-types.
const (
	TypeInterviewCreated   = "InterviewCreated"
	TypeInterviewCancelled = "InterviewCancelled"
	TypeInterviewCompleted = "InterviewCompleted"
	TypeInterviewPaused    = "InterviewPaused"
	TypeInterviewResumed   = "InterviewResumed"
	// TypeInterviewProgressRecorded announces one recorded interaction: how far the
	// session has come (progress, score), not what was said.
	TypeInterviewProgressRecorded = "InterviewProgressRecorded"
	TypeJobCreated                = "JobCreated"
	TypeJobAssigned               = "JobAssigned"
	TypeJobRescheduled            = "JobRescheduled"
	TypeAssignmentConfirmed       = "AssignmentConfirmed"
	TypeJobStarted                = "JobStarted"
	TypeJobCompleted              = "JobCompleted"
	TypeJobCancelled              = "JobCancelled"
)

// Types maps each detail-type to its source.
var Types = map[string]string{
	TypeInterviewCreated:          SourceInterviews,
	TypeInterviewCancelled:        SourceInterviews,
	TypeInterviewCompleted:        SourceInterviews,
	TypeInterviewPaused:           SourceInterviews,
	TypeInterviewResumed:          SourceInterviews,
	TypeInterviewProgressRecorded: SourceInterviews,
	TypeJobCreated:                SourceJobs,
	TypeJobAssigned:               SourceJobs,
	TypeJobRescheduled:            SourceJobs,
	TypeAssignmentConfirmed:       SourceJobs,
	TypeJobStarted:                SourceJobs,
	TypeJobCompleted:              SourceJobs,
	TypeJobCancelled:              SourceJobs,
}

// Time is an instant in a detail, written as the API writes its timestamps
// (lifecycle.FormatTime): UTC to the millisecond, always three digits
// ("2026-11-21T19:58:00.000Z"). So a detail's occurredAt is its item's updatedAt, string
// for string, and a consumer may compare and sort them as strings. It reads any RFC 3339
// time.
type Time struct{ time.Time }

// MarshalJSON writes t as lifecycle.FormatTime does.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + lifecycle.FormatTime(t.Time) + `"`), nil
}

// Actor is who caused the transition, from the request's verified token.
type Actor struct {
	Sub   string   `json:"sub"`
	Roles []string `json:"roles"`
}

// MarshalJSON writes no roles as [], never null, as the schemas require.
func (a Actor) MarshalJSON() ([]byte, error) {
	type plain Actor
	if a.Roles == nil {
		a.Roles = []string{}
	}
	return json.Marshal(plain(a))
}

// Transition is what every detail carries.
type Transition struct {
	// EventID is the same on every delivery of this event: derived from the entity, its
	// id and the version the transition produced (see ID).
	EventID string `json:"eventId"`
	// OccurredAt is when the transition was written (not when it was published).
	OccurredAt Time `json:"occurredAt"`
	// CorrelationID is the correlation id of the request that caused it.
	CorrelationID string `json:"correlationId,omitempty"`
	Actor         Actor  `json:"actor"`
	// Version is the entity's version after the transition; it increases by one per
	// transition, so it orders one entity's events.
	Version int64 `json:"version"`
	// PreviousStatus is the status the transition left; a creation has none.
	PreviousStatus string `json:"previousStatus,omitempty"`
	Status         string `json:"status"`
	// Reason is the caller's reason, when one was given.
	Reason string `json:"reason,omitempty"`
}

// Interview is the detail of InterviewCreated, InterviewCancelled, InterviewCompleted,
// InterviewPaused, InterviewResumed and InterviewProgressRecorded.
type Interview struct {
	Transition
	SessionID string `json:"sessionId"`
	// OwnerID is the sub of the session's owner.
	OwnerID string `json:"ownerId"`
	// Title is the session's title; InterviewCreated carries it (a new session is known by
	// nothing else yet).
	Title string `json:"title,omitempty"`
	// Score is the session's score: InterviewCompleted carries the final one,
	// InterviewProgressRecorded the one so far.
	Score *float64 `json:"score,omitempty"`
	// Progress is how far the session has come (the fraction done, 0 to 1);
	// InterviewProgressRecorded carries it.
	Progress *float64 `json:"progress,omitempty"`
	// MessageID names the message an InterviewProgressRecorded recorded (its text stays in
	// the session's recentMessages, which GET /interviews/{id} returns to its owner).
	MessageID string `json:"messageId,omitempty"`
	// ResumeAt is when a session InterviewPaused paused until a time resumes itself (the
	// resume-scheduler consumer plans the resume from it); absent for a pause without one.
	ResumeAt *Time `json:"resumeAt,omitempty"`
}

// Job is the detail of the job events (JobCreated, JobAssigned, JobRescheduled,
// AssignmentConfirmed, JobStarted, JobCompleted, JobCancelled).
type Job struct {
	Transition
	JobID string `json:"jobId"`
	// Booked is the assignment a JobAssigned made, the one a JobRescheduled moved (over its
	// new window), or the one AssignmentConfirmed, JobStarted and JobCompleted concern: the
	// technician and the window.
	Booked *Booking `json:"booked,omitempty"`
	// RescheduledFrom is the window a JobRescheduled moved the booking from.
	RescheduledFrom *Window `json:"rescheduledFrom,omitempty"`
	// UnassignedTechnicianID names the technician a reassignment took the job from.
	UnassignedTechnicianID string `json:"unassignedTechnicianId,omitempty"`
	// Title and CustomerID say which job; JobCreated carries them (a new job is known by
	// nothing else yet). The address stays with the job (GET /jobs/{id}).
	Title      string `json:"title,omitempty"`
	CustomerID string `json:"customerId,omitempty"`
	// Assignment is the assignment cancelled with the job, absent when it had none.
	Assignment *Assignment `json:"assignment,omitempty"`
}

// Assignment is a cancelled assignment as a JobCancelled event reports it.
type Assignment struct {
	ID             string `json:"id"`
	TechnicianID   string `json:"technicianId"`
	ScheduledStart Time   `json:"scheduledStart"`
	ScheduledEnd   Time   `json:"scheduledEnd"`
	// PreviousStatus is the status it had before the cancel (Pending or Confirmed).
	PreviousStatus string `json:"previousStatus"`
}

// Window is a span of time, [Start, End).
type Window struct {
	Start Time `json:"start"`
	End   Time `json:"end"`
}

// Booking is an assignment as a job event's booked reports it: the one a JobAssigned made
// or a JobRescheduled moved (Pending), or the one AssignmentConfirmed, JobStarted and
// JobCompleted concern.
type Booking struct {
	ID             string `json:"id"`
	TechnicianID   string `json:"technicianId"`
	ScheduledStart Time   `json:"scheduledStart"`
	ScheduledEnd   Time   `json:"scheduledEnd"`
}

// namespace is the UUID namespace event ids are derived in.
var namespace = [16]byte{0x6c, 0x69, 0x66, 0x65, 0x63, 0x79, 0x63, 0x6c, 0x65, 0x2d, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x73}

// ID returns the deterministic event id of the transition that brought entity id (kind
// "interview" or "job") to version: a name-based (version 5) UUID, so a redelivered or
// republished event keeps its id.
func ID(kind, id string, version int64) string {
	return lifecycle.NameUUID(namespace, kind+"/"+id+"/"+strconv.FormatInt(version, 10))
}

// Envelope is an EventBridge event as rule targets (an SQS queue, a Lambda function)
// receive it.
type Envelope struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       time.Time       `json:"time"`
	Account    string          `json:"account"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// ErrUnknownType is returned for a detail-type this package does not define.
var ErrUnknownType = errors.New("unknown detail-type")

// Decode decodes a detail of detailType: *Interview for the interview types, *Job for the
// job types. Unknown fields are ignored (the contract grows by adding fields).
func Decode(detailType string, detail []byte) (any, error) {
	var out any
	switch detailType {
	case TypeInterviewCreated, TypeInterviewCancelled, TypeInterviewCompleted, TypeInterviewPaused, TypeInterviewResumed,
		TypeInterviewProgressRecorded:
		out = &Interview{}
	case TypeJobCreated, TypeJobAssigned, TypeJobRescheduled, TypeAssignmentConfirmed, TypeJobStarted, TypeJobCompleted, TypeJobCancelled:
		out = &Job{}
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownType, detailType)
	}
	if err := json.Unmarshal(detail, out); err != nil {
		return nil, fmt.Errorf("decode %s: %w", detailType, err)
	}
	return out, nil
}

// DecodeEnvelope decodes an EventBridge event (for example an SQS message body from a rule
// target) and its detail.
func DecodeEnvelope(body []byte) (Envelope, any, error) {
	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return env, nil, fmt.Errorf("decode event: %w", err)
	}
	if want, ok := Types[env.DetailType]; ok && want != env.Source {
		return env, nil, fmt.Errorf("detail-type %s from source %q, want %q", env.DetailType, env.Source, want)
	}
	d, err := Decode(env.DetailType, env.Detail)
	return env, d, err
}
