package robustness

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
	"github.com/lifecycle-api/lifecycle/tools/local/lambdaruntime"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
)

// The scheduler as one more client. Half the load's pauses ask to resume an hour later
// (resumeAt), and the product plans each one (plan-resume makes its schedule in moto).
// The harness plays the schedule's clock: it fires the timer of each such pause the client
// was told applied, with the input the schedule would hand resume-scheduled (the session
// and the version the pause made), while the load goes on. The timers take three cases in
// turn: one fires at once, while the pause is most likely still the session's latest
// transition; one within timerLater; and one once clients have been told of a later pause
// of the session (after a resume: the case the version guard is for), or once the round's
// load is all sent, so that many are stale and meet a later pause however fast or loaded
// the machine. Every timerTwice-th, from the first, is delivered a second time (delivery is
// at least once). A failed invocation (a fault that outlasted the SDK's retries, a killed
// sandbox) is retried as the scheduler retries, up to ClientRetries times.
//
// Each delivery is an attempt of one request keyed by the timer (the schedule's name is
// its correlation id and, prefixed, its Idempotency-Key), checked by the model
// (actionTimer) like any other client's.

// How the harness fires timers.
const (
	timerLater   = 250 * time.Millisecond // a "later" timer fires within this
	timerTwice   = 4                      // one timer in timerTwice is delivered again, within timerLater
	timerResumes = time.Hour              // how far ahead a timed pause asks to resume
)

// plan starts the timer of pause r, if it asked for one and was told it applied: the
// scheduler's request for r's session at the version r made, counted in the round until
// its last delivery returns.
func (h *harness) plan(ctx context.Context, rd *round, r *request) {
	if r.action != "pause" || r.resumeAt.IsZero() {
		return
	}
	i := slices.IndexFunc(r.attempts, func(a attempt) bool { return a.outcome() == applied && !a.replayed })
	if i < 0 {
		return
	}
	in := resumetimer.Input{SessionID: r.ent.id, Version: r.attempts[i].version}
	name := resumetimer.Name(in)
	t := &request{ent: r.ent, action: actionTimer, key: "schedule:" + name, cor: name, expect: in.Version}
	wait := func() time.Duration { return time.Duration(h.intn(int(timerLater))) }
	// The timers take the three cases in turn, and every timerTwice-th, from the first, is
	// delivered again: with coins, a run of ten timers had no second delivery once in
	// about eighteen, and the run then proved nothing about them.
	k := int(h.timers.Add(1) - 1)
	var first time.Duration
	when := k % 3
	if when == 1 {
		first = wait()
	}
	var again time.Duration
	if k%timerTwice == 0 {
		again = wait()
	}
	rd.mu.Lock()
	rd.reqs = append(rd.reqs, t)
	rd.mu.Unlock()
	rd.inflight.Go(func() {
		time.Sleep(first)
	wait:
		for when == 2 && r.ent.pausedAt.Load() <= in.Version {
			select {
			case <-rd.sent:
				break wait
			case <-time.After(5 * time.Millisecond):
			}
		}
		h.fire(ctx, t, in)
		if again > 0 {
			time.Sleep(again)
			h.fire(ctx, t, in)
		}
	})
}

// fire delivers timer t's input to resume-scheduled, again while the invocation fails, as
// the scheduler's retry policy does.
func (h *harness) fire(ctx context.Context, t *request, in resumetimer.Input) {
	h.try(ctx, t, func() attempt {
		// The scheduler's deliveries have a lane of their own in the visualisation.
		a := attempt{client: h.o.Clients + 1, timer: true, call: h.now()}
		err := h.deliver(ctx, in)
		a.ret, a.delivered = h.now(), err == nil
		return a
	})
}

// deliver invokes resume-scheduled with in: the real bootstrap in its sandboxes when the
// run has them, else the stack's in-process target.
func (h *harness) deliver(ctx context.Context, in resumetimer.Input) error {
	if h.sb != nil {
		_, err := lambdaruntime.Call[json.RawMessage](ctx, h.sb.pools[interview.ScheduledResume.Function], in)
		return err
	}
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return h.st.Resumes.Targets[wiring.ResumeScheduledARN](ctx, string(b))
}
