package schedulefire

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	_ "time/tzdata" // the zones of at() expressions, whatever this machine has

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/tools/local/motoserver"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/mototest"
)

const targetARN = "arn:aws:lambda:us-east-1:123456789012:function:target:live"

// fixture is a schedule group and a dead-letter queue in a moto of the test's own.
type fixture struct {
	api    *scheduler.Client
	sqs    *sqs.Client
	group  string
	dlq    string // URL
	dlqARN string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := mototest.Start(t, motoserver.Options{Name: "moto (scheduler)"})
	cfg := config.New("us-east-1", credentials.NewStaticCredentialsProvider("local", "local", ""))
	f := &fixture{
		api:   scheduler.NewFromConfig(cfg, func(o *scheduler.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) }),
		sqs:   sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) }),
		group: "resumes",
	}
	ctx := context.Background()
	if _, err := f.api.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(f.group)}); err != nil {
		t.Fatal(err)
	}
	q, err := f.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dlq")})
	if err != nil {
		t.Fatal(err)
	}
	f.dlq = aws.ToString(q.QueueUrl)
	a, err := f.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	f.dlqARN = a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	return f
}

// create makes a one-time schedule at at (UTC, to the second, as resumetimer/schedules
// plans them) with retries retries.
func (f *fixture) create(t *testing.T, name string, at time.Time, input string, retries int32) {
	t.Helper()
	_, err := f.api.CreateSchedule(context.Background(), &scheduler.CreateScheduleInput{
		Name: aws.String(name), GroupName: aws.String(f.group),
		ScheduleExpression: aws.String("at(" + at.UTC().Format(atLayout) + ")"), ScheduleExpressionTimezone: aws.String("UTC"),
		FlexibleTimeWindow:    &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		ActionAfterCompletion: schedtypes.ActionAfterCompletionDelete,
		Target: &schedtypes.Target{
			Arn: aws.String(targetARN), RoleArn: aws.String("arn:aws:iam::123456789012:role/scheduler"), Input: aws.String(input),
			DeadLetterConfig: &schedtypes.DeadLetterConfig{Arn: aws.String(f.dlqARN)},
			RetryPolicy:      &schedtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(retries), MaximumEventAgeInSeconds: aws.Int32(3600)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) names(t *testing.T) []string {
	t.Helper()
	out, err := f.api.ListSchedules(context.Background(), &scheduler.ListSchedulesInput{GroupName: aws.String(f.group)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range out.Schedules {
		names = append(names, aws.ToString(s.Name))
	}
	return names
}

func (f *fixture) firer(h Target) *Firer {
	return &Firer{
		Scheduler: f.api, SQS: f.sqs, Group: f.group, Targets: map[string]Target{targetARN: h},
		Delays: []time.Duration{time.Millisecond}, Timeout: 10 * time.Second,
		Logger: slog.New(slog.DiscardHandler),
	}
}

// TestRetriesThenDeadLetters: a target failing every attempt is tried 1 + the retry
// policy's retries times; its input then lands in the dead-letter queue with the error, and
// the schedule is deleted. A target with no handler is dead-lettered at once.
func TestRetriesThenDeadLetters(t *testing.T) {
	f := newFixture(t)
	past := time.Now().Add(-time.Second)
	f.create(t, "failing", past, `{"n":1}`, 2)
	var calls atomic.Int32
	fr := f.firer(func(context.Context, string) error { calls.Add(1); return errors.New("table unavailable") })
	outs, err := fr.Drain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || !outs[0].DeadLettered || !outs[0].Settled || outs[0].Attempts != 3 || calls.Load() != 3 {
		t.Fatalf("outcomes %+v after %d calls, want dead-lettered after 3", outs, calls.Load())
	}
	msg := f.receive(t)
	if aws.ToString(msg.Body) != `{"n":1}` || attr(msg, "ERROR_MESSAGE") != "table unavailable" || attr(msg, "RETRY_ATTEMPTS") != "2" ||
		attr(msg, "ERROR_CODE") != "TargetError" || attr(msg, "TARGET_ARN") != targetARN {
		t.Errorf("dead-letter message %q %v", aws.ToString(msg.Body), msg.MessageAttributes)
	}
	if names := f.names(t); len(names) != 0 {
		t.Errorf("schedules left %v", names)
	}

	f.create(t, "unknown", past, `{"n":2}`, 185)
	fr.Targets = nil
	if outs, err := fr.Drain(context.Background()); err != nil || len(outs) != 1 || !outs[0].DeadLettered || outs[0].Attempts != 1 {
		t.Fatalf("no handler: %+v %v, want dead-lettered at once", outs, err)
	}
	if msg := f.receive(t); aws.ToString(msg.Body) != `{"n":2}` || attr(msg, "ERROR_CODE") != "TargetNotFound" {
		t.Errorf("dead-letter message %q %v", aws.ToString(msg.Body), msg.MessageAttributes)
	}
}

// TestAStoppedFirerLeavesTheSchedule: a firer stopped between attempts leaves the schedule
// in place (nothing is deleted before its outcome); the next firer delivers it.
func TestAStoppedFirerLeavesTheSchedule(t *testing.T) {
	f := newFixture(t)
	f.create(t, "pending", time.Now().Add(-time.Second), `{"n":1}`, 185)
	ctx, stop := context.WithCancel(context.Background())
	failed := make(chan struct{}, 1)
	first := f.firer(func(context.Context, string) error {
		select {
		case failed <- struct{}{}:
		default:
		}
		return errors.New("down")
	})
	first.Delays = []time.Duration{time.Hour}
	done := make(chan []Outcome)
	go func() { outs, _ := first.Drain(ctx); done <- outs }()
	<-failed
	stop()
	<-done
	if names := f.names(t); len(names) != 1 {
		t.Fatalf("schedules after the stop %v, want the pending one", names)
	}
	var calls atomic.Int32
	second := f.firer(func(context.Context, string) error { calls.Add(1); return nil })
	if outs, err := second.Drain(context.Background()); err != nil || len(outs) != 1 || !outs[0].Settled || calls.Load() != 1 {
		t.Fatalf("the next firer: %+v %v (%d calls)", outs, err, calls.Load())
	}
	if names := f.names(t); len(names) != 0 {
		t.Errorf("schedules left %v", names)
	}
}

// TestRunAndDrainFireEachOnce: Run polling every few milliseconds while schedules are
// created, and Drains beside it: every schedule is delivered exactly once.
func TestRunAndDrainFireEachOnce(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	calls := map[string]int{}
	fr := f.firer(func(_ context.Context, in string) error {
		mu.Lock()
		calls[in]++
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		return nil
	})
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { fr.Run(ctx, 2*time.Millisecond); close(ran) }()
	const n = 30
	past := time.Now().Add(-time.Second)
	for i := range n {
		f.create(t, "s"+strconv.Itoa(i), past, strconv.Itoa(i), 3)
		if i%5 == 0 {
			if _, err := fr.Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(f.names(t)) > 0 && time.Now().Before(deadline) {
		if _, err := fr.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	<-ran
	if names := f.names(t); len(names) != 0 {
		t.Fatalf("schedules never fired: %v", names)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != n {
		t.Errorf("%d inputs delivered, want %d", len(calls), n)
	}
	for in, c := range calls {
		if c != 1 {
			t.Errorf("%q delivered %d times", in, c)
		}
	}
}

func TestDue(t *testing.T) {
	for _, c := range []struct {
		expr, zone string
		want       time.Time
	}{
		{"at(2030-01-02T03:04:05)", "UTC", time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"at(2030-01-02T03:04:05)", "", time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"at(2030-07-02T03:04:05)", "Europe/Paris", time.Date(2030, 7, 2, 1, 4, 5, 0, time.UTC)},
	} {
		got, err := due(c.expr, c.zone)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("due(%q, %q) = %s, %v; want %s", c.expr, c.zone, got, err, c.want)
		}
	}
	for _, expr := range []string{"rate(5 minutes)", "cron(0 12 * * ? *)", "at(tomorrow)", "2030-01-02T03:04:05)"} {
		if _, err := due(expr, "UTC"); err == nil {
			t.Errorf("due(%q) fell due", expr)
		}
	}
}

func (f *fixture) receive(t *testing.T) sqstypes.Message {
	t.Helper()
	out, err := f.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(f.dlq), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("%d messages in the dead-letter queue, want 1", len(out.Messages))
	}
	if _, err := f.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(f.dlq), ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	return out.Messages[0]
}

func attr(m sqstypes.Message, k string) string {
	return aws.ToString(m.MessageAttributes[k].StringValue)
}
