// Package interview is the interview-session domain: the session record, its statuses and
// the legal transitions between them. It has no AWS imports.
package interview

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Status is an interview session's lifecycle status.
type Status string

const (
	Active    Status = "active"
	Paused    Status = "paused"
	Completed Status = "completed"
	Cancelled Status = "cancelled"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{Active, Paused, Completed, Cancelled}

// ParseStatus returns the status named s, or false.
func ParseStatus(s string) (Status, bool) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// Terminal reports whether no transition leaves s.
func (s Status) Terminal() bool { return s == Completed || s == Cancelled }

// RetryPolicy is the session's optional retry configuration (seed 001).
type RetryPolicy struct {
	MinCooldownHours   *float64
	AutoSuggestIfBelow *float64
}

// Session is an interview session. OwnerID is the sub of the user who created it; only
// that user may act on it.
type Session struct {
	ID                string
	OwnerID           string
	TopicIDs          []string
	TopicLabels       []string
	Title             string
	Progress          float64
	Score             float64
	TargetScore       *float64
	CreatedAt         time.Time
	UpdatedAt         time.Time
	LastInteractionAt time.Time
	InterviewerID     string
	ConversationID    string
	Status            Status
	RetryPolicy       *RetryPolicy
	Labels            []string
	Notes             string
	Language          string
	Difficulty        int
	// RecentMessages is the conversation history, an opaque JSON array owned by the
	// conversation service; transitions never change it. A store returns it only when it
	// is a JSON document (the HTTP layer writes it out as it is).
	RecentMessages json.RawMessage
	Version        int64
	// PreviousStatus is the status the last transition left.
	PreviousStatus Status

	CancelledAt  time.Time
	CancelledBy  string
	CancelReason string
	PausedAt     time.Time
	ResumedAt    time.Time
	CompletedAt  time.Time
	// ResumeAt is when a paused session resumes itself (a pause until a time); zero when
	// it does not. Only a pause sets it; every other transition clears it.
	ResumeAt time.Time
}

// Who says who may take a transition: the session's owner, a service whose token grants a
// scope, or either.
type Who struct {
	// Owner: the user who created the session.
	Owner bool
	// Scope: any caller whose token grants it (a service, with a client-credentials token).
	Scope string
}

// ScopeProgress is the scope a service's token needs to record a session's progress and to
// complete it (the conversation service). In Cognito it is the resource server "lifecycle"'s
// scope "interviews.progress" (docs/operations.md).
const ScopeProgress = "lifecycle/interviews.progress"

// ScopeScheduler is the scope of the timer that resumes a session paused until a time: the
// resume-scheduled function acts as SchedulerActor. No token carries it (no route takes
// ScheduledResume; EventBridge Scheduler invokes the function).
const ScopeScheduler = "lifecycle/internal.scheduler"

// SchedulerActor is who a scheduled resume is recorded as having been made by.
var SchedulerActor = lifecycle.Actor{Sub: "scheduler", Scopes: []string{ScopeScheduler}}

// Transition is one row of the interview lifecycle: the rule (legal source states and
// target), who may take it, and which of the session's fields it stamps.
type Transition struct {
	lifecycle.Rule[Status]
	// Who may take it.
	Who Who
	// StampedAt names the timestamp field the transition sets to the time of the write.
	StampedAt string
	// StampedBy names the field that records the actor's sub, if any.
	StampedBy string
	// TakesReason reports whether the transition records a caller-given reason.
	TakesReason bool
	// TakesScore reports whether the transition records a caller-given final score.
	TakesScore bool
	// TakesInteraction reports whether the transition records one interaction of the
	// conversation: a message appended to the history, progress and score.
	TakesInteraction bool
	// TakesResumeAt reports whether the transition takes a time at which the session
	// resumes itself (a pause until a time).
	TakesResumeAt bool
	// ExpectsVersion reports whether the transition applies only to the version its
	// request names (a scheduled resume: the version its pause produced), so that a stale
	// request is refused with ErrStale however legal the transition is.
	ExpectsVersion bool
	// Event is the detail-type that announces the transition (shared/event): the stream's
	// publisher derives it from the action the write records.
	Event string
	// Endpoint is where it is served; the route table is made from it.
	lifecycle.Endpoint
	// Refusals are its routes' messages for a missing session and an illegal status.
	Refusals lifecycle.Refusals
}

// The interview lifecycle. No route leaves a terminal status (completed, cancelled).
var (
	Cancel = Transition{
		Rule:        lifecycle.Rule[Status]{Action: "cancel", From: []Status{Active, Paused}, To: Cancelled},
		Who:         Who{Owner: true},
		StampedAt:   "cancelledAt",
		StampedBy:   "cancelledBy",
		TakesReason: true,
		Event:       event.TypeInterviewCancelled,
		// Seed 000's path (/interview/{id}/cancel) is served too.
		Endpoint: lifecycle.Endpoint{Function: "cancel-interview", Paths: []string{"/interviews/{id}/cancel", "/interview/{id}/cancel"}},
		Refusals: lifecycle.Refusals{
			NotFound: "Interview session not found",
			ByStatus: map[string]string{string(Completed): "Cannot cancel a completed interview", string(Cancelled): "Interview is already cancelled"},
			Default:  "Interview cannot be cancelled",
		},
	}
	Pause = Transition{
		Rule:          lifecycle.Rule[Status]{Action: "pause", From: []Status{Active}, To: Paused},
		Who:           Who{Owner: true},
		StampedAt:     "pausedAt",
		TakesResumeAt: true,
		Event:         event.TypeInterviewPaused,
		Endpoint:      lifecycle.Endpoint{Function: "pause-interview", Paths: []string{"/interviews/{id}/pause"}},
		// Seed 001: a session that does not exist or is not active is a 404 with one message.
		Refusals: lifecycle.Refusals{NotFound: "Failed to pause interview", Default: "Failed to pause interview", AsNotFound: true},
	}
	Resume = Transition{
		Rule:      lifecycle.Rule[Status]{Action: "resume", From: []Status{Paused}, To: Active},
		Who:       Who{Owner: true},
		StampedAt: "resumedAt",
		Event:     event.TypeInterviewResumed,
		Endpoint:  lifecycle.Endpoint{Function: "resume-interview", Paths: []string{"/interviews/{id}/resume"}},
		Refusals:  lifecycle.Refusals{NotFound: "Failed to resume interview", Default: "Failed to resume interview", AsNotFound: true},
	}
	// Complete ends a session that is under way: from active only (a paused session is
	// resumed first, as its answers are), optionally with its final score; by its owner or
	// by the conversation service that ran it.
	Complete = Transition{
		Rule:       lifecycle.Rule[Status]{Action: "complete", From: []Status{Active}, To: Completed},
		Who:        Who{Owner: true, Scope: ScopeProgress},
		StampedAt:  "completedAt",
		TakesScore: true,
		Event:      event.TypeInterviewCompleted,
		Endpoint:   lifecycle.Endpoint{Function: "complete-interview", Paths: []string{"/interviews/{id}/complete"}},
		Refusals: lifecycle.Refusals{
			NotFound: "Interview session not found",
			ByStatus: map[string]string{
				string(Completed): "Interview is already completed",
				string(Cancelled): "Cannot complete a cancelled interview",
				string(Paused):    "Cannot complete a paused interview; resume it first",
			},
			Default: "Interview cannot be completed",
		},
	}
)

// Record records one interaction of the conversation (an answer, a question): only while
// the session is active, so an answer racing a pause can never land after it. Its status
// stays active; the write is a transition like the others (version, lastAction, the
// condition on the status), and its event says how far the session has come.
var Record = Transition{
	Rule:             lifecycle.Rule[Status]{Action: "record", From: []Status{Active}, To: Active},
	Who:              Who{Scope: ScopeProgress},
	StampedAt:        "lastInteractionAt",
	TakesInteraction: true,
	Event:            event.TypeInterviewProgressRecorded,
	Endpoint:         lifecycle.Endpoint{Function: "record-interaction", Paths: []string{"/interviews/{id}/interactions"}},
	Refusals: lifecycle.Refusals{
		NotFound: "Interview session not found",
		ByStatus: map[string]string{
			string(Paused):    "Interview is paused; resume it to record answers",
			string(Completed): "Interview is already completed",
			string(Cancelled): "Interview is cancelled",
		},
		Default: "Interview is not active",
	},
}

// ScheduledResume is the resume a pause until a time asked for, made at that time by the
// timer (EventBridge Scheduler invokes resume-scheduled; no route serves it). It applies
// only to the version the pause produced: a session resumed, cancelled or paused again
// meanwhile is left as it is (ErrStale), so a stale timer never resumes a later pause.
var ScheduledResume = Transition{
	Rule:           lifecycle.Rule[Status]{Action: "scheduled-resume", From: []Status{Paused}, To: Active},
	Who:            Who{Scope: ScopeScheduler},
	StampedAt:      "resumedAt",
	ExpectsVersion: true,
	Event:          event.TypeInterviewResumed,
	Endpoint:       lifecycle.Endpoint{Function: "resume-scheduled"},
	Refusals:       lifecycle.Refusals{NotFound: "Interview session not found", Default: "Interview is not paused"},
}

// Transitions lists every interview transition.
var Transitions = []Transition{Cancel, Pause, Resume, Complete, Record, ScheduledResume}

// ErrStale: a transition that expects a version (ScheduledResume) met a session that has
// moved on since; nothing is written.
var ErrStale = errors.New("the session has changed since the request was made")

// Bounds of a pause's resumeAt: at least MinResumeLead after the pause (a store may be
// given a shorter lead for tests: ResumeBounds), at most MaxResumeHorizon.
const (
	MinResumeLead    = time.Minute
	MaxResumeHorizon = 90 * 24 * time.Hour
)

// ResumeBounds are the bounds a pause's resumeAt must fall within, from the time of the
// request.
type ResumeBounds struct{ MinLead, MaxHorizon time.Duration }

// DefaultResumeBounds are the product's bounds.
var DefaultResumeBounds = ResumeBounds{MinLead: MinResumeLead, MaxHorizon: MaxResumeHorizon}

// Check explains what is wrong with resumeAt asked at now ("" when it is within bounds).
func (b ResumeBounds) Check(resumeAt, now time.Time) string {
	switch {
	case resumeAt.Before(now.Add(b.MinLead)):
		return fmt.Sprintf("resumeAt must be at least %d seconds from now", int(b.MinLead.Seconds()))
	case resumeAt.After(now.Add(b.MaxHorizon)):
		return fmt.Sprintf("resumeAt must be at most %d days from now", int(b.MaxHorizon.Hours()/24))
	}
	return ""
}

// TransitionFor returns the transition of Transitions whose action is action.
func TransitionFor(action string) (Transition, bool) {
	for _, t := range Transitions {
		if t.Action == action {
			return t, true
		}
	}
	return Transition{}, false
}

// ActionCreate is the action a session's creation records (its lastAction), from which its
// InterviewCreated event is derived.
const ActionCreate = "create"

// Draft is a new session as its creator describes it: seed 001's fields that are the
// creator's to choose. Progress, score, status and the timestamps are the lifecycle's.
type Draft struct {
	Title          string
	TopicIDs       []string
	TopicLabels    []string
	InterviewerID  string
	TargetScore    *float64
	RetryPolicy    *RetryPolicy
	Labels         []string
	Notes          string
	Language       string
	Difficulty     int
	ConversationID string
}

// New returns the session id that owner creates from d at at: active, at version 1,
// owned by its creator (only they may act on it).
func New(id string, owner lifecycle.Actor, d Draft, at time.Time) Session {
	return Session{
		ID: id, OwnerID: owner.Sub, Status: Active, Version: 1, CreatedAt: at, UpdatedAt: at,
		Title: d.Title, TopicIDs: d.TopicIDs, TopicLabels: d.TopicLabels, InterviewerID: d.InterviewerID,
		TargetScore: d.TargetScore, RetryPolicy: d.RetryPolicy, Labels: d.Labels, Notes: d.Notes,
		Language: d.Language, Difficulty: d.Difficulty, ConversationID: d.ConversationID,
	}
}

// AllowedActions are the actions of Transitions that actor may take on s now, in the
// table's order: what a frontend offers (the API returns them with every session), and
// what a service may do.
func AllowedActions(s Session, actor lifecycle.Actor) []string {
	out := []string{}
	for _, t := range Transitions {
		if t.Decide(s, actor) == nil {
			out = append(out, t.Action)
		}
	}
	return out
}

// Authorize returns lifecycle.ErrForbidden unless actor owns s: who may read a session.
func Authorize(s Session, actor lifecycle.Actor) error {
	if actor.Sub == "" || s.OwnerID != actor.Sub {
		return lifecycle.ErrForbidden
	}
	return nil
}

// Authorize returns lifecycle.ErrForbidden unless actor is one t.Who names for s.
func (t Transition) Authorize(s Session, actor lifecycle.Actor) error {
	if t.Who.Owner && Authorize(s, actor) == nil {
		return nil
	}
	if actor.HasScope(t.Who.Scope) {
		return nil
	}
	return lifecycle.ErrForbidden
}

// Decide explains why t may not be applied to s by actor: lifecycle.ErrForbidden when the
// actor is not one t.Who names, an *lifecycle.InvalidTransitionError when its status
// forbids it, nil when the transition is legal.
func (t Transition) Decide(s Session, actor lifecycle.Actor) error {
	if err := t.Authorize(s, actor); err != nil {
		return err
	}
	return t.Rule.Check(s.Status)
}

// Apply returns s as t leaves it when req applies it at at (a store writes exactly this):
// the status step, the version step, the time, the field t stamps with the time and the
// one it stamps with the actor, and the reason when t takes one and req gives one.
func (t Transition) Apply(s Session, req Request, at time.Time) Session {
	n := s
	n.PreviousStatus, n.Status, n.Version, n.UpdatedAt = s.Status, t.To, s.Version+1, at
	if stamp := n.stamps()[t.StampedAt]; stamp != nil {
		*stamp = at
	}
	if t.StampedBy == "cancelledBy" {
		n.CancelledBy = req.Actor.Sub
	}
	if t.TakesReason && req.Reason != "" {
		n.CancelReason = req.Reason
	}
	if t.TakesScore && req.Score != nil {
		n.Score = *req.Score
	}
	// Only a pause until a time leaves a planned resume; every other transition clears it.
	n.ResumeAt = time.Time{}
	if t.TakesResumeAt {
		n.ResumeAt = req.ResumeAt
	}
	if in := req.Interaction; t.TakesInteraction && in != nil {
		if in.Progress != nil {
			n.Progress = *in.Progress
		}
		if in.Score != nil {
			n.Score = *in.Score
		}
		n.RecentMessages = in.History
	}
	return n
}

// Prepare completes req for t on s, the session as read, before it is applied and written:
// for a Record, the history to store (WithMessage). Other transitions take req as it is.
func (t Transition) Prepare(s Session, req Request) (Request, error) {
	if t.ExpectsVersion && s.Version != req.ExpectVersion {
		return req, ErrStale
	}
	if !t.TakesInteraction || req.Interaction == nil {
		return req, nil
	}
	in := *req.Interaction
	h, err := WithMessage(s.RecentMessages, in.Message, in.MessageID)
	if err != nil {
		return req, err
	}
	in.History, req.Interaction = h, &in
	return req, nil
}

// stamps are the session's transition timestamps, by the name a Transition's StampedAt
// gives them.
func (s *Session) stamps() map[string]*time.Time {
	return map[string]*time.Time{"cancelledAt": &s.CancelledAt, "pausedAt": &s.PausedAt, "resumedAt": &s.ResumedAt, "completedAt": &s.CompletedAt,
		"lastInteractionAt": &s.LastInteractionAt}
}

// Request is a session transition's request: the common part, and what the session's
// transitions take besides.
type Request struct {
	lifecycle.Request
	// Score is the final score a completion records, when one was given.
	Score *float64
	// Interaction is what a Record records.
	Interaction *Interaction
	// ResumeAt, when not zero, is when a pause's session resumes itself.
	ResumeAt time.Time
	// ExpectVersion is the version a transition that ExpectsVersion applies to.
	ExpectVersion int64
}

// Interaction is one interaction of the conversation, as Record records it.
type Interaction struct {
	// Message is the message to append to the history (seed 001's recentMessages item),
	// as JSON; its id names it.
	Message   json.RawMessage
	MessageID string
	// Progress and Score, when set, replace the session's.
	Progress, Score *float64
	// History is the conversation history the write stores: the history read with
	// Message appended (WithMessage).
	History json.RawMessage
}

// MaxRecentMessages is how many messages the history keeps: the latest ones. The rest of a
// conversation is the conversation service's to keep.
const MaxRecentMessages = 20

// ErrHistoryUnreadable: the stored history is not a JSON array, so a message cannot be
// appended to it without losing it.
var ErrHistoryUnreadable = errors.New("the session's recentMessages is not a JSON array")

// WithMessage returns history (a JSON array, or empty for none) with msg appended, keeping
// the latest MaxRecentMessages. A message whose id is already in the history replaces it
// where it is, so the same message recorded twice is held once.
func WithMessage(history json.RawMessage, msg json.RawMessage, id string) (json.RawMessage, error) {
	var msgs []json.RawMessage
	if len(history) > 0 {
		if err := json.Unmarshal(history, &msgs); err != nil {
			return nil, ErrHistoryUnreadable
		}
	}
	replaced := false
	for i, m := range msgs {
		var head struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(m, &head) == nil && head.ID == id {
			msgs[i], replaced = msg, true
		}
	}
	if !replaced {
		msgs = append(msgs, msg)
	}
	if len(msgs) > MaxRecentMessages {
		msgs = msgs[len(msgs)-MaxRecentMessages:]
	}
	return json.Marshal(msgs)
}

// ListQuery asks for one owner's sessions, newest createdAt first.
type ListQuery struct {
	Owner string
	// Status, when set, keeps only sessions in that status.
	Status Status
	// Limit is the page size.
	Limit int
	// Cursor continues a previous page; "" starts at the newest.
	Cursor string
}

// Page is one page of sessions; Next is the cursor of the following page, "" at the end.
// A listing holds summaries: its sessions carry no RecentMessages.
type Page struct {
	Items []Session
	Next  string
}
