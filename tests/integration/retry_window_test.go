package integration

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/measure/faultproxy"
)

// heldWrite is a fault plan for the writes of one request (those that carry its
// correlation id): the n-th such write meets faults[n], and a write whose fault is hold
// waits at the proxy until release is closed. Every other request goes through.
type heldWrite struct {
	corr    []byte
	faults  []faultproxy.Fault
	arrived chan struct{} // closed when the held write reaches the proxy
	release chan struct{}

	mu     sync.Mutex
	writes int
}

// hold is not a proxy fault: the plan holds the write, then forwards it.
const hold faultproxy.Fault = "hold"

func newHeldWrite(corr string, faults ...faultproxy.Fault) *heldWrite {
	return &heldWrite{corr: []byte(strconv.Quote(corr)), faults: faults, arrived: make(chan struct{}), release: make(chan struct{})}
}

func (h *heldWrite) decide(op string, body []byte) faultproxy.Fault {
	if (op != "UpdateItem" && op != "TransactWriteItems") || !bytes.Contains(body, h.corr) {
		return faultproxy.None
	}
	h.mu.Lock()
	n := h.writes
	h.writes++
	h.mu.Unlock()
	if n >= len(h.faults) {
		return faultproxy.None
	}
	if h.faults[n] == hold {
		close(h.arrived)
		<-h.release
		return faultproxy.None
	}
	return h.faults[n]
}

// TestARetryOutlastingEightTransitionsAppliesOnce holds the exact interleavings behind
// issue 21, without depending on the machine's speed: a request's write and a retry of it
// separated by more transitions of the same session than the old window of eight
// remembered requests. Each must leave one transition of its own and be answered 200.
//
//   - the SDK's retry: the first write is applied and its answer lost; the SDK's retry of
//     it is held at the proxy while nine other requests transition the session, then let
//     through;
//   - a write in flight: the first write is held at the proxy; the client's retry (a new
//     invocation) applies, nine other requests follow, then the held write lands.
func TestARetryOutlastingEightTransitionsAppliesOnce(t *testing.T) {
	cases := []struct {
		name string
		plan []faultproxy.Fault
		// clientRetry sends the request again while its first write is held.
		clientRetry bool
	}{
		{"the SDK retries a write whose answer was lost", []faultproxy.Fault{faultproxy.DropAfterApply, hold}, false},
		{"a write in flight lands after the client's retry", []faultproxy.Fault{hold}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			held := newHeldWrite("held-request", c.plan...)
			s, _ := faultyStackWith(t, faultproxy.Config{Decide: held.decide})
			alice := s.token(t, "alice")
			id := demodata.AliceActive
			pause := func() response {
				return s.do(t, http.MethodPost, "/interviews/"+id+"/pause", alice, "", "Idempotency-Key", "held-key", "X-Correlation-Id", "held-request")
			}
			first := make(chan response, 1)
			go func() { first <- pause() }()
			select {
			case <-held.arrived:
			case r := <-first:
				t.Fatalf("answered before its write was held: %d %s", r.status, r.raw)
			case <-time.After(30 * time.Second):
				t.Fatal("the write was never held")
			}
			if c.clientRetry {
				if r := pause(); r.status != 200 || r.header.Get("ETag") != `"2"` {
					t.Fatalf("the client's retry: %d ETag %s %s", r.status, r.header.Get("ETag"), r.raw)
				}
			}
			// Nine more transitions of the session, each a request of its own: resume, pause,
			// …, resume; more than the eight requests an item used to remember.
			for i := range 9 {
				action := "resume"
				if i%2 == 1 {
					action = "pause"
				}
				if r := s.do(t, http.MethodPost, "/interviews/"+id+"/"+action, alice, "", "Idempotency-Key", "other-"+strconv.Itoa(i)); r.status != 200 {
					t.Fatalf("%s %d: %d %s", action, i, r.status, r.raw)
				}
			}
			close(held.release)
			var r response
			select {
			case r = <-first:
			case <-time.After(30 * time.Second):
				t.Fatal("no answer after the held write was let through")
			}
			it := s.session(t, id)
			if v, st := str(it, "version"), str(it, "status"); v != "11" || st != "active" {
				t.Errorf("stored v%s %s, want v11 active: one transition of the held request and nine others (it applied twice, or not at all)", v, st)
			}
			if r.status != 200 {
				t.Fatalf("the held request was answered %d %v, want its 200", r.status, r.body["code"])
			}
			// Either its own write's answer (paused, v2), or a replay of it (the session
			// as it is now).
			replayed := r.header.Get("Idempotent-Replayed") == "true"
			if tag := r.header.Get("ETag"); !replayed && (tag != `"2"` || r.body["status"] != "paused") || replayed && tag != `"11"` {
				t.Errorf("answered ETag %s replayed=%v status %v", tag, replayed, r.body["status"])
			}
		})
	}
}
