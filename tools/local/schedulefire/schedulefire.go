// Package schedulefire plays EventBridge Scheduler's firing of one-time schedules, which
// moto keeps (CreateSchedule, GetSchedule, ListSchedules, DeleteSchedule) but never runs.
// A Firer polls one schedule group: each enabled schedule whose at(...) time, read in its
// ScheduleExpressionTimezone, has come invokes its target's handler in process with the
// target's Input, as the service invokes the target. A failed invocation is retried up to
// the target's RetryPolicy (MaximumRetryAttempts, and never once MaximumEventAgeInSeconds
// have passed since the schedule was due), with short local Delays between attempts where
// the service backs off for minutes; when every attempt failed, the input goes to the
// target's dead-letter queue (DeadLetterConfig.Arn, a queue in moto's SQS) with the error in
// the message's attributes. Once the outcome is settled (delivered or dead-lettered) a
// schedule whose ActionAfterCompletion is DELETE is deleted; one that keeps itself is not
// fired again by this firer.
//
// Like the service it delivers at least once, and never loses a schedule: a schedule is
// deleted only after its outcome, so a firer stopped (or killed) part-way leaves it to fire
// again, and so does a delete that fails. Targets must bear a second delivery
// (resumetimer's do). Schedules created while it polls are fired on a later poll; two polls
// at once (Run's and a test's Drain) fire a schedule once.
//
// One difference from AWS: the service invokes a Lambda function asynchronously, so there
// its retry policy and dead-letter queue cover failures to invoke the function (missing,
// throttled, not permitted), and the function's own errors are left to Lambda's
// asynchronous retries and the function's on-failure destination. Here the handler runs
// inside the invocation, so its error is a failed invocation, retried and dead-lettered by
// the schedule's policy.
package schedulefire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/local/asyncinvoke"
)

// Target is a schedule target's handler, given the schedule's input as the target receives
// it; an error fails the invocation.
type Target func(ctx context.Context, input string) error

// JSON is a Target for a Lambda handler of a JSON input: the input decoded as the Lambda
// runtime decodes an event (undecodable input fails the invocation).
func JSON[T any](h func(context.Context, T) error) Target {
	return func(ctx context.Context, input string) error {
		var in T
		if err := json.Unmarshal([]byte(input), &in); err != nil {
			return fmt.Errorf("unmarshal the input: %w", err)
		}
		return h(ctx, in)
	}
}

// The service's default retry policy, for a target without one.
const (
	defaultRetries = 185
	defaultMaxAge  = 24 * time.Hour
)

// Firer fires the due schedules of one group.
type Firer struct {
	Scheduler *scheduler.Client
	// SQS holds the dead-letter queues.
	SQS   *sqs.Client
	Group string
	// Targets are the handlers by target ARN. A schedule whose target has none fails every
	// attempt alike: it is dead-lettered at once.
	Targets map[string]Target
	Delays  asyncinvoke.Delays
	// Timeout bounds each attempt (the function's timeout).
	Timeout time.Duration
	// Now is the clock schedules fall due by (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger

	mu sync.Mutex
	// inflight are the firings under way, by schedule ARN.
	inflight map[string]*firing
	// settled are the schedules this firer settled (by ARN and last modification): a
	// schedule that keeps itself after completion, or one a poll listed just before its
	// firing deleted it, is not fired again.
	settled map[string]bool
	// cache holds each listed schedule's GetSchedule, until it is modified or gone.
	cache map[string]cached
}

type cached struct {
	modified time.Time
	s        *scheduler.GetScheduleOutput
	due      time.Time
	ok       bool
}

// firing is one schedule's firing; done is closed when its outcome is settled (or it
// stopped without one: Settled false).
type firing struct {
	done chan struct{}
	out  Outcome
}

// Outcome is how a firing ended.
type Outcome struct {
	// Schedule is the schedule's name; Input what its target was given.
	Schedule, Input string
	Attempts        int
	// Err is the last attempt's error when none succeeded.
	Err error
	// DeadLettered: every attempt failed and the input went to the dead-letter queue.
	DeadLettered bool
	// Settled: delivered or dead-lettered (then deleted, for a schedule that asks to be).
	// A firing stopped before that leaves the schedule to fire again.
	Settled bool
}

// Run fires due schedules every interval until ctx ends, then waits for the firings in
// flight (which stop at their next attempt, leaving their schedules).
func (f *Firer) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := f.poll(ctx); err != nil && ctx.Err() == nil {
			f.Logger.Warn("list the due schedules failed", "group", f.Group, "err", err)
		}
		select {
		case <-ctx.Done():
			f.wait(context.WithoutCancel(ctx), f.all())
			return
		case <-t.C:
		}
	}
}

// Drain fires every schedule due now, waits for those firings (retries included) and for
// any already under way, and returns their outcomes.
func (f *Firer) Drain(ctx context.Context) ([]Outcome, error) {
	firings, err := f.poll(ctx)
	if err != nil {
		return nil, err
	}
	return f.wait(ctx, firings)
}

func (f *Firer) wait(ctx context.Context, firings []*firing) ([]Outcome, error) {
	var out []Outcome
	for _, fr := range firings {
		select {
		case <-fr.done:
			out = append(out, fr.out)
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
	return out, nil
}

func (f *Firer) all() []*firing {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Collect(maps.Values(f.inflight))
}

func (f *Firer) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// poll lists the group's enabled schedules and starts a firing of each one due and not yet
// under way; it returns those and the ones already under way.
func (f *Firer) poll(ctx context.Context) ([]*firing, error) {
	f.mu.Lock()
	if f.inflight == nil {
		f.inflight, f.settled, f.cache = map[string]*firing{}, map[string]bool{}, map[string]cached{}
	}
	f.mu.Unlock()
	var listed []schedtypes.ScheduleSummary
	pages := scheduler.NewListSchedulesPaginator(f.Scheduler, &scheduler.ListSchedulesInput{GroupName: aws.String(f.Group), State: schedtypes.ScheduleStateEnabled})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		listed = append(listed, out.Schedules...)
	}
	f.forgetAllBut(listed)
	now := f.now()
	var firings []*firing
	for _, sum := range listed {
		arn := aws.ToString(sum.Arn)
		modified := aws.ToTime(sum.LastModificationDate)
		f.mu.Lock()
		fr, settled := f.inflight[arn], f.settled[settledKey(arn, modified)]
		f.mu.Unlock()
		if fr != nil {
			firings = append(firings, fr)
			continue
		}
		if settled {
			continue
		}
		c, err := f.schedule(ctx, sum)
		if err != nil {
			if _, gone := errors.AsType[*schedtypes.ResourceNotFoundException](err); gone {
				continue // deleted since it was listed
			}
			return firings, fmt.Errorf("get schedule %s: %w", aws.ToString(sum.Name), err)
		}
		if !c.ok || c.due.After(now) {
			continue
		}
		f.mu.Lock()
		if f.inflight[arn] == nil && !f.settled[settledKey(arn, modified)] {
			fr = &firing{done: make(chan struct{})}
			f.inflight[arn] = fr
			go f.fire(ctx, c, fr)
		} else {
			fr = f.inflight[arn]
		}
		f.mu.Unlock()
		if fr != nil {
			firings = append(firings, fr)
		}
	}
	return firings, nil
}

func settledKey(arn string, modified time.Time) string {
	return arn + "@" + strconv.FormatInt(modified.UnixNano(), 10)
}

// forgetAllBut drops the cached schedules not listed any more.
func (f *Firer) forgetAllBut(listed []schedtypes.ScheduleSummary) {
	f.mu.Lock()
	defer f.mu.Unlock()
	maps.DeleteFunc(f.cache, func(arn string, _ cached) bool {
		return !slices.ContainsFunc(listed, func(s schedtypes.ScheduleSummary) bool { return aws.ToString(s.Arn) == arn })
	})
}

// schedule reads a listed schedule (once per modification) and when it falls due.
func (f *Firer) schedule(ctx context.Context, sum schedtypes.ScheduleSummary) (cached, error) {
	arn, modified := aws.ToString(sum.Arn), aws.ToTime(sum.LastModificationDate)
	f.mu.Lock()
	c, hit := f.cache[arn]
	f.mu.Unlock()
	if hit && !modified.IsZero() && c.modified.Equal(modified) {
		return c, nil
	}
	s, err := f.Scheduler.GetSchedule(ctx, &scheduler.GetScheduleInput{GroupName: sum.GroupName, Name: sum.Name})
	if err != nil {
		return cached{}, err
	}
	c = cached{modified: modified, s: s}
	c.due, err = due(aws.ToString(s.ScheduleExpression), aws.ToString(s.ScheduleExpressionTimezone))
	if c.ok = err == nil; !c.ok {
		f.Logger.Warn("a schedule this stand-in does not fire (one-time schedules only)", "schedule", aws.ToString(s.Name), "err", err)
	}
	f.mu.Lock()
	f.cache[arn] = c
	f.mu.Unlock()
	return c, nil
}

// atLayout is the time of an at() expression: to the second, in the schedule's time zone.
const atLayout = "2006-01-02T15:04:05"

// due is when a one-time schedule's expression falls due.
func due(expr, zone string) (time.Time, error) {
	inner, prefixed := strings.CutPrefix(expr, "at(")
	inner, suffixed := strings.CutSuffix(inner, ")")
	if !prefixed || !suffixed {
		return time.Time{}, fmt.Errorf("not an at() expression: %q", expr)
	}
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return time.Time{}, fmt.Errorf("time zone %q: %w", zone, err)
	}
	return time.ParseInLocation(atLayout, inner, loc)
}

// fire invokes a due schedule's target with its retries, dead-letters what never
// succeeded, and then deletes the schedule when it asks to be.
func (f *Firer) fire(ctx context.Context, c cached, fr *firing) {
	s := c.s
	arn, name := aws.ToString(s.Arn), aws.ToString(s.Name)
	key := settledKey(arn, c.modified)
	defer func() {
		f.mu.Lock()
		if fr.out.Settled {
			f.settled[key] = true
		}
		delete(f.inflight, arn)
		f.mu.Unlock()
		close(fr.done)
	}()
	log := f.Logger.With("schedule", name, "group", aws.ToString(s.GroupName))
	target := s.Target // a schedule's required field
	fr.out = Outcome{Schedule: name, Input: aws.ToString(target.Input)}
	retries, maxAge := defaultRetries, defaultMaxAge
	if p := target.RetryPolicy; p != nil {
		if p.MaximumRetryAttempts != nil {
			retries = int(*p.MaximumRetryAttempts)
		}
		if p.MaximumEventAgeInSeconds != nil {
			maxAge = time.Duration(*p.MaximumEventAgeInSeconds) * time.Second
		}
	}
	h := f.Targets[aws.ToString(target.Arn)]
	code := "TargetError"
	for {
		fr.out.Attempts++
		if h == nil {
			code, fr.out.Err = "TargetNotFound", fmt.Errorf("no local handler for target %s", aws.ToString(target.Arn))
		} else {
			callCtx, cancel := context.WithTimeout(ctx, f.Timeout)
			fr.out.Err = h(callCtx, fr.out.Input)
			cancel()
		}
		if fr.out.Err == nil {
			log.Info("schedule fired", "attempts", fr.out.Attempts)
			break
		}
		if ctx.Err() != nil {
			log.Warn("stopped while firing; the schedule stays to fire again", "err", fr.out.Err)
			return
		}
		log.Warn("schedule's target invocation failed", "attempt", fr.out.Attempts, "err", fr.out.Err)
		if h == nil || fr.out.Attempts > retries || f.now().Sub(c.due) > maxAge {
			if !f.deadLetter(ctx, log, s, code, fr.out) {
				return // the schedule stays, to fire again
			}
			fr.out.DeadLettered = true
			break
		}
		select {
		case <-time.After(f.Delays.Before(fr.out.Attempts)):
		case <-ctx.Done():
			return
		}
	}
	if s.ActionAfterCompletion == schedtypes.ActionAfterCompletionDelete {
		_, err := f.Scheduler.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{GroupName: s.GroupName, Name: s.Name})
		if _, gone := errors.AsType[*schedtypes.ResourceNotFoundException](err); err != nil && !gone {
			log.Error("delete the fired schedule failed; it stays, to fire again", "err", err)
			return
		}
	}
	fr.out.Settled = true
}

// deadLetter sends the input of a schedule whose every attempt failed to its dead-letter
// queue, the error in the message's attributes; without a queue the input is dropped, as
// the service drops it. It reports whether the outcome is settled.
func (f *Firer) deadLetter(ctx context.Context, log *slog.Logger, s *scheduler.GetScheduleOutput, code string, out Outcome) bool {
	log.Error("schedule's target failed every attempt", "attempts", out.Attempts, "err", out.Err)
	var dlq string
	if s.Target.DeadLetterConfig != nil {
		dlq = aws.ToString(s.Target.DeadLetterConfig.Arn)
	}
	if dlq == "" {
		log.Error("no dead-letter queue: the input is dropped", "input", out.Input)
		return true
	}
	url, err := f.queueURL(ctx, dlq)
	if err == nil {
		body := out.Input
		if body == "" {
			body = "{}"
		}
		str := func(v string) sqstypes.MessageAttributeValue {
			return sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
		_, err = f.SQS.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(url), MessageBody: aws.String(body),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"ERROR_CODE":     str(code),
				"ERROR_MESSAGE":  str(out.Err.Error()),
				"EXECUTION_ID":   str(lifecycle.NewID()),
				"RETRY_ATTEMPTS": {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(out.Attempts - 1))},
				"SCHEDULE_ARN":   str(aws.ToString(s.Arn)),
				"TARGET_ARN":     str(aws.ToString(s.Target.Arn)),
			},
		})
	}
	if err != nil {
		log.Error("dead-letter the schedule's input failed; the schedule stays, to fire again", "queue", dlq, "err", err)
		return false
	}
	return true
}

// queueURL resolves a queue's ARN (arn:aws:sqs:<region>:<account>:<name>) to its URL.
func (f *Firer) queueURL(ctx context.Context, queueARN string) (string, error) {
	a, err := arn.Parse(queueARN)
	if err != nil || a.Service != "sqs" {
		return "", fmt.Errorf("not a queue's ARN: %q", queueARN)
	}
	out, err := f.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(a.Resource), QueueOwnerAWSAccountId: aws.String(a.AccountID)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueueUrl), nil
}
