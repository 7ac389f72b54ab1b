// Package robustness hammers the local API with concurrent random transitions (sessions
// paused, resumed and cancelled, and resumed by the scheduler when paused until a time;
// jobs assigned, reassigned, rescheduled and cancelled on a few technicians whose
// candidate windows overlap) while a fault-injecting proxy sits
// between the functions and moto (DynamoDB, EventBridge), and (with Options.Bootstraps)
// runs the functions as their real bootstraps and kills them with SIGKILL at chosen
// points. Then it checks what the clients were told against what was committed and what
// was published:
//
//   - the history of every HTTP attempt (call and return times, action, entity, key,
//     booking asked for, answer) is linearizable against a model of the lifecycle and of
//     the technicians' calendars (model.go), checked with porcupine; a history that is not
//     is written as porcupine's HTML visualisation;
//   - every committed transition has exactly its event in the audit table and every event
//     its committed transition; a request told 200 has its event, a refused one none; a job
//     and its assignment change together, and the calendar's slot items are exactly the
//     live assignments' windows (check.go);
//   - no client got an answer outside the contract.
//
// `make reliability` runs it at full size, `make soak` for a duration at a steady rate,
// `make test` a small run and a broken store the checker must catch.
package robustness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
	"github.com/lifecycle-api/lifecycle/tools/measure/faultproxy"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// Options size a run.
type Options struct {
	Clients int
	// Requests is the size of a fixed run (Run).
	Requests int
	// Sessions and Jobs are the entities the load works on (per round, in a soak).
	Sessions int
	Jobs     int
	// Technicians are whom the jobs are booked onto, per booking group (the jobs are dealt
	// into groups of up to bookingGroup, each with technicians of its own): few, so that
	// bookings conflict. With none, the jobs are only cancelled.
	Technicians int
	// FaultRate is the chance that a request from a function to DynamoDB or EventBridge
	// meets a fault (spread evenly over throttling, 5xx, reset, slow, lost answer).
	FaultRate float64
	// ClientRetries is how often a client sends a request again, with the same
	// Idempotency-Key, when its answer said nothing (503, a failed invocation, no answer).
	ClientRetries int
	Seed          uint64
	// Bootstraps runs the load's HTTP functions (pause, resume and cancel an interview;
	// assign, reschedule and cancel a job) and the publisher as their real bootstraps
	// (bin/amd64, `make build`) under the Runtime API, in place of in-process handlers.
	// Crashes need it.
	Bootstraps bool
	// CrashRate is the chance that an invocation of a load function is killed (SIGKILL),
	// half of them before their write and half after it, before the answer.
	CrashRate float64
	// PublisherCrashRate is the chance that a publisher invocation is killed at one of its
	// PutEvents calls (before or after it is applied); when it is above 0, the run's first
	// invocation with events is killed whatever the coin says.
	PublisherCrashRate float64
	// BatchWindow is how long stream records gather before the publisher gets them
	// (template.yaml: MaximumBatchingWindowInSeconds, 1 s).
	BatchWindow time.Duration
	// Duration, Rate and Round make a soak (Soak): Rate requests a second for Duration,
	// each Round on new entities, checked and reported while the next one runs.
	Duration time.Duration
	Rate     float64
	Round    time.Duration
	// Stores builds the stores of the in-process functions (Bootstraps false): a test puts
	// a deliberately broken store there, which the checker must catch.
	Stores func(db *dynamodb.Client, table string) httpapi.Stores
	// Settle bounds how long a round waits for its events to reach the audit table before
	// it is checked (default settleTimeout). A broken store can commit a version that no
	// event announces (a lost update that leaves the status as it was), so its round never
	// completes: its test waits less than its own deadline, then checks.
	Settle time.Duration
	// Progress receives start-up lines.
	Progress io.Writer
}

// Report is what a run saw.
type Report struct {
	Options       Options
	Duration      time.Duration
	Load          time.Duration // from the first request sent to the last answer received
	Rounds        int
	Requests      int            // logical requests
	Attempts      int            // HTTP requests sent, retries included
	ClientRetries int            // attempts beyond the first
	Outcomes      map[string]int // final answers: "200", "200 replayed", "404 INVALID_TRANSITION", …
	JobAnswers    map[string]int // the job requests' final answers by action: "assign: 409 BOOKING_CONFLICT", …
	Timers        map[string]int // the scheduler's timers (timers.go), by how they ended
	Successes     int
	Lost          int            // attempts whose answer said nothing (crash, 503, connection)
	Faults        map[string]int // injected, by "operation fault"
	Crashes       map[string]int // sandboxes killed, by "function: where"
	ColdStarts    int            // sandboxes started
	Committed     int            // transitions committed (version steps on the items)
	Bookings      map[string]int // committed job transitions that moved a calendar, by kind, from their events
	Slots         int            // quarter-hours booked in the technicians' calendars at the end
	Events        int            // events in the audit table (one per eventId)
	BusAccepted   int            // event entries the bus accepted, copies included
	BusTwice      int            // events the bus accepted more than once
	AuditRepeats  int            // deliveries the audit consumer found already recorded
	GivenUp       int            // stream records the poller gave up on (the failure queue)
	Operations    int            // operations porcupine checked
	LeftOut       int            // attempts left out of them: said nothing, and their request never committed
	CheckTime     time.Duration
	Linearizable  string // "yes", "no", "unknown (timed out)"
	History       string // porcupine's visualisation of the histories that are not linearizable
	Memory        []MemorySample
	Violations    []string
	// Traces shows, for each request a violation names (and each eventful request of a
	// partition whose history is not linearizable), its attempts and the DynamoDB requests
	// made for it, with the faults they met (trace.go).
	Traces []string
}

// MemorySample is the local API's memory at one moment.
type MemorySample struct {
	// RSS and Heap are the harness process's (the API Gateway stand-in, the stream poller,
	// the audit consumer, the in-process functions): resident set, and live Go heap
	// after a collection.
	RSS, Heap int64
	// Sandboxes is the resident memory of the function processes alive then, summed.
	Sandboxes int64
	// Goroutines in the harness.
	Goroutines int
}

// harness is a running stack with the load's clients, faults and crashes.
type harness struct {
	o      Options
	logDir string
	start  time.Time
	st     *stack.Stack
	srv    *httptest.Server
	client *http.Client
	token  string
	sb     *sandboxes

	rngMu  sync.Mutex
	rng    *rand.Rand
	faults atomic.Bool  // the proxies' random faults are on (the crashes always are)
	timers atomic.Int64 // timers planned so far (timers.go)
	// cancelShare is the chance that a job request is a cancel: enough to cancel about a
	// quarter of a round's jobs by its end, so that most of them keep being booked.
	cancelShare float64

	loadStart, loadEnd atomic.Int64 // on the history's clock

	proxyMu sync.Mutex
	proxies []*faultproxy.Proxy

	busMu sync.Mutex
	bus   map[string]int // eventId → entries the bus accepted

	traceMu sync.Mutex
	traces  map[string][]storeCall // by correlation id

	closeLog func() error
	logger   *slog.Logger

	repMu sync.Mutex
	rep   Report
}

var injected = []faultproxy.Fault{faultproxy.Throttle, faultproxy.ServerError, faultproxy.Reset, faultproxy.Slow, faultproxy.DropAfterApply}

func (h *harness) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	h.rngMu.Lock()
	defer h.rngMu.Unlock()
	return h.rng.Float64() < p
}

func (h *harness) intn(n int) int {
	h.rngMu.Lock()
	defer h.rngMu.Unlock()
	return h.rng.IntN(n)
}

// fault is the random fault plan every proxy follows.
func (h *harness) fault(string) faultproxy.Fault {
	if !h.faults.Load() || !h.chance(h.o.FaultRate) {
		return faultproxy.None
	}
	return injected[h.intn(len(injected))]
}

// proxy starts a fault proxy that counts the events the bus accepts and traces the
// requests to DynamoDB.
func (h *harness) proxy(c faultproxy.Config) (*faultproxy.Proxy, error) {
	c.SlowDelay, c.Observe = 50*time.Millisecond, h.observe
	p, err := faultproxy.New(c)
	if err != nil {
		return nil, err
	}
	h.proxyMu.Lock()
	h.proxies = append(h.proxies, p)
	h.proxyMu.Unlock()
	return p, nil
}

// accepted counts, per eventId, the entries of a PutEvents call the bus answered 200
// (whether or not the answer reached the publisher).
func (h *harness) accepted(ex faultproxy.Exchange) {
	if ex.Status != http.StatusOK {
		return
	}
	var in struct{ Entries []struct{ Detail string } }
	if json.Unmarshal(ex.Request, &in) != nil {
		return
	}
	h.busMu.Lock()
	defer h.busMu.Unlock()
	for _, e := range in.Entries {
		var d struct {
			EventID string `json:"eventId"`
		}
		if json.Unmarshal([]byte(e.Detail), &d) == nil {
			h.bus[d.EventID]++
		}
	}
}

func (h *harness) now() int64 { return time.Since(h.start).Nanoseconds() }

func (h *harness) progress(format string, args ...any) {
	if h.o.Progress != nil {
		fmt.Fprintf(h.o.Progress, "==> "+format+"\n", args...)
	}
}

// setup starts the stack (and the sandboxes) and mints the load's token.
func setup(ctx context.Context, o Options) (_ *harness, err error) {
	if o.CrashRate+o.PublisherCrashRate > 0 && !o.Bootstraps {
		return nil, fmt.Errorf("crashes need the real bootstraps (Bootstraps)")
	}
	if o.BatchWindow == 0 {
		o.BatchWindow = time.Second
	}
	if o.Settle == 0 {
		o.Settle = settleTimeout
	}
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	h := &harness{o: o, logDir: filepath.Join(root, "test-output", "reliability"), start: time.Now(),
		rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), bus: map[string]int{}, traces: map[string][]storeCall{},
		rep: Report{Options: o, Outcomes: map[string]int{}, JobAnswers: map[string]int{}, Timers: map[string]int{}, Bookings: map[string]int{}}}
	// About Jobs/4 cancels among a round's job requests (a quarter of its requests).
	perRound := float64(o.Requests)
	if o.Duration > 0 {
		perRound = o.Rate * o.Round.Seconds()
	}
	if jobRequests := perRound / jobShare; jobRequests > 0 {
		h.cancelShare = min(0.25, max(0.005, float64(o.Jobs)/4/jobRequests))
	}
	h.faults.Store(true)
	defer func() {
		if err != nil {
			h.close()
		}
	}()
	if err := os.MkdirAll(h.logDir, 0o755); err != nil {
		return nil, err
	}
	key := []byte("reliability-signing-key-0123456789abcdef")
	// The stack's own components (the stream poller, the audit consumer, the notifier)
	// log their warnings beside the sandboxes' log: a stream that stops moving says why.
	stackLog, err := os.Create(filepath.Join(h.logDir, fmt.Sprintf("stack-seed%d.log", o.Seed)))
	if err != nil {
		return nil, err
	}
	h.closeLog = stackLog.Close
	h.logger = slog.New(slog.NewJSONHandler(stackLog, &slog.HandlerOptions{Level: slog.LevelWarn}))
	so := stack.Options{
		Table: "reliability", AuditTable: "reliability-audit",
		LogDir:     h.logDir,
		Logger:     h.logger,
		Verify:     func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
		Progress:   o.Progress,
		ManualPoll: true,
		Wiring:     func(c *wiring.Config) { c.Stores = o.Stores },
		Via: func(service, endpoint string) (string, error) {
			p, err := h.proxy(faultproxy.Config{Target: endpoint, Plan: h.fault})
			if err != nil {
				return "", err
			}
			return p.URL, nil
		},
	}
	if o.Bootstraps {
		if h.sb, err = newSandboxes(h); err != nil {
			return nil, err
		}
		so.Handlers = h.sb.handlers(root)
	}
	if h.st, err = stack.Start(ctx, so); err != nil {
		return nil, err
	}
	h.progress("stack up after %s", time.Since(h.start).Round(100*time.Millisecond))
	h.srv = httptest.NewServer(h.st.Handler)
	h.client = &http.Client{Timeout: 30 * time.Second}
	h.token, err = devauth.Mint(key, "load", []string{"Dispatcher"}, 48*time.Hour, time.Now())
	return h, err
}

func (h *harness) close() {
	if h.srv != nil {
		h.srv.Close()
	}
	if h.sb != nil {
		h.sb.close()
	}
	if h.st != nil {
		h.st.Close()
	}
	h.proxyMu.Lock()
	for _, p := range h.proxies {
		p.Close()
	}
	h.proxyMu.Unlock()
	if h.closeLog != nil {
		_ = h.closeLog()
	}
}

// poll plays the stream's event source mapping until ctx ends: a batch every BatchWindow.
func (h *harness) poll(ctx context.Context) {
	for ctx.Err() == nil {
		if _, err := h.st.Poller.Poll(ctx); err != nil && ctx.Err() == nil {
			h.logger.Warn("stream poll failed", "component", "stream-poller", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(h.o.BatchWindow):
		}
	}
}

// Run runs a fixed number of requests, then stops the proxies' faults (the publisher
// keeps crashing at its rate), lets the stream and the audit consumer catch up, and checks
// everything.
func Run(ctx context.Context, o Options) (Report, error) {
	h, err := setup(ctx, o)
	if err != nil {
		return Report{Options: o}, err
	}
	defer h.close()
	rd, err := h.newRound(ctx, 0)
	if err != nil {
		return h.rep, err
	}
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go h.poll(pollCtx)
	h.sample()
	h.progress("%d requests from %d clients", o.Requests, o.Clients)
	ch, wg := h.workers(ctx)
	for range o.Requests {
		ch <- work{rd, h.next(rd)}
	}
	close(ch)
	wg.Wait()
	close(rd.sent)
	rd.inflight.Wait() // the timers
	h.faults.Store(false)
	h.progress("load done after %s; faults off (the publisher still crashes), waiting for the events, then checking", time.Since(h.start).Round(time.Second))
	if err := h.finish(ctx, rd); err != nil {
		return h.rep, err
	}
	h.sample()
	return h.report(), nil
}

// Soak runs the mix at Options.Rate requests a second for Options.Duration, with faults
// and crashes throughout. Every Options.Round the load moves to new entities and the
// round just ended is checked (while the next one runs) and reported to each.
func Soak(ctx context.Context, o Options, each func(Report)) (Report, error) {
	h, err := setup(ctx, o)
	if err != nil {
		return Report{Options: o}, err
	}
	defer h.close()
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go h.poll(pollCtx)
	ch, wg := h.workers(ctx)
	ended := make(chan *round, 2)
	checked := make(chan error, 1)
	go func() {
		var first error
		for rd := range ended {
			rd.inflight.Wait()
			if err := h.finish(ctx, rd); err != nil && first == nil {
				first = err
			}
			h.sample()
			each(h.report())
		}
		checked <- first
	}()
	end := time.Now().Add(o.Duration)
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
	defer tick.Stop()
	for n := 0; time.Now().Before(end) && ctx.Err() == nil; n++ {
		rd, err := h.newRound(ctx, n)
		if err != nil {
			close(ch)
			close(ended)
			return h.rep, err
		}
		roundEnd := time.Now().Add(o.Round)
		for time.Now().Before(roundEnd) && time.Now().Before(end) && ctx.Err() == nil {
			select {
			case <-tick.C:
				ch <- work{rd, h.next(rd)}
			case <-ctx.Done():
			}
		}
		close(rd.sent)
		ended <- rd
	}
	close(ch)
	wg.Wait()
	close(ended)
	if err := <-checked; err != nil {
		return h.report(), err
	}
	return h.report(), ctx.Err()
}
