package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
)

// fakeScheduler keeps the schedules created, by name, and refuses a name twice as the
// service does.
type fakeScheduler struct {
	made map[string]*scheduler.CreateScheduleInput
	err  error
}

func (f *fakeScheduler) CreateSchedule(_ context.Context, in *scheduler.CreateScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	if _, ok := f.made[aws.ToString(in.Name)]; ok {
		return nil, &types.ConflictException{Message: aws.String("exists")}
	}
	f.made[aws.ToString(in.Name)] = in
	return &scheduler.CreateScheduleOutput{}, nil
}

const session = "a11ce000-0000-4000-8000-000000000001"

var now = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func pausedEvent(t *testing.T, resumeAt string) events.EventBridgeEvent {
	t.Helper()
	d := `{"eventId":"e1","occurredAt":"2026-12-07T09:00:00Z","actor":{"sub":"alice","roles":[]},"version":4,"previousStatus":"active","status":"paused","sessionId":"` + session + `","ownerId":"alice"` + resumeAt + `}`
	return events.EventBridgeEvent{ID: "ev-1", DetailType: "InterviewPaused", Detail: json.RawMessage(d)}
}

// TestPlanningIsOneScheduleAPause: the planner makes one schedule per pause, at the time
// asked (rounded up to the second; a time already past is now), deleted after it fires, to
// the resume function with the version to resume; a second delivery of the event finds it
// made; a pause without resumeAt plans nothing; a failure to plan is returned for a retry.
func TestPlanningIsOneScheduleAPause(t *testing.T) {
	f := &fakeScheduler{made: map[string]*scheduler.CreateScheduleInput{}}
	target := Target{Group: "g", FunctionARN: "arn:fn", RoleARN: "arn:role", DeadLetterARN: "arn:dlq", MaxRetries: 185, MaxAge: 24 * time.Hour}
	h := resumetimer.PlanHandler(slog.New(slog.DiscardHandler), NewPlanner(f, target, func() time.Time { return now }))
	ev := pausedEvent(t, `,"resumeAt":"2026-12-14T09:00:00.250Z"`)
	for range 2 {
		if err := h(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	in, ok := f.made["resume-"+session+"-4"]
	if len(f.made) != 1 || !ok {
		t.Fatalf("schedules %v", f.made)
	}
	if got := aws.ToString(in.ScheduleExpression); got != "at(2026-12-14T09:00:01)" || aws.ToString(in.ScheduleExpressionTimezone) != "UTC" {
		t.Errorf("expression %s", got)
	}
	if in.ActionAfterCompletion != types.ActionAfterCompletionDelete || in.FlexibleTimeWindow.Mode != types.FlexibleTimeWindowModeOff ||
		aws.ToString(in.GroupName) != "g" || aws.ToString(in.Target.Arn) != "arn:fn" || aws.ToString(in.Target.RoleArn) != "arn:role" ||
		aws.ToString(in.Target.DeadLetterConfig.Arn) != "arn:dlq" || aws.ToInt32(in.Target.RetryPolicy.MaximumRetryAttempts) != 185 {
		t.Errorf("schedule %+v, target %+v", in, in.Target)
	}
	var got resumetimer.Input
	if err := json.Unmarshal([]byte(aws.ToString(in.Target.Input)), &got); err != nil || got != (resumetimer.Input{SessionID: session, Version: 4}) {
		t.Errorf("target input %s", aws.ToString(in.Target.Input))
	}

	late := pausedEvent(t, `,"resumeAt":"2026-12-07T08:59:00Z"`)
	late.Detail = json.RawMessage(strings.Replace(string(late.Detail), `"version":4`, `"version":6`, 1))
	if err := h(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(f.made["resume-"+session+"-6"].ScheduleExpression); got != "at(2026-12-07T09:00:01)" {
		t.Errorf("a time already past: %s, want now", got)
	}
	if err := h(context.Background(), pausedEvent(t, "")); err != nil || len(f.made) != 2 {
		t.Errorf("a pause until resumed: %v, %d schedules", err, len(f.made))
	}
	f.err = errors.New("throttled")
	if err := h(context.Background(), pausedEvent(t, `,"resumeAt":"2026-12-15T09:00:00Z"`)); err == nil {
		t.Error("a failure to plan is not returned for a retry")
	}
}
