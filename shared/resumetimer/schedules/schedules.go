// Package schedules is resumetimer's adapter to EventBridge Scheduler: it plans a resume as
// a one-time schedule (at(...), deleted after it fires, retried and dead-lettered), named by
// the session and the pause's version so that planning twice creates it once.
package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
)

// SchedulerAPI is the part of the EventBridge Scheduler client the planner uses.
type SchedulerAPI interface {
	CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error)
}

// Target is where schedules deliver: the resume function (its alias's ARN), the role the
// scheduler assumes to invoke it, the queue that receives what it could not deliver, and
// how long and how often it keeps trying.
type Target struct {
	Group, FunctionARN, RoleARN, DeadLetterARN string
	MaxRetries                                 int32
	MaxAge                                     time.Duration
}

// How long and how often the scheduler keeps trying to deliver a due resume before it
// dead-letters it: a day, and as often as it will in that time (the service's own
// defaults, stated).
const (
	MaxRetries = 185
	MaxAge     = 24 * time.Hour
)

// Planner creates the one-time schedules.
type Planner struct {
	api    SchedulerAPI
	target Target
	now    func() time.Time
}

// NewPlanner returns a planner creating schedules that deliver to target.
func NewPlanner(api SchedulerAPI, target Target, now func() time.Time) *Planner {
	return &Planner{api: api, target: target, now: now}
}

// atLayout is the at() expression's time: to the second, in the schedule's time zone (UTC).
const atLayout = "2006-01-02T15:04:05"

// Plan makes sure a schedule resumes in's session at at: it creates the schedule, or finds
// it created (a repeat). A time already past (the event arrived late) is planned for now:
// the resume is due.
func (p *Planner) Plan(ctx context.Context, in resumetimer.Input, at time.Time) error {
	input, err := json.Marshal(in)
	if err != nil {
		return err
	}
	// Scheduler fires on the second; round up so it never fires before resumeAt.
	fire := at.UTC().Truncate(time.Second)
	if fire.Before(at) {
		fire = fire.Add(time.Second)
	}
	if now := p.now().UTC().Truncate(time.Second).Add(time.Second); fire.Before(now) {
		fire = now
	}
	_, err = p.api.CreateSchedule(ctx, &scheduler.CreateScheduleInput{
		Name:                       aws.String(resumetimer.Name(in)),
		GroupName:                  aws.String(p.target.Group),
		ScheduleExpression:         aws.String("at(" + fire.Format(atLayout) + ")"),
		ScheduleExpressionTimezone: aws.String("UTC"),
		FlexibleTimeWindow:         &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		ActionAfterCompletion:      types.ActionAfterCompletionDelete,
		Description:                aws.String(fmt.Sprintf("Resume interview session %s paused at version %d", in.SessionID, in.Version)),
		Target: &types.Target{
			Arn:              aws.String(p.target.FunctionARN),
			RoleArn:          aws.String(p.target.RoleARN),
			Input:            aws.String(string(input)),
			DeadLetterConfig: &types.DeadLetterConfig{Arn: aws.String(p.target.DeadLetterARN)},
			RetryPolicy: &types.RetryPolicy{
				MaximumRetryAttempts:     aws.Int32(p.target.MaxRetries),
				MaximumEventAgeInSeconds: aws.Int32(int32(p.target.MaxAge / time.Second)),
			},
		},
	})
	if _, exists := errors.AsType[*types.ConflictException](err); exists {
		return nil // planned by an earlier delivery of the event
	}
	if err != nil {
		return fmt.Errorf("create schedule %s: %w", resumetimer.Name(in), err)
	}
	return nil
}
