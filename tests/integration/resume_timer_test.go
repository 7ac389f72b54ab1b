package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer/schedules"
	"github.com/lifecycle-api/lifecycle/tools/local/asyncinvoke"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/schedulefire"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/schemacheck"
)

// The resume timer's tests pause for seconds: the stack's minimum lead is lowered to
// timerLead (the product's is a minute), and each pause is until timerAhead from now.
const (
	timerLead  = 2 * time.Second
	timerAhead = 3 * time.Second
)

// withResumeMinLead gives the interview store a shorter minimum lead for resumeAt.
func withResumeMinLead(d time.Duration) stackOption {
	return func(c *wiring.Config) { c.ResumeMinLead = d }
}

// resumeTimer is a stack's resume timer as the local stack runs it: plan-resume on its
// rule's stand-in queue (Lambda's retries and on-failure queue from the template), its
// schedules in a group of moto's EventBridge Scheduler, fired by tools/local/schedulefire
// into resume-scheduled on the stack's store, dead-lettering to ResumeDLQ.
type resumeTimer struct {
	api     *scheduler.Client
	group   string
	plan    func(context.Context, events.EventBridgeEvent) error
	planner *asyncinvoke.Invoker
	firer   *schedulefire.Firer
	// resume is resume-scheduled's handler as the schedules reach it.
	resume schedulefire.Target

	mu sync.Mutex
	// invoked are the times the firer invoked resume-scheduled.
	invoked []time.Time
}

// newResumeTimer wires the timer on s and p; wrap, when set, stands between the planner
// and the scheduler (to fail it).
func newResumeTimer(t *testing.T, s *stack, p *pipeline, wrap func(schedules.SchedulerAPI) schedules.SchedulerAPI) *resumeTimer {
	t.Helper()
	cfg, err := config.AWS()
	if err != nil {
		t.Fatal(err)
	}
	rt := &resumeTimer{
		api:   scheduler.NewFromConfig(cfg, func(o *scheduler.Options) { o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_EVENTBRIDGE")) }),
		group: randomName("resumes-"),
	}
	if _, err := rt.api.CreateScheduleGroup(context.Background(), &scheduler.CreateScheduleGroupInput{Name: aws.String(rt.group)}); err != nil {
		t.Fatal(err)
	}
	var planAPI schedules.SchedulerAPI = rt.api
	if wrap != nil {
		planAPI = wrap(rt.api)
	}
	target, ok := p.es.Functions["PlanResumeFunction"]
	if !ok {
		t.Fatal("template.yaml's PlanResumeRule has no function target")
	}
	rt.plan = wiring.PlanResume(s.cfg, planAPI, wiring.ResumeTarget(rt.group, p.es.QueueARNs["ResumeDLQ"]))
	rt.planner = &asyncinvoke.Invoker{
		SQS: p.sqs, Queue: target.Queue, Function: resumetimer.FnPlan, Handler: rt.plan, MaxRetries: target.MaxRetries,
		Delays: []time.Duration{time.Millisecond}, OnFailure: p.es.Queues[target.OnFailure], Timeout: 30 * time.Second, Logger: discardLogger(),
	}
	rt.resume = wiring.ResumeScheduled(s.cfg)
	rt.firer = &schedulefire.Firer{
		Scheduler: rt.api, SQS: p.sqs, Group: rt.group,
		Targets: map[string]schedulefire.Target{wiring.ResumeScheduledARN: func(ctx context.Context, in string) error {
			rt.mu.Lock()
			rt.invoked = append(rt.invoked, time.Now())
			rt.mu.Unlock()
			return rt.resume(ctx, in)
		}},
		Delays: []time.Duration{time.Millisecond}, Timeout: 30 * time.Second, Logger: discardLogger(),
	}
	return rt
}

// deliver runs the event pipeline once: the stream published, then the live rule's events
// through the notifier and the planner's rule's through plan-resume (retries included).
// It returns how many events plan-resume took.
func (rt *resumeTimer) deliver(t *testing.T, p *pipeline, l *liveChannel, want int) int {
	t.Helper()
	// The stream, the bus and the rule's queue each take their moment: drain again until
	// the events expected have reached plan-resume, within a deadline (a loaded machine's).
	total, deadline := 0, time.Now().Add(20*time.Second)
	for total < want && time.Now().Before(deadline) {
		l.deliver(t, p)
		n, err := rt.planner.Drain(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if total < want {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return total
}

// fireWhenDue drains the firer until it fires something (a schedule falls due), within a
// deadline, and returns what it fired.
func (rt *resumeTimer) fireWhenDue(t *testing.T, by time.Time) []schedulefire.Outcome {
	t.Helper()
	for {
		outs, err := rt.firer.Drain(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) > 0 {
			return outs
		}
		if time.Now().After(by.Add(20 * time.Second)) {
			t.Fatalf("nothing fired by %s; schedules in the group: %v", by, rt.schedules(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// schedules names the group's schedules.
func (rt *resumeTimer) schedules(t *testing.T) []string {
	t.Helper()
	out, err := rt.api.ListSchedules(context.Background(), &scheduler.ListSchedulesInput{GroupName: aws.String(rt.group)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range out.Schedules {
		names = append(names, aws.ToString(s.Name))
	}
	slices.Sort(names)
	return names
}

// notBefore fails the test if the firer invoked resume-scheduled before at.
func (rt *resumeTimer) notBefore(t *testing.T, at time.Time) {
	t.Helper()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, when := range rt.invoked {
		if when.Before(at) {
			t.Errorf("resume-scheduled invoked at %s, before %s", when.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
		}
	}
}

// pauseUntil pauses id as its owner until at, and returns the version the pause made.
func (s *stack) pauseUntil(t *testing.T, id, owner string, at time.Time) int64 {
	t.Helper()
	r := s.do(t, "POST", "/interviews/"+id+"/pause", s.token(t, owner), `{"resumeAt":"`+lifecycle.FormatTime(at)+`"}`)
	if r.status != http.StatusOK || r.body["status"] != "paused" || r.body["resumeAt"] != lifecycle.FormatTime(at) {
		t.Fatalf("pause %s until %s: %d %s", id, lifecycle.FormatTime(at), r.status, r.raw)
	}
	return etagVersion(t, r)
}

func etagVersion(t *testing.T, r response) int64 {
	t.Helper()
	v, err := strconv.ParseInt(strings.Trim(r.header.Get("ETag"), `"`), 10, 64)
	if err != nil {
		t.Fatalf("ETag %q", r.header.Get("ETag"))
	}
	return v
}

// sessionVersion is the session's version as the table holds it.
func (s *stack) sessionVersion(t *testing.T, id string) int64 {
	t.Helper()
	v, _ := strconv.ParseInt(str(s.session(t, id), "version"), 10, 64)
	return v
}

// interviewEvents are the events of session id among evs, as "<detail-type>@<version>
// by <actor>".
func interviewEvents(t *testing.T, evs []event.Envelope, id string) []string {
	t.Helper()
	var out []string
	for _, e := range evs {
		d, err := event.Decode(e.DetailType, e.Detail)
		if err != nil {
			t.Fatal(err)
		}
		if iv, ok := d.(*event.Interview); ok && iv.SessionID == id {
			out = append(out, e.DetailType+"@"+strconv.FormatInt(iv.Version, 10)+" by "+iv.Actor.Sub)
		}
	}
	return out
}

// TestAPauseUntilATimeResumesAtThatTime: the round trip on moto. Alice pauses a session
// until T; the pause's event plans one schedule named after it; nothing fires before T; at
// T the scheduled resume makes the session active again (resumedAt not before T, resumeAt
// gone), announced once as InterviewResumed by the actor "scheduler", on the bus and on
// alice's WebSocket; the schedule is gone.
func TestAPauseUntilATimeResumesAtThatTime(t *testing.T) {
	t.Parallel()
	s, p, l, rt := newTimerTest(t)
	alice := l.connect(t, s, "alice")
	sch := schemas(t)
	id := demodata.AliceActive

	at := time.Now().Add(timerAhead).UTC().Truncate(time.Millisecond)
	paused := s.pauseUntil(t, id, "alice", at)
	if n := rt.deliver(t, p, l, 1); n != 1 {
		t.Fatalf("plan-resume took %d events, want the pause's", n)
	}
	name := resumetimer.Name(resumetimer.Input{SessionID: id, Version: paused})
	if got := rt.schedules(t); !slices.Equal(got, []string{name}) {
		t.Fatalf("schedules %v, want [%s]", got, name)
	}
	if got := alice.received(t); len(got) != 1 || got[0].Type != event.TypeInterviewPaused || got[0].Version != paused {
		t.Fatalf("alice heard %+v, want the pause", got)
	}
	// Before T nothing is due.
	if outs, err := rt.firer.Drain(context.Background()); err != nil || (len(outs) != 0 && time.Now().Before(at)) {
		t.Fatalf("fired %+v (%v) before %s", outs, err, at)
	}

	outs := rt.fireWhenDue(t, at)
	if len(outs) != 1 || outs[0].Schedule != name || !outs[0].Settled || outs[0].Attempts != 1 {
		t.Fatalf("fired %+v, want %s delivered once", outs, name)
	}
	rt.notBefore(t, at)
	item := s.session(t, id)
	resumedAt, _ := time.Parse(lifecycle.TimeLayout, str(item, "resumedAt"))
	if str(item, "status") != "active" || str(item, "version") != strconv.FormatInt(paused+1, 10) || item["resumeAt"] != nil ||
		str(item, "lastAction") != interview.ScheduledResume.Action || resumedAt.Before(at) {
		t.Fatalf("after the timer: status %s version %s resumeAt %v lastAction %s resumedAt %s; want active at %d, resumed at or after %s",
			str(item, "status"), str(item, "version"), item["resumeAt"], str(item, "lastAction"), str(item, "resumedAt"), paused+1, lifecycle.FormatTime(at))
	}
	if got := rt.schedules(t); len(got) != 0 {
		t.Errorf("schedules left after firing: %v", got)
	}

	l.deliver(t, p)
	got := alice.received(t)
	if len(got) != 1 || got[0].Type != event.TypeInterviewResumed || got[0].Version != paused+1 || got[0].EntityID != id {
		t.Fatalf("alice heard %+v, want one InterviewResumed at version %d", got, paused+1)
	}
	var detail struct {
		Actor struct{ Sub string } `json:"actor"`
	}
	if err := json.Unmarshal(got[0].Detail, &detail); err != nil || detail.Actor.Sub != interview.SchedulerActor.Sub {
		t.Errorf("the live message's actor: %s", got[0].Detail)
	}
	live, err := schemacheck.Load(filepath.Join(repoRoot(t), "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	validateLive(t, live, got[0])
	if !slices.Contains(got[0].AllowedActions, "pause") {
		t.Errorf("alice may do %v after the resume, want pause among them", got[0].AllowedActions)
	}
	evs := p.received(t, "InterviewEventsQueue")
	want := []string{"InterviewPaused@" + strconv.FormatInt(paused, 10) + " by alice", "InterviewResumed@" + strconv.FormatInt(paused+1, 10) + " by scheduler"}
	if got := interviewEvents(t, evs, id); !slices.Equal(got, want) {
		t.Fatalf("the bus carried %v, want %v", got, want)
	}
	for _, e := range evs {
		var d any
		_ = json.Unmarshal(e.Detail, &d)
		if err := sch[e.DetailType].Validate(d); err != nil {
			t.Errorf("%s does not validate: %v", e.DetailType, err)
		}
	}

	r := s.do(t, "GET", "/interviews/"+id, s.token(t, "alice"), "")
	if _, has := r.body["resumeAt"]; r.status != http.StatusOK || r.body["status"] != "active" || has {
		t.Errorf("GET after the timer: %d %s, want active without resumeAt", r.status, r.raw)
	}
}

// TestAStaleTimerResumesNothing: alice pauses two sessions until T1, resumes each by hand
// before T1 and pauses them again: one plainly, one until a later T2. At T1 both first
// timers fire, find their pause superseded, and write nothing; the plain pause stays
// paused; the second pause's own timer resumes its session at T2, once.
func TestAStaleTimerResumesNothing(t *testing.T) {
	t.Parallel()
	s, p, l, rt := newTimerTest(t)
	tok := s.token(t, "alice")
	plain, later := demodata.AliceActive, demodata.AliceActive2

	t1 := time.Now().Add(timerAhead).UTC().Truncate(time.Millisecond)
	for _, id := range []string{plain, later} {
		s.pauseUntil(t, id, "alice", t1)
	}
	if n := rt.deliver(t, p, l, 2); n != 2 {
		t.Fatalf("plan-resume took %d events, want the two pauses'", n)
	}
	for _, id := range []string{plain, later} {
		if r := s.do(t, "POST", "/interviews/"+id+"/resume", tok, ""); r.status != http.StatusOK {
			t.Fatalf("resume %s: %d %s", id, r.status, r.raw)
		}
	}
	if r := s.do(t, "POST", "/interviews/"+plain+"/pause", tok, ""); r.status != http.StatusOK {
		t.Fatalf("plain pause: %d %s", r.status, r.raw)
	}
	t2 := t1.Add(2 * time.Second)
	second := s.pauseUntil(t, later, "alice", t2)
	if n := rt.deliver(t, p, l, 1); n != 1 {
		t.Fatalf("plan-resume took %d events, want the later pause's (a plain pause plans nothing)", n)
	}
	if got := rt.schedules(t); len(got) != 3 {
		t.Fatalf("schedules %v, want the two first pauses' and the later one's", got)
	}
	p.received(t, "InterviewEventsQueue") // what happened so far
	before := map[string]map[string]string{}
	for _, id := range []string{plain, later} {
		before[id] = map[string]string{"version": str(s.session(t, id), "version"), "updatedAt": str(s.session(t, id), "updatedAt")}
	}

	// Until the first timers have fired, the firer's clock stops short of T2 (however slow
	// this machine), so that the later pause's timer cannot fire with them.
	rt.firer.Now = func() time.Time { return minTime(time.Now(), t2.Add(-time.Second)) }
	outs := rt.fireWhenDue(t, t1)
	for len(outs) < 2 {
		outs = append(outs, rt.fireWhenDue(t, t1)...)
	}
	rt.firer.Now = nil
	for _, o := range outs {
		if !o.Settled || o.Err != nil || o.DeadLettered {
			t.Errorf("stale timer %+v: it must end quietly", o)
		}
	}
	for _, id := range []string{plain, later} {
		item := s.session(t, id)
		if str(item, "status") != "paused" || str(item, "version") != before[id]["version"] || str(item, "updatedAt") != before[id]["updatedAt"] {
			t.Errorf("%s after the stale timer: status %s version %s updatedAt %s; want it untouched (paused, %v)", id, str(item, "status"), str(item, "version"), str(item, "updatedAt"), before[id])
		}
	}
	p.drain(t)
	if evs := p.received(t, "InterviewEventsQueue"); len(evs) != 0 {
		t.Errorf("the stale timers announced %v", interviewEvents(t, evs, later))
	}
	if got := rt.schedules(t); !slices.Equal(got, []string{resumetimer.Name(resumetimer.Input{SessionID: later, Version: second})}) {
		t.Fatalf("schedules after T1: %v, want the later pause's only", got)
	}

	if outs := rt.fireWhenDue(t, t2); len(outs) != 1 || !outs[0].Settled {
		t.Fatalf("at T2: %+v", outs)
	}
	rt.notBefore(t, t1)
	item := s.session(t, later)
	resumedAt, _ := time.Parse(lifecycle.TimeLayout, str(item, "resumedAt"))
	if str(item, "status") != "active" || str(item, "version") != strconv.FormatInt(second+1, 10) || resumedAt.Before(t2) {
		t.Errorf("the later pause at T2: status %s version %s resumedAt %s; want active at %d, not before %s",
			str(item, "status"), str(item, "version"), str(item, "resumedAt"), second+1, lifecycle.FormatTime(t2))
	}
	if str(s.session(t, plain), "status") != "paused" {
		t.Errorf("the plain pause was resumed")
	}
	p.drain(t)
	want := []string{"InterviewResumed@" + strconv.FormatInt(second+1, 10) + " by scheduler"}
	if got := interviewEvents(t, p.received(t, "InterviewEventsQueue"), later); !slices.Equal(got, want) {
		t.Errorf("at T2 the bus carried %v, want %v", got, want)
	}
}

// TestACancelledSessionStaysCancelled: a session paused until T and cancelled before it: at
// T the timer finds it cancelled and writes nothing.
func TestACancelledSessionStaysCancelled(t *testing.T) {
	t.Parallel()
	s, p, l, rt := newTimerTest(t)
	id := demodata.AliceActive3

	at := time.Now().Add(timerAhead).UTC().Truncate(time.Millisecond)
	s.pauseUntil(t, id, "alice", at)
	if n := rt.deliver(t, p, l, 1); n != 1 {
		t.Fatalf("plan-resume took %d events", n)
	}
	if r := s.do(t, "POST", "/interviews/"+id+"/cancel", s.token(t, "alice"), `{"reason":"No longer needed"}`); r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.raw)
	}
	p.drain(t)
	p.received(t, "InterviewEventsQueue")
	cancelled := s.session(t, id)

	if outs := rt.fireWhenDue(t, at); len(outs) != 1 || !outs[0].Settled || outs[0].Err != nil {
		t.Fatalf("fired %+v", outs)
	}
	item := s.session(t, id)
	if str(item, "status") != "cancelled" || str(item, "version") != str(cancelled, "version") || str(item, "updatedAt") != str(cancelled, "updatedAt") {
		t.Errorf("after the timer: status %s version %s; want it as cancelled (version %s)", str(item, "status"), str(item, "version"), str(cancelled, "version"))
	}
	p.drain(t)
	if evs := p.received(t, "InterviewEventsQueue"); len(evs) != 0 {
		t.Errorf("the timer of a cancelled session announced %v", interviewEvents(t, evs, id))
	}
	if got := rt.schedules(t); len(got) != 0 {
		t.Errorf("schedules left: %v", got)
	}
}

// TestATimerDeliveredTwiceResumesOnce: the schedule fires and resume-scheduled is invoked
// with the same input again at once (two deliveries racing), and later the pause's event
// is delivered to plan-resume again (a late duplicate from the bus), which plans a schedule
// anew that fires too: one resume, one InterviewResumed, on the bus and on the WebSocket.
func TestATimerDeliveredTwiceResumesOnce(t *testing.T) {
	t.Parallel()
	s, p, l, rt := newTimerTest(t)
	id := demodata.BobActive
	bob := l.connect(t, s, "bob")

	at := time.Now().Add(timerAhead).UTC().Truncate(time.Millisecond)
	paused := s.pauseUntil(t, id, "bob", at)
	// The pause's event as the rule delivers it to plan-resume, kept to deliver again later.
	l.deliver(t, p)
	msgs := rt.takePlanEvents(t, p)
	if len(msgs) != 1 {
		t.Fatalf("%d events for plan-resume, want the pause's", len(msgs))
	}
	if err := rt.plan(context.Background(), msgs[0]); err != nil {
		t.Fatal(err)
	}
	input, _ := json.Marshal(resumetimer.Input{SessionID: id, Version: paused})

	// Once the schedule is due, it fires while resume-scheduled is invoked twice more with
	// its input: three deliveries racing.
	due := at.Truncate(time.Second).Add(time.Second)
	for time.Now().Before(due) {
		time.Sleep(time.Until(due))
	}
	var wg sync.WaitGroup
	var failed atomic.Int32
	var outs []schedulefire.Outcome
	var fireErr error
	wg.Go(func() { outs, fireErr = rt.firer.Drain(context.Background()) })
	for range 2 {
		wg.Go(func() {
			if err := rt.resume(context.Background(), string(input)); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || fireErr != nil || len(outs) != 1 || !outs[0].Settled || outs[0].Err != nil {
		t.Fatalf("a delivery failed: %d direct, fired %+v (%v)", failed.Load(), outs, fireErr)
	}
	// The late duplicate of the pause's event: planned again (the first schedule is gone),
	// fired at once (its time is past).
	if err := rt.plan(context.Background(), msgs[0]); err != nil {
		t.Fatal(err)
	}
	if outs := rt.fireWhenDue(t, time.Now()); len(outs) != 1 || !outs[0].Settled || outs[0].Err != nil {
		t.Fatalf("the replanned timer: %+v", outs)
	}
	rt.notBefore(t, at)

	if v := s.sessionVersion(t, id); v != paused+1 || str(s.session(t, id), "status") != "active" {
		t.Fatalf("version %d status %s after four deliveries, want one resume (%d, active)", v, str(s.session(t, id), "status"), paused+1)
	}
	l.deliver(t, p)
	want := []string{"InterviewPaused@" + strconv.FormatInt(paused, 10) + " by bob", "InterviewResumed@" + strconv.FormatInt(paused+1, 10) + " by scheduler"}
	if got := interviewEvents(t, p.received(t, "InterviewEventsQueue"), id); !slices.Equal(got, want) {
		t.Errorf("the bus carried %v, want %v", got, want)
	}
	var types []string
	for _, m := range bob.received(t) {
		types = append(types, m.Type+"@"+strconv.FormatInt(m.Version, 10))
	}
	if want := []string{event.TypeInterviewPaused + "@" + strconv.FormatInt(paused, 10), event.TypeInterviewResumed + "@" + strconv.FormatInt(paused+1, 10)}; !slices.Equal(types, want) {
		t.Errorf("bob heard %v, want %v", types, want)
	}
}

// takePlanEvents takes the events waiting on plan-resume's stand-in queue, as EventBridge
// delivers them to the function.
func (rt *resumeTimer) takePlanEvents(t *testing.T, p *pipeline) []events.EventBridgeEvent {
	t.Helper()
	var out []events.EventBridgeEvent
	for {
		r, err := p.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(rt.planner.Queue), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			return out
		}
		for _, m := range r.Messages {
			var e events.EventBridgeEvent
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
			if _, err := p.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(rt.planner.Queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// crashAfterCreate passes CreateSchedule to the scheduler, and then fails the first one
// made, as a plan-resume that dies right after the schedule is created.
type crashAfterCreate struct {
	schedules.SchedulerAPI
	crashed atomic.Bool
	calls   atomic.Int32
}

func (c *crashAfterCreate) CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error) {
	c.calls.Add(1)
	out, err := c.SchedulerAPI.CreateSchedule(ctx, in, opts...)
	if err == nil && c.crashed.CompareAndSwap(false, true) {
		return nil, errors.New("the function's sandbox died after CreateSchedule")
	}
	return out, err
}

// TestAPlannerRetriedAfterItsScheduleMadeOne: plan-resume fails right after creating the
// schedule; Lambda's retry finds it made (ConflictException) and succeeds, nothing goes to
// PlanResumeDLQ; another delivery of the same event alike. One schedule, one resume.
func TestAPlannerRetriedAfterItsScheduleMadeOne(t *testing.T) {
	t.Parallel()
	s := newStack(t, withResumeMinLead(timerLead))
	p := newPipeline(t, s)
	p.drain(t)
	l := newLiveChannel(t, s, p)
	crash := &crashAfterCreate{}
	rt := newResumeTimer(t, s, p, func(api schedules.SchedulerAPI) schedules.SchedulerAPI { crash.SchedulerAPI = api; return crash })
	id := demodata.AliceActive

	at := time.Now().Add(timerAhead).UTC().Truncate(time.Millisecond)
	paused := s.pauseUntil(t, id, "alice", at)
	p.drain(t)
	msgs := rt.takePlanEvents(t, p)
	if len(msgs) != 1 {
		t.Fatalf("%d events for plan-resume, want the pause's", len(msgs))
	}
	// As Lambda invokes it: the rule's event on the stand-in queue, retried on failure.
	b, _ := json.Marshal(msgs[0])
	if _, err := p.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(rt.planner.Queue), MessageBody: aws.String(string(b))}); err != nil {
		t.Fatal(err)
	}
	if n, err := rt.planner.Drain(context.Background()); err != nil || n != 1 {
		t.Fatalf("plan-resume took %d events (%v)", n, err)
	}
	if !crash.crashed.Load() || crash.calls.Load() != 2 {
		t.Fatalf("CreateSchedule called %d times (crashed %v), want the crash and Lambda's retry", crash.calls.Load(), crash.crashed.Load())
	}
	if err := rt.plan(context.Background(), msgs[0]); err != nil {
		t.Fatalf("another delivery of the event: %v", err)
	}
	if dead := p.rawMessages(t, "PlanResumeDLQ"); len(dead) != 0 {
		t.Errorf("PlanResumeDLQ holds %v", dead)
	}
	name := resumetimer.Name(resumetimer.Input{SessionID: id, Version: paused})
	if got := rt.schedules(t); !slices.Equal(got, []string{name}) {
		t.Fatalf("schedules %v, want [%s] alone", got, name)
	}
	if outs := rt.fireWhenDue(t, at); len(outs) != 1 || !outs[0].Settled {
		t.Fatalf("fired %+v", outs)
	}
	rt.notBefore(t, at)
	if v := s.sessionVersion(t, id); v != paused+1 || str(s.session(t, id), "status") != "active" {
		t.Fatalf("version %d, want one resume (%d)", v, paused+1)
	}
	l.deliver(t, p)
	want := []string{"InterviewPaused@" + strconv.FormatInt(paused, 10) + " by alice", "InterviewResumed@" + strconv.FormatInt(paused+1, 10) + " by scheduler"}
	if got := interviewEvents(t, p.received(t, "InterviewEventsQueue"), id); !slices.Equal(got, want) {
		t.Errorf("the bus carried %v, want %v", got, want)
	}
}

// unavailable is an interview store whose every write fails, as when DynamoDB cannot be
// reached.
type unavailable struct{ httpapi.InterviewStore }

func (unavailable) Apply(context.Context, interview.Transition, interview.Request) (interview.Session, bool, error) {
	return interview.Session{}, false, errors.New("DynamoDB unavailable")
}

// TestATimerThatKeepsFailingIsDeadLettered: resume-scheduled fails every attempt the
// schedule's retry policy allows (185 retries, the product's; no wait between them
// locally); the schedule's input then lands in ResumeDLQ with the error, the schedule is
// gone, and the session stays paused.
func TestATimerThatKeepsFailingIsDeadLettered(t *testing.T) {
	t.Parallel()
	s, p, l, rt := newTimerTest(t)
	broken := s.cfg
	broken.Stores = func(db *dynamodb.Client, table string) httpapi.Stores {
		return httpapi.Stores{Interviews: unavailable{dynamo.NewInterviews(db, table, time.Now, lifecycle.NewID)}}
	}
	rt.resume = wiring.ResumeScheduled(broken)
	rt.firer.Delays = nil
	id := demodata.AliceActive

	at := time.Now().Add(timerAhead).UTC().Truncate(time.Millisecond)
	paused := s.pauseUntil(t, id, "alice", at)
	if n := rt.deliver(t, p, l, 1); n != 1 {
		t.Fatalf("plan-resume took %d events", n)
	}
	outs := rt.fireWhenDue(t, at)
	if len(outs) != 1 || !outs[0].DeadLettered || !outs[0].Settled || outs[0].Attempts != schedules.MaxRetries+1 {
		t.Fatalf("fired %+v, want dead-lettered after %d attempts", outs, schedules.MaxRetries+1)
	}
	r, err := p.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(p.es.Queues["ResumeDLQ"]), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Messages) != 1 {
		t.Fatalf("%d messages in ResumeDLQ, want 1", len(r.Messages))
	}
	m := r.Messages[0]
	var in resumetimer.Input
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &in); err != nil || in != (resumetimer.Input{SessionID: id, Version: paused}) {
		t.Errorf("ResumeDLQ holds %q, want the schedule's input", aws.ToString(m.Body))
	}
	attr := func(k string) string { return aws.ToString(m.MessageAttributes[k].StringValue) }
	if !strings.Contains(attr("ERROR_MESSAGE"), "DynamoDB unavailable") || attr("RETRY_ATTEMPTS") != strconv.Itoa(schedules.MaxRetries) ||
		attr("TARGET_ARN") != wiring.ResumeScheduledARN || !strings.HasSuffix(attr("SCHEDULE_ARN"), "/"+resumetimer.Name(in)) {
		t.Errorf("the dead letter's attributes: %v", dlqAttributes(m))
	}
	if got := rt.schedules(t); len(got) != 0 {
		t.Errorf("schedules left: %v", got)
	}
	if item := s.session(t, id); str(item, "status") != "paused" || s.sessionVersion(t, id) != paused {
		t.Errorf("the session after the dead letter: %s at %s, want paused at %d", str(item, "status"), str(item, "version"), paused)
	}
}

func dlqAttributes(m sqstypes.Message) map[string]string {
	out := map[string]string{}
	for k, v := range m.MessageAttributes {
		out[k] = aws.ToString(v.StringValue)
	}
	return out
}

// TestPauseRefusesABadResumeAt: resumeAt through the API, at the product's bounds (a minute
// to 90 days ahead): too soon, too far, not a time, a time without its zone, not a string,
// and an unknown field beside it are each the documented 400, and change nothing; null is a
// plain pause.
func TestPauseRefusesABadResumeAt(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	tok := s.token(t, "alice")
	id := demodata.AliceActive
	now := time.Now().UTC()
	for _, c := range []struct{ name, body, details string }{
		{"too soon", `{"resumeAt":"` + lifecycle.FormatTime(now.Add(30*time.Second)) + `"}`, "resumeAt must be at least 60 seconds from now"},
		{"in the past", `{"resumeAt":"` + lifecycle.FormatTime(now.Add(-time.Hour)) + `"}`, "resumeAt must be at least 60 seconds from now"},
		{"too far", `{"resumeAt":"` + lifecycle.FormatTime(now.Add(91*24*time.Hour)) + `"}`, "resumeAt must be at most 90 days from now"},
		{"not a time", `{"resumeAt":"tomorrow"}`, "resumeAt must be an RFC 3339 timestamp with its zone"},
		{"no zone", `{"resumeAt":"` + now.Add(time.Hour).Format("2006-01-02T15:04:05") + `"}`, "resumeAt must be an RFC 3339 timestamp with its zone"},
		{"a number", `{"resumeAt":1893456000}`, ""},
		{"an unknown field", `{"resumeAt":"` + lifecycle.FormatTime(now.Add(time.Hour)) + `","until":"later"}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, "POST", "/interviews/"+id+"/pause", tok, c.body)
			details, _ := r.body["details"].(string)
			if r.status != http.StatusBadRequest || r.body["error"] != "Invalid request" || r.body["code"] != "INVALID_REQUEST" ||
				details == "" || (c.details != "" && details != c.details) {
				t.Errorf("%s: %d %s, want 400 INVALID_REQUEST with details %q", c.body, r.status, r.raw, c.details)
			}
			if item := s.session(t, id); str(item, "status") != "active" || str(item, "version") != "1" {
				t.Errorf("the refused pause changed the session: %s at %s", str(item, "status"), str(item, "version"))
			}
		})
	}
	r := s.do(t, "POST", "/interviews/"+id+"/pause", tok, `{"resumeAt":null}`)
	if _, has := r.body["resumeAt"]; r.status != http.StatusOK || r.body["status"] != "paused" || has {
		t.Errorf(`{"resumeAt":null}: %d %s, want a plain pause`, r.status, r.raw)
	}
	if item := s.session(t, id); item["resumeAt"] != nil {
		t.Errorf("a plain pause stored resumeAt %v", item["resumeAt"])
	}
}

// TestATimedPauseRetriedLaterIsReplayed: a client retries a timed pause (its answer was
// lost) once its resumeAt is no longer a minute ahead, and then after it: each retry is the
// first attempt's answer again, replayed, though a fresh pause with that resumeAt is
// refused.
func TestATimedPauseRetriedLaterIsReplayed(t *testing.T) {
	t.Parallel()
	start := time.Now().UTC().Truncate(time.Millisecond)
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	s := newStack(t, withNow(func() time.Time { return time.Unix(0, clock.Load()) }))
	tok := s.token(t, "alice")
	path := "/interviews/" + demodata.AliceActive + "/pause"
	body := `{"resumeAt":"` + lifecycle.FormatTime(start.Add(interview.MinResumeLead+time.Second)) + `"}`
	key := randomName("key-")
	first := s.do(t, "POST", path, tok, body, "Idempotency-Key", key)
	if first.status != http.StatusOK || first.body["status"] != "paused" {
		t.Fatalf("first attempt: %d %s", first.status, first.raw)
	}
	for _, later := range []time.Duration{3 * time.Second, interview.MinResumeLead + 2*time.Second} {
		clock.Store(start.Add(later).UnixNano())
		again := s.do(t, "POST", path, tok, body, "Idempotency-Key", key)
		if again.status != http.StatusOK || again.header.Get("Idempotent-Replayed") != "true" || again.raw != first.raw {
			t.Errorf("retry %s later: %d replayed=%q %s, want the first answer replayed:\n%s",
				later, again.status, again.header.Get("Idempotent-Replayed"), again.raw, first.raw)
		}
	}
	if item := s.session(t, demodata.AliceActive); str(item, "version") != "2" {
		t.Errorf("version %s after the retries, want 2: only the first attempt wrote", str(item, "version"))
	}
	// Another session, another key: the same resumeAt is a fresh request, out of bounds.
	r := s.do(t, "POST", "/interviews/"+demodata.AliceActive2+"/pause", tok, body, "Idempotency-Key", randomName("key-"))
	if r.status != http.StatusBadRequest || r.body["details"] != "resumeAt must be at least 60 seconds from now" {
		t.Errorf("a fresh pause with the same resumeAt: %d %s, want 400", r.status, r.raw)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// newTimerTest is a timer test's stack (pauses of a few seconds allowed), its drained
// pipeline, its live channel and its resume timer.
func newTimerTest(t *testing.T) (*stack, *pipeline, *liveChannel, *resumeTimer) {
	t.Helper()
	s := newStack(t, withResumeMinLead(timerLead))
	p := newPipeline(t, s)
	p.drain(t)
	return s, p, newLiveChannel(t, s, p), newResumeTimer(t, s, p, nil)
}
