package robustness

import (
	"context"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/lifecycle-api/lifecycle/tools/local/lambdaruntime"
	"github.com/lifecycle-api/lifecycle/tools/measure/faultproxy"
)

// settleTimeout bounds how long a round's events may take to reach the audit table.
const settleTimeout = 3 * time.Minute

// finish waits until the round's events are all in the audit table (or settleTimeout),
// then checks the round and adds it to the report.
func (h *harness) finish(ctx context.Context, rd *round) error {
	want := map[string]bool{}
	for _, e := range rd.ents {
		want[e.id] = true
	}
	var (
		st     map[string]stored
		strays []slotHeld
		events []published
		last   = -1
	)
	deadline := time.Now().Add(h.o.Settle)
	for {
		var err error
		if st, strays, err = readStored(ctx, h.st.DB, "reliability", rd.ents, rd.techs); err != nil {
			return err
		}
		if events, err = auditEvents(ctx, h.st.DB, "reliability-audit", want); err != nil {
			return err
		}
		// Complete, and nothing more arrived in the last look.
		if complete(rd.ents, st, events) && len(events) == last || time.Now().After(deadline) {
			break
		}
		last = len(events)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(h.o.BatchWindow + 500*time.Millisecond):
		}
	}
	final := map[string]state{}
	for id, s := range st {
		final[id] = s.state
	}
	// The commit log: the version each request committed, from its event.
	commits := map[string]int64{}
	for _, e := range events {
		if v, ok := commits[e.CorrelationID]; !ok || e.Version < v {
			commits[e.CorrelationID] = e.Version
		}
	}
	ops, leftOut := operations(rd.ents, rd.reqs, final, h.now(), h.o.Clients, commits)
	lz, err := checkLinearizable(ops, h.logDir, fmt.Sprintf("linearizability-seed%d-round%d.html", h.o.Seed, rd.n))
	if err != nil {
		return err
	}
	violations, committed := verifyEvents(rd.ents, rd.reqs, st, events)
	calendar, slots := verifyCalendar(rd.ents, st, strays)
	violations = append(violations, calendar...)
	h.busMu.Lock()
	accepted, twice := 0, 0
	for _, e := range events {
		n := h.bus[e.EventID]
		accepted += n
		if n > 1 {
			twice++
		}
		if n == 0 {
			violations = append(violations, fmt.Sprintf("%s v%d: recorded by the consumer, never accepted by the bus", e.entity(), e.Version))
		}
		delete(h.bus, e.EventID)
	}
	h.busMu.Unlock()

	h.repMu.Lock()
	defer h.repMu.Unlock()
	r := &h.rep
	for _, q := range rd.reqs {
		for _, a := range q.attempts {
			if a.unexpected() {
				violations = append(violations, fmt.Sprintf("%s %s %s: answered %s", q.cor, q.action, q.ent.id, a.answer()))
			}
			if a.outcome() == lost && q.action != actionTimer {
				r.Lost++
			}
		}
		if h.sb == nil && slices.ContainsFunc(q.attempts, func(a attempt) bool { return a.crashed }) {
			violations = append(violations, fmt.Sprintf("%s %s %s: a failed invocation, with no crash injected", q.cor, q.action, q.ent.id))
		}
		if q.action == actionTimer {
			// How the timer ended, from the commit log.
			switch {
			case commits[q.cor] != 0:
				r.Timers["resumed its pause"]++
			case slices.ContainsFunc(q.attempts, func(a attempt) bool { return a.delivered }):
				r.Timers["stale (the session had moved on)"]++
			default:
				r.Timers["never delivered (every attempt failed)"]++
			}
			if len(q.attempts) > 1 {
				r.Timers["delivered or attempted more than once"]++
			}
			continue
		}
		r.Requests++
		r.Attempts += len(q.attempts)
		r.ClientRetries += len(q.attempts) - 1
		last := q.attempts[len(q.attempts)-1]
		r.Outcomes[last.answer()]++
		if q.ent.kind == kindJob {
			r.JobAnswers[q.action+": "+last.answer()]++
		}
		if last.outcome() == applied {
			r.Successes++
		}
	}
	if lz.result == porcupine.Illegal {
		violations = append(violations, fmt.Sprintf("the history of %d partitions (a session, or a booking group's jobs with their technicians' calendars) is not linearizable (%s): see %s",
			len(lz.failing), strings.Join(lz.failing, ", "), lz.html))
	}
	r.Traces = append(r.Traces, h.tracesOf(rd, violations, lz.failing)...)
	r.Rounds++
	switch lz.result {
	case porcupine.Ok:
		if r.Linearizable == "" {
			r.Linearizable = "yes"
		}
	case porcupine.Illegal:
		r.Linearizable = "no"
		r.History = lz.html
	default:
		r.Linearizable = "unknown (timed out)"
		violations = append(violations, "the linearizability check timed out")
	}
	r.Operations += len(ops)
	r.LeftOut += leftOut
	r.CheckTime += lz.took
	r.Committed += committed
	for k, n := range bookingKinds(events) {
		r.Bookings[k] += n
	}
	r.Slots += slots
	r.Events += len(events)
	r.BusAccepted += accepted
	r.BusTwice += twice
	r.Violations = append(r.Violations, violations...)
	return nil
}

// sample records the local API's memory now.
func (h *harness) sample() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ := lambdaruntime.ProcessMemory(os.Getpid(), "VmRSS")
	s := MemorySample{RSS: rss, Heap: int64(ms.HeapAlloc), Goroutines: runtime.NumGoroutine()}
	if h.sb != nil {
		s.Sandboxes = h.sb.rss()
	}
	h.repMu.Lock()
	h.rep.Memory = append(h.rep.Memory, s)
	h.repMu.Unlock()
}

// report is the report so far, with the counters that live elsewhere.
func (h *harness) report() Report {
	faults := map[string]int{}
	h.proxyMu.Lock()
	for _, p := range h.proxies {
		for k, v := range p.Counts() {
			if !strings.HasSuffix(k, " "+string(faultproxy.None)) && !strings.Contains(k, " kill-") {
				faults[k] += v
			}
		}
	}
	h.proxyMu.Unlock()
	h.repMu.Lock()
	defer h.repMu.Unlock()
	r := h.rep
	r.Outcomes = maps.Clone(r.Outcomes)
	r.JobAnswers = maps.Clone(r.JobAnswers)
	r.Timers = maps.Clone(r.Timers)
	r.Bookings = maps.Clone(r.Bookings)
	r.Memory = slices.Clone(r.Memory)
	r.Violations = slices.Clone(r.Violations)
	r.Traces = slices.Clone(r.Traces)
	r.Faults = faults
	r.Duration = time.Since(h.start)
	r.Load = time.Duration(h.loadEnd.Load() - h.loadStart.Load())
	r.AuditRepeats = int(h.st.Audit.Duplicates.Load())
	r.GivenUp = int(h.st.GivenUp.Load())
	if h.sb != nil {
		r.Crashes = h.sb.crashes()
		r.ColdStarts = h.sb.starts()
	}
	return r
}
