// Package resumetimer resumes an interview session paused until a time, at that time: the
// planner turns an InterviewPaused event that carries resumeAt into an EventBridge
// Scheduler one-time schedule, and the schedule invokes the resume handler, which makes
// the scheduled resume (interview.ScheduledResume) of exactly the version that pause made.
//
// Both halves are at least once and harmless when repeated: a schedule is named by the
// session and the pause's version, so a planner retried after it created one finds it made
// (ConflictException), and the resume is keyed by the same name, so a timer delivered twice
// is a replay; a stale timer (the session resumed, cancelled or paused again meanwhile) is
// refused by the version it expects and changes nothing. docs/events.md, "Pause until a
// time".
package resumetimer

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// FnPlan is the consumer of InterviewPaused events that plans each resume, as in
// functions/<name> and template.yaml; the schedules' target is
// interview.ScheduledResume's function.
const FnPlan = "plan-resume"

// Input is what a schedule hands its target: which session, and the version its pause
// produced (the only version the resume may apply to).
type Input struct {
	SessionID string `json:"sessionId"`
	Version   int64  `json:"version"`
}

// Name is the schedule's name for the pause that made version of session id: one schedule
// per pause, so a planner that runs twice creates it once. At most 64 characters.
func Name(in Input) string { return "resume-" + in.SessionID + "-" + strconv.FormatInt(in.Version, 10) }

// Planner makes sure a schedule resumes in's session at at; resumetimer/schedules makes
// them with EventBridge Scheduler.
type Planner interface {
	Plan(ctx context.Context, in Input, at time.Time) error
}

// PlanHandler is the plan-resume function's handler: an InterviewPaused event delivered by
// the rule that selects those with resumeAt. An event without one (or of another type) is
// logged and skipped; a failure to plan is returned, so Lambda retries the invocation and
// then hands the event to the function's failure destination.
func PlanHandler(logger *slog.Logger, p Planner) func(context.Context, events.EventBridgeEvent) error {
	return func(ctx context.Context, e events.EventBridgeEvent) error {
		log := logger.With("eventId", e.ID, "detailType", e.DetailType)
		if e.DetailType != event.TypeInterviewPaused {
			log.Warn("not a pause; skipped")
			return nil
		}
		d, err := event.Decode(e.DetailType, e.Detail)
		if err != nil {
			log.Error("unreadable event; skipped", "err", err)
			return nil
		}
		paused := d.(*event.Interview)
		if paused.ResumeAt == nil {
			log.Warn("a pause without resumeAt; skipped", "sessionId", paused.SessionID)
			return nil
		}
		in := Input{SessionID: paused.SessionID, Version: paused.Version}
		if err := p.Plan(ctx, in, paused.ResumeAt.Time); err != nil {
			return err
		}
		log.Info("resume planned", "sessionId", in.SessionID, "version", in.Version, "schedule", Name(in), "resumeAt", lifecycle.FormatTime(paused.ResumeAt.Time))
		return nil
	}
}

// Resumer applies the scheduled resume; shared/dynamo's Interviews implements it.
type Resumer interface {
	Apply(ctx context.Context, t interview.Transition, req interview.Request) (interview.Session, bool, error)
}

// ResumeHandler is the resume-scheduled function's handler: the schedule's input. The
// resume is keyed by the schedule's name (a second delivery is a replay) and applies only
// to the version the pause made. A session that has moved on (resumed, cancelled, paused
// again, deleted) is the expected end of a stale timer: logged, nothing written, no retry.
// Any other failure is returned, so the scheduler retries and then dead-letters it.
func ResumeHandler(logger *slog.Logger, store Resumer) func(context.Context, Input) error {
	return func(ctx context.Context, in Input) error {
		log := logger.With("sessionId", in.SessionID, "version", in.Version, "schedule", Name(in))
		id, ok := lifecycle.ParseID(in.SessionID)
		if !ok || in.Version < 1 {
			log.Error("unreadable schedule input; dropped")
			return nil
		}
		req := interview.Request{ExpectVersion: in.Version, Request: lifecycle.Request{
			ID: id, Actor: interview.SchedulerActor, CorrelationID: Name(in),
			Idempotency: lifecycle.Idempotency{Key: "schedule:" + Name(in), Fingerprint: Name(in), Client: true},
		}}
		s, replay, err := store.Apply(ctx, interview.ScheduledResume, req)
		var refused *lifecycle.InvalidTransitionError
		switch {
		case errors.Is(err, interview.ErrStale), errors.As(err, &refused), errors.Is(err, lifecycle.ErrNotFound):
			log.Info("the session has moved on; the timer is stale", "outcome", "stale", "err", err)
			return nil
		case err != nil:
			return err
		}
		log.Info("interview resumed at its planned time", "outcome", "resumed", "to", string(s.Status), "newVersion", s.Version, "replayed", replay)
		return nil
	}
}
