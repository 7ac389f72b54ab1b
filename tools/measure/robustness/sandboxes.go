package robustness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/eventbus"
	"github.com/lifecycle-api/lifecycle/tools/local/gateway"
	"github.com/lifecycle-api/lifecycle/tools/local/lambdaruntime"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/local/streampoller"
	"github.com/lifecycle-api/lifecycle/tools/measure/faultproxy"
)

// sandboxes runs the load's functions, the scheduled resume's target and the publisher as
// their real bootstraps (bin/amd64/<name>/bootstrap) under the Runtime API, each
// invocation in a sandbox of its own (lambdaruntime.Pool), and kills them with SIGKILL at
// chosen points. Every sandbox
// slot reaches DynamoDB or EventBridge through a fault proxy of its own, so the proxy knows
// whose request it holds and can kill exactly that process:
//
//   - an HTTP function or resume-scheduled at its first request, before its write
//     (nothing written), or after its write was applied and before DynamoDB's answer
//     reaches it (written, never answered): API Gateway answers the client 500 (the
//     scheduler sees a failed invocation) and the next invocation gets a new sandbox;
//   - the publisher at one of its PutEvents calls, always with part of its batch already
//     on the bus: the stream retries the whole batch and the bus receives those events
//     again (the audit consumer must record them once).
type sandboxes struct {
	h      *harness
	pools  map[string]*lambdaruntime.Pool
	logs   io.WriteCloser
	mu     sync.Mutex
	slots  map[string][]*slot
	killed map[string]int // "function: where" → crashes
	armed  int            // kills armed in the load functions so far (nextKill)
	// publisherArmed: a publisher invocation has been armed to die (killPublisher).
	publisherArmed bool
}

// slot is one sandbox slot of a function: its proxy, and the crash its current
// invocation is to meet.
type slot struct {
	mu    sync.Mutex
	proxy *faultproxy.Proxy
	// kill is the kill the current invocation meets: at its first request (KillBefore) or
	// its write (KillAfterApply) for HTTP functions, at PutEvents call killAt for the
	// publisher; faultproxy.None when it meets none.
	kill   faultproxy.Fault
	killAt int
	calls  int // PutEvents calls in the current invocation
	expect int // PutEvents calls the current batch needs
	// armedAt is the first sequence number of the last batch armed to die: its retry is
	// let through, so every batch gets published in the end.
	armedAt string
}

func newSandboxes(h *harness) (*sandboxes, error) {
	logs, err := os.Create(filepath.Join(h.logDir, "sandboxes.log"))
	if err != nil {
		return nil, err
	}
	return &sandboxes{h: h, logs: logs, pools: map[string]*lambdaruntime.Pool{}, slots: map[string][]*slot{}, killed: map[string]int{}}, nil
}

// handlers is the stack's hook: the functions it serves from the sandboxes.
func (s *sandboxes) handlers(root string) func(stack.Info) (stack.Handlers, error) {
	return func(info stack.Info) (stack.Handlers, error) {
		out := stack.Handlers{HTTP: map[string]gateway.Handler{}}
		load := functionsFor(byLoad)
		for _, fn := range slices.Concat(load, functionsFor(byScheduler), functionsFor(onStream)) {
			bin := filepath.Join(root, "bin", "amd64", fn, "bootstrap")
			if _, err := os.Stat(bin); err != nil {
				return out, fmt.Errorf("%w: %s", lambdaruntime.ErrNoBootstrap, bin)
			}
			size := s.h.o.Clients
			if fn == eventbus.FnPublishEvents {
				size = 1 // one batch per shard at a time, as the event source mapping does
			}
			s.pools[fn] = s.pool(fn, bin, size, info)
		}
		for _, fn := range load {
			pool := s.pools[fn]
			out.HTTP[fn] = func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				return lambdaruntime.Call[events.APIGatewayV2HTTPResponse](ctx, pool, ev)
			}
		}
		publisher := s.pools[eventbus.FnPublishEvents]
		out.Publisher = func(streampoller.Handler) streampoller.Handler {
			return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				return lambdaruntime.Call[events.DynamoDBEventResponse](ctx, publisher, ev)
			}
		}
		return out, nil
	}
}

// pool is fn's sandboxes: each slot gets its proxy on its first start and keeps it.
func (s *sandboxes) pool(fn, bin string, size int, info stack.Info) *lambdaruntime.Pool {
	s.slots[fn] = make([]*slot, size)
	for i := range size {
		s.slots[fn][i] = &slot{kill: faultproxy.None}
	}
	publisher := fn == eventbus.FnPublishEvents
	pool := &lambdaruntime.Pool{Size: size}
	target, endpoint := info.DynamoDB, "AWS_ENDPOINT_URL_DYNAMODB"
	if publisher {
		target, endpoint = info.Moto, "AWS_ENDPOINT_URL_EVENTBRIDGE"
	}
	pool.Start = func(i int) (*lambdaruntime.Runtime, error) {
		// The pool starts a slot's sandbox only while the slot is taken: its proxy needs no lock.
		sl := s.slots[fn][i]
		if sl.proxy == nil {
			var err error
			if sl.proxy, err = s.h.proxy(faultproxy.Config{Target: target, Plan: s.plan(fn, sl), Kill: func() { pool.Kill(i) }}); err != nil {
				return nil, err
			}
		}
		// The later of two settings wins (os/exec keeps the last).
		env := append(info.Env(), "LOG_LEVEL=warn", endpoint+"="+sl.proxy.URL)
		return lambdaruntime.Start(lambdaruntime.Options{Bootstrap: bin, Name: fn, Env: env, Output: s.logs})
	}
	pool.Before = func(i int, event []byte) { s.arm(fn, s.slots[fn][i], event) }
	return pool
}

// arm decides, before an invocation, whether and where its sandbox dies.
func (s *sandboxes) arm(fn string, sl *slot, event []byte) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if fn == eventbus.FnPublishEvents {
		sl.kill, sl.killAt, sl.calls = faultproxy.None, 0, 0
		s.armPublisher(sl, event)
		return
	}
	// A kill armed for after the write of an invocation that wrote nothing (its request
	// was refused on what it read) waits for the sandbox's next write: so half the kills
	// do come after a write, however many requests are refused.
	if sl.kill != faultproxy.KillAfterApply {
		sl.kill = faultproxy.None
		if s.h.chance(s.h.o.CrashRate) {
			sl.kill = s.nextKill()
		}
	}
}

// nextKill says where the next kill of a load function lands: after its write and before
// it in turn, after first (a coin left one run in about fifteen with none after a write).
func (s *sandboxes) nextKill() faultproxy.Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed++
	if s.armed%2 == 1 {
		return faultproxy.KillAfterApply
	}
	return faultproxy.KillBefore
}

// armPublisher picks where a publisher invocation dies: after one of its PutEvents calls
// was applied, or before any call but the first, so always with part of its batch already
// on the bus. A batch is killed at most once: its retry goes through.
func (s *sandboxes) armPublisher(sl *slot, event []byte) {
	var ev struct {
		Records []struct {
			EventName string
			DynamoDB  struct {
				SequenceNumber string
				NewImage       struct {
					Type struct{ S string } `json:"type"`
				}
			} `json:"dynamodb"`
		}
	}
	_ = json.Unmarshal(event, &ev)
	// Events: one per modification of a session or a job (the load's are all transitions;
	// an assignment's, a slot's and a request record's changes are none).
	n := 0
	for _, r := range ev.Records {
		if t := r.DynamoDB.NewImage.Type.S; r.EventName == "MODIFY" && (t == kindInterview || t == kindJob) {
			n++
		}
	}
	sl.expect = (n + eventbus.MaxEntries - 1) / eventbus.MaxEntries
	if sl.expect == 0 || ev.Records[0].DynamoDB.SequenceNumber == sl.armedAt || !s.killPublisher() {
		return
	}
	sl.armedAt = ev.Records[0].DynamoDB.SequenceNumber
	i := s.h.intn(2*sl.expect - 1)
	sl.kill, sl.killAt = faultproxy.KillAfterApply, i+1
	if i >= sl.expect {
		sl.kill, sl.killAt = faultproxy.KillBefore, i-sl.expect+2
	}
}

// killPublisher decides whether a publisher invocation with events to publish dies: the
// run's first always, the others by PublisherCrashRate's coin. With a coin alone, a run
// whose stream came in few batches could kill none and prove nothing about the publisher.
func (s *sandboxes) killPublisher() bool {
	if s.h.o.PublisherCrashRate <= 0 {
		return false
	}
	s.mu.Lock()
	first := !s.publisherArmed
	s.publisherArmed = true
	s.mu.Unlock()
	return first || s.h.chance(s.h.o.PublisherCrashRate)
}

// plan is the fault plan of one slot's proxy: the armed kill at its moment, else the
// run's random faults.
func (s *sandboxes) plan(fn string, sl *slot) faultproxy.Plan {
	return func(op string) faultproxy.Fault {
		sl.mu.Lock()
		kill, where := faultproxy.None, ""
		switch {
		case fn == eventbus.FnPublishEvents && op == "PutEvents":
			sl.calls++
			if sl.kill != faultproxy.None && sl.calls == sl.killAt {
				kill, where = sl.kill, "mid-batch, after part of it was published"
				if kill == faultproxy.KillAfterApply && sl.calls == sl.expect {
					where = "after all of its batch was published, before its answer"
				}
			}
		case fn == eventbus.FnPublishEvents:
		case sl.kill == faultproxy.KillBefore:
			// At its first request: the write, or the read a job's function makes before it.
			kill, where = sl.kill, "before its write"
		case sl.kill == faultproxy.KillAfterApply && (op == "UpdateItem" || op == "TransactWriteItems"):
			kill, where = sl.kill, "after its write, before the answer"
		}
		if kill != faultproxy.None {
			sl.kill = faultproxy.None
		}
		sl.mu.Unlock()
		if kill == faultproxy.None {
			return s.h.fault(op)
		}
		s.mu.Lock()
		s.killed[fn+": "+where]++
		s.mu.Unlock()
		return kill
	}
}

// crashes returns the kills so far, by "function: where".
func (s *sandboxes) crashes() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.killed)
}

// starts is the sandboxes started (cold starts), over every function.
func (s *sandboxes) starts() int {
	n := 0
	for _, p := range s.pools {
		st, _ := p.Stats()
		n += st
	}
	return n
}

// rss is the resident memory of the live sandboxes, summed.
func (s *sandboxes) rss() int64 {
	var n int64
	for _, p := range s.pools {
		n += p.RSS()
	}
	return n
}

func (s *sandboxes) close() {
	for _, p := range s.pools {
		p.Close()
	}
	s.logs.Close()
}
