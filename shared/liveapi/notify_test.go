package liveapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/live/livetest"

	"github.com/lifecycle-api/lifecycle/shared/live"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/event"
)

// memPusher records what each connection received; gone connections answer 410, failing
// ones fail their first failures[id] attempts (-1: every attempt).
type memPusher struct {
	mu       sync.Mutex
	got      map[string][][]byte
	gone     map[string]bool
	failures map[string]int
	attempts map[string]int
	closed   []string
	// inFlight and peak measure concurrency; hold, when set, makes each push wait until
	// release is closed or enough pushes are in flight.
	inFlight, peak atomic.Int64
	hold           int64
	release        chan struct{}
}

func newPusher() *memPusher {
	return &memPusher{got: map[string][][]byte{}, gone: map[string]bool{}, failures: map[string]int{}, attempts: map[string]int{}}
}

func (p *memPusher) Push(_ context.Context, id string, data []byte) error {
	n := p.inFlight.Add(1)
	defer p.inFlight.Add(-1)
	for {
		peak := p.peak.Load()
		if n <= peak || p.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	if p.hold > 0 {
		if n >= p.hold {
			p.mu.Lock()
			select {
			case <-p.release:
			default:
				close(p.release)
			}
			p.mu.Unlock()
		}
		select {
		case <-p.release:
		case <-time.After(2 * time.Second):
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts[id]++
	switch {
	case p.gone[id]:
		return fmt.Errorf("%w: GoneException", live.ErrGone)
	case p.failures[id] < 0 || p.attempts[id] <= p.failures[id]:
		return errors.New("post to connection: LimitExceededException")
	}
	p.got[id] = append(p.got[id], data)
	return nil
}

func (p *memPusher) Disconnect(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = append(p.closed, id)
	if p.gone[id] {
		return fmt.Errorf("%w: GoneException", live.ErrGone)
	}
	return nil
}

func ebEvent(dt string, detail json.RawMessage) events.EventBridgeEvent {
	return events.EventBridgeEvent{ID: "eb-1", DetailType: dt, Source: event.Types[dt], Detail: detail}
}

func fastLimits(concurrency int) Limits {
	return Limits{Concurrency: concurrency, Attempts: 3, Backoff: time.Millisecond}
}

func connected(store *memTickets, conns ...live.Connection) {
	for _, c := range conns {
		store.conns[c.ID] = c
	}
}

var (
	aliceTab1 = live.Connection{ID: "alice-1", Sub: "alice"}
	aliceTab2 = live.Connection{ID: "alice-2", Sub: "alice"}
	bobTab    = live.Connection{ID: "bob-1", Sub: "bob"}
	danaTab   = live.Connection{ID: "dana-1", Sub: "dana", Roles: []string{"Dispatcher"}}
	adamTab   = live.Connection{ID: "adam-1", Sub: "adam", Roles: []string{"Admin"}}
	tomTab    = live.Connection{ID: "tom-1", Sub: "tom", Roles: []string{"Technician"}}
)

func TestNotifierSendsToTheEntitledOnly(t *testing.T) {
	cases := []struct {
		name string
		ev   events.EventBridgeEvent
		want []string
	}{
		{"alice's pause", ebEvent(event.TypeInterviewPaused, livetest.InterviewEvent(event.TypeInterviewPaused, "alice", 2)), []string{"alice-1", "alice-2"}},
		{"bob's resume", ebEvent(event.TypeInterviewResumed, livetest.InterviewEvent(event.TypeInterviewResumed, "bob", 3)), []string{"bob-1"}},
		// Dispatchers and admins, and tom, whose booking it ended (issue 25, part 7).
		{"a job cancel", ebEvent(event.TypeJobCancelled, livetest.JobEvent(3)), []string{"adam-1", "dana-1", "tom-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store, pusher := newMemTickets(), newPusher()
			connected(store, aliceTab1, aliceTab2, bobTab, danaTab, adamTab, tomTab)
			logger, logs := newLogger()
			if err := NewNotifier(store, pusher, logger, fastLimits(4), clock).Handle(context.Background(), c.ev); err != nil {
				t.Fatal(err)
			}
			for _, conn := range []live.Connection{aliceTab1, aliceTab2, bobTab, danaTab, adamTab, tomTab} {
				entitled := false
				for _, id := range c.want {
					entitled = entitled || id == conn.ID
				}
				got := pusher.got[conn.ID]
				if entitled != (len(got) == 1) || len(got) > 1 {
					t.Errorf("%s received %d messages, entitled %v", conn.ID, len(got), entitled)
				}
				for _, data := range got {
					var m live.Message
					_, want, _, _ := live.Address(c.ev.DetailType, c.ev.Detail)
					if err := json.Unmarshal(data, &m); err != nil || m.Type != c.ev.DetailType || string(m.Detail) != string(want.Detail) {
						t.Errorf("%s received %s", conn.ID, data)
					}
				}
			}
			last := logs.Lines(t)[len(logs.Lines(t))-1]
			if last["msg"] != "event delivered" || last["connections"] != float64(len(c.want)) || last["sent"] != float64(len(c.want)) {
				t.Errorf("summary line %v", last)
			}
		})
	}
}

func TestNotifierSkipsWhatTheStoreListsOutsideTheAudience(t *testing.T) {
	// A store whose index went wrong: it lists bob and tom for alice's event.
	store, pusher := &fixedAudience{conns: []live.Connection{aliceTab1, bobTab, tomTab}}, newPusher()
	logger, _ := newLogger()
	err := NewNotifier(store, pusher, logger, fastLimits(4), clock).Handle(context.Background(),
		ebEvent(event.TypeInterviewPaused, livetest.InterviewEvent(event.TypeInterviewPaused, "alice", 2)))
	if err != nil {
		t.Fatal(err)
	}
	if len(pusher.got) != 1 || len(pusher.got["alice-1"]) != 1 {
		t.Errorf("sent to %v; only alice-1 is entitled", pusher.got)
	}
}

type fixedAudience struct{ conns []live.Connection }

func (f *fixedAudience) Audience(context.Context, live.Audience) ([]live.Connection, error) {
	return f.conns, nil
}
func (f *fixedAudience) Close(context.Context, string) error { return nil }

func TestNotifierForgetsGoneConnections(t *testing.T) {
	store, pusher := newMemTickets(), newPusher()
	connected(store, aliceTab1, aliceTab2)
	pusher.gone["alice-2"] = true
	logger, _ := newLogger()
	err := NewNotifier(store, pusher, logger, fastLimits(4), clock).Handle(context.Background(),
		ebEvent(event.TypeInterviewPaused, livetest.InterviewEvent(event.TypeInterviewPaused, "alice", 2)))
	if err != nil {
		t.Fatalf("a gone connection failed the event: %v", err)
	}
	if _, ok := store.conns["alice-2"]; ok || len(store.closed) != 1 || store.closed[0] != "alice-2" {
		t.Errorf("gone connection not forgotten: closed %v", store.closed)
	}
	if pusher.attempts["alice-2"] != 1 {
		t.Errorf("a 410 was retried %d times", pusher.attempts["alice-2"]-1)
	}
	if len(pusher.got["alice-1"]) != 1 {
		t.Error("the live connection did not receive the event")
	}
	// Forgetting it failing is logged, not an event failure: its TTL removes it.
	store, pusher = newMemTickets(), newPusher()
	connected(store, aliceTab1)
	pusher.gone["alice-1"], store.closeErr = true, errors.New("throttled")
	if err := NewNotifier(store, pusher, logger, fastLimits(4), clock).Handle(context.Background(),
		ebEvent(event.TypeInterviewPaused, livetest.InterviewEvent(event.TypeInterviewPaused, "alice", 2))); err != nil {
		t.Errorf("a failed cleanup failed the event: %v", err)
	}
}

func TestNotifierRetriesThenReportsUnreachableConnections(t *testing.T) {
	store, pusher := newMemTickets(), newPusher()
	connected(store, danaTab, adamTab, aliceTab1)
	pusher.failures["dana-1"] = 2  // fails twice, then gets through on the third attempt
	pusher.failures["adam-1"] = -1 // never gets through
	logger, logs := newLogger()
	err := NewNotifier(store, pusher, logger, fastLimits(4), clock).Handle(context.Background(), ebEvent(event.TypeJobCancelled, livetest.JobEvent(3)))
	var unreachable *UnreachableError
	if !errors.As(err, &unreachable) || unreachable.Failed != 1 || unreachable.Entitled != 2 || unreachable.EventID != event.ID("job", "0b000000-0000-4000-8000-000000000003", 3) {
		t.Fatalf("error %v, want 1 of 2 entitled connections unreachable", err)
	}
	if len(pusher.got["dana-1"]) != 1 || pusher.attempts["dana-1"] != 3 {
		t.Errorf("dana: %d messages after %d attempts; want 1 after 3", len(pusher.got["dana-1"]), pusher.attempts["dana-1"])
	}
	if pusher.attempts["adam-1"] != 3 {
		t.Errorf("adam's connection was tried %d times, want 3", pusher.attempts["adam-1"])
	}
	if _, ok := store.conns["adam-1"]; !ok {
		t.Error("an unreachable (not gone) connection was forgotten")
	}
	found := false
	for _, l := range logs.Lines(t) {
		found = found || (l["msg"] == "connection unreachable" && l["connection"] == "adam-1")
	}
	if !found {
		t.Error("the unreachable connection is not logged")
	}
}

func TestNotifierBoundsItsConcurrency(t *testing.T) {
	const limit, conns = 8, 200
	store, pusher := newMemTickets(), newPusher()
	for i := range conns {
		connected(store, live.Connection{ID: fmt.Sprintf("alice-%03d", i), Sub: "alice"})
	}
	// The first pushes wait until `limit` are in flight together: the bound is reached,
	// and the peak shows it is never passed.
	pusher.hold, pusher.release = limit, make(chan struct{})
	logger, _ := newLogger()
	if err := NewNotifier(store, pusher, logger, fastLimits(limit), clock).Handle(context.Background(),
		ebEvent(event.TypeInterviewPaused, livetest.InterviewEvent(event.TypeInterviewPaused, "alice", 2))); err != nil {
		t.Fatal(err)
	}
	if got := pusher.peak.Load(); got != limit {
		t.Errorf("peak of %d sends in flight, want exactly the bound %d", got, limit)
	}
	if len(pusher.got) != conns {
		t.Errorf("%d connections reached, want %d", len(pusher.got), conns)
	}
}

// TestNotifierFailsWhatItCannotRoute: each failed invocation returns its error to Lambda
// (which retries the event) and logs it once, with the event's ids.
func TestNotifierFailsWhatItCannotRoute(t *testing.T) {
	logger, logs := newLogger()
	store := newMemTickets()
	n := NewNotifier(store, newPusher(), logger, fastLimits(4), clock)
	failures := 0
	for name, ev := range map[string]events.EventBridgeEvent{
		"unknown type":  {DetailType: "InterviewArchived", Source: event.SourceInterviews, Detail: livetest.InterviewEvent(event.TypeInterviewPaused, "alice", 2)},
		"wrong source":  {DetailType: event.TypeJobCancelled, Source: event.SourceInterviews, Detail: livetest.JobEvent(2)},
		"no owner":      ebEvent(event.TypeInterviewPaused, livetest.InterviewEvent(event.TypeInterviewPaused, "", 2)),
		"unreadable":    ebEvent(event.TypeJobCancelled, json.RawMessage(`{"jobId":`)),
		"missing event": ebEvent(event.TypeJobCancelled, json.RawMessage(`{"jobId":"0b000000-0000-4000-8000-000000000003"}`)),
	} {
		if err := n.Handle(context.Background(), ev); err == nil {
			t.Errorf("%s: handled without error", name)
		}
		failures++
	}
	store.err = errors.New("throttled")
	if err := n.Handle(context.Background(), ebEvent(event.TypeJobCancelled, livetest.JobEvent(3))); err == nil || !strings.Contains(err.Error(), "cannot list the audience's connections: throttled") {
		t.Errorf("an audience the store could not list: %v", err)
	}
	failures++
	var errorLines int
	for _, l := range logs.Lines(t) {
		if l["level"] == "ERROR" {
			errorLines++
			if l["msg"] != "event not delivered" || l["err"] == nil || l["detailType"] == nil {
				t.Errorf("error line %v, want one \"event not delivered\" with the reason and the event", l)
			}
		}
	}
	if errorLines != failures {
		t.Errorf("%d error lines for %d failed invocations, want one each", errorLines, failures)
	}
}

func TestNotifierRetiresConnectionsWhoseTokenExpired(t *testing.T) {
	store, pusher := newMemTickets(), newPusher()
	stale := live.Connection{ID: "dana-old", Sub: "dana", Roles: []string{"Dispatcher"}, Until: t0}
	fresh := live.Connection{ID: "dana-new", Sub: "dana", Roles: []string{"Dispatcher"}, Until: t0.Add(time.Minute)}
	connected(store, stale, fresh, adamTab)
	logger, logs := newLogger()
	if err := NewNotifier(store, pusher, logger, fastLimits(4), clock).Handle(context.Background(), ebEvent(event.TypeJobCancelled, livetest.JobEvent(3))); err != nil {
		t.Fatal(err)
	}
	if len(pusher.got["dana-old"]) != 0 || len(pusher.got["dana-new"]) != 1 || len(pusher.got["adam-1"]) != 1 {
		t.Errorf("received: %v; a connection past its token's expiry must get nothing", pusher.got)
	}
	if len(pusher.closed) != 1 || pusher.closed[0] != "dana-old" {
		t.Errorf("closed %v, want the expired connection closed", pusher.closed)
	}
	if _, ok := store.conns["dana-old"]; ok {
		t.Error("the expired connection was not forgotten")
	}
	last := logs.Lines(t)[len(logs.Lines(t))-1]
	if last["expired"] != float64(1) || last["connections"] != float64(2) {
		t.Errorf("summary %v", last)
	}
}

// TestTheTechniciansAJobEventConcernsHearOfIt (issue 25, part 7): a reassignment reaches the
// dispatchers and admins, the technician booked (who may now confirm) and the one it was
// taken from (who may do nothing more to it), once each, and no other technician; a
// technician who also dispatches gets it once, with what both roles may do (as
// GET /jobs/{id} tells them).
func TestTheTechniciansAJobEventConcernsHearOfIt(t *testing.T) {
	tess := live.Connection{ID: "tess-1", Sub: "tess", Roles: []string{"Technician"}}
	tim := live.Connection{ID: "tim-1", Sub: "tim", Roles: []string{"Technician"}}
	both := live.Connection{ID: "tom-2", Sub: "tom", Roles: []string{"Technician", "Dispatcher"}}
	d := event.Job{
		Transition: event.Transition{EventID: event.ID("job", "0b000000-0000-4000-8000-000000000003", 4), OccurredAt: event.Time{Time: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)},
			Actor: event.Actor{Sub: "dana", Roles: []string{"Dispatcher"}}, Version: 4, PreviousStatus: "Assigned", Status: "Assigned"},
		JobID:                  "0b000000-0000-4000-8000-000000000003",
		Booked:                 &event.Booking{ID: "a-2", TechnicianID: "tom", ScheduledStart: event.Time{Time: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}, ScheduledEnd: event.Time{Time: time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)}},
		UnassignedTechnicianID: "tess",
	}
	detail, _ := json.Marshal(d)
	store, pusher := newMemTickets(), newPusher()
	connected(store, danaTab, tomTab, both, tess, tim, aliceTab1)
	logger, _ := newLogger()
	if err := NewNotifier(store, pusher, logger, fastLimits(4), clock).Handle(context.Background(), ebEvent(event.TypeJobAssigned, detail)); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"dana-1": {"cancel", "assign", "reschedule"}, "tom-2": {"cancel", "assign", "reschedule", "confirm"}, "tom-1": {"confirm"}, "tess-1": {}}
	for _, c := range []live.Connection{danaTab, tomTab, both, tess, tim, aliceTab1} {
		got := pusher.got[c.ID]
		actions, entitled := want[c.ID]
		if len(got) != map[bool]int{true: 1, false: 0}[entitled] {
			t.Errorf("%s received %d messages, entitled %v", c.ID, len(got), entitled)
			continue
		}
		if !entitled {
			continue
		}
		var m live.Message
		if err := json.Unmarshal(got[0], &m); err != nil || !slices.Equal(m.AllowedActions, actions) || m.Type != event.TypeJobAssigned {
			t.Errorf("%s received %s, want allowedActions %v", c.ID, got[0], actions)
		}
	}
}
