package robustness

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// entity is one session or job the load works on.
type entity struct {
	kind string // kindInterview or kindJob
	id   string
	// group is the entity's partition of the history: a session's own id, or its booking
	// group for a job (the group's jobs and their technicians' calendars).
	group    string
	techs    []string // a job's group's technicians
	seeded   state    // as loaded (a job with its booking)
	seededAt int64    // when it was loaded (the history's clock)
	// pausedAt is the highest version a 200 reported the entity paused at (timers.go
	// waits on it).
	pausedAt atomic.Int64
}

// tell records the paused versions r's answers reported.
func (e *entity) tell(r *request) {
	for _, a := range r.attempts {
		if a.outcome() != applied || a.after != "paused" {
			continue
		}
		for cur := e.pausedAt.Load(); a.version > cur; cur = e.pausedAt.Load() {
			if e.pausedAt.CompareAndSwap(cur, a.version) {
				break
			}
		}
	}
}

// request is one logical request: one transition of one entity under its own
// Idempotency-Key and X-Correlation-Id, sent again with the same key while its answer says
// nothing (a crash, a 503, a broken connection), up to the client's retries.
type request struct {
	ent      *entity
	action   string
	key, cor string
	ask      booking // what an assign books (a technician and a window), the window a reschedule moves to
	// resumeAt is when a pause asks its session to resume itself (the zero time: a plain
	// pause); expect is, for a scheduled resume (actionTimer), the version its pause made.
	resumeAt time.Time
	expect   int64
	attempts []attempt
}

// attempt is one HTTP exchange, as the history records it.
type attempt struct {
	client    int
	call, ret int64 // nanoseconds since the run started
	status    int   // 0 when no HTTP answer came
	code      string
	version   int64  // the ETag
	after     string // a 200's status, a refusal's currentStatus
	replayed  bool
	crashed   bool // API Gateway's 500 for a failed invocation
	// booked is a job's live booking as a 200 reports it (its assignment, unless that is
	// cancelled); conflicting is the job a 409 BOOKING_CONFLICT names.
	booked      booking
	conflicting string
	// timer: an invocation of the scheduled resume's target (resume-scheduled) by the
	// scheduler, not an HTTP exchange; delivered: it returned without an error (its resume
	// applied, or it was a second delivery or a stale timer, which change nothing).
	timer, delivered bool
}

// gatewayFailure is API Gateway's answer when the Lambda invocation fails (the sandbox
// crashed or timed out).
const gatewayFailure = `{"message":"Internal Server Error"}`

func (a attempt) outcome() outcome {
	switch {
	case a.timer && a.delivered:
		return delivered
	case a.timer:
		return lost
	case a.status == http.StatusOK:
		return applied
	case (a.status == http.StatusBadRequest || a.status == http.StatusNotFound) && a.code == "INVALID_TRANSITION":
		return refused
	case a.status == http.StatusConflict && a.code == "CONFLICT":
		return conflict
	case a.status == http.StatusConflict && a.code == "BOOKING_CONFLICT":
		return clash
	}
	return lost
}

// retry reports whether the answer leaves the client not knowing what happened, so it
// sends the request again with the same key.
func (a attempt) retry() bool {
	if a.timer {
		return !a.delivered
	}
	return a.status == 0 || a.status == http.StatusServiceUnavailable || a.crashed
}

// unexpected reports an answer no client of the load may get: a 5xx other than a 503 or a
// failed invocation, a 4xx other than a refused transition, a booking conflict or a lost
// race.
func (a attempt) unexpected() bool {
	switch {
	case a.status >= 500:
		return !a.crashed && a.status != http.StatusServiceUnavailable
	case a.status >= 400:
		return a.outcome() == lost
	}
	return false
}

// output is the attempt's answer as the model reads it.
func (a attempt) output() opOutput {
	return opOutput{Outcome: a.outcome(), Status: a.after, Version: a.version, Replayed: a.replayed, Booking: a.booked,
		Conflicting: a.conflicting, Answer: a.answer()}
}

// answer names the answer for the report and the visualisation.
func (a attempt) answer() string {
	switch {
	case a.timer && a.delivered:
		return "delivered"
	case a.timer:
		return "invocation failed"
	case a.status == 0:
		return "no answer (connection)"
	case a.crashed:
		return "500 invocation failed"
	}
	s := strconv.Itoa(a.status)
	if a.code != "" {
		s += " " + a.code
	}
	if a.replayed {
		s += " replayed"
	}
	return s
}

// path is the request's route: /interviews/{id}/{action} or /jobs/{id}/{action}.
func (r *request) path() string { return "/" + r.ent.kind + "s/" + r.ent.id + "/" + r.action }

// body is the request's body: an assignment's technician and window, a reschedule's
// window, a pause's resumeAt; none for the others.
func (r *request) body() []byte {
	if !r.resumeAt.IsZero() {
		out, _ := json.Marshal(map[string]time.Time{"resumeAt": r.resumeAt})
		return out
	}
	if r.ask.End == 0 {
		return nil
	}
	out, _ := json.Marshal(window{TechnicianID: r.ask.Tech, ScheduledStart: time.Unix(r.ask.Start, 0).UTC(), ScheduledEnd: time.Unix(r.ask.End, 0).UTC()})
	return out
}

// send makes one logical request as client. Every attempt sends the same body under the
// same Idempotency-Key.
func (h *harness) send(ctx context.Context, client int, r *request) {
	path, body := r.path(), r.body()
	h.try(ctx, r, func() attempt {
		a := attempt{client: client}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.URL+path, bytes.NewReader(body))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+h.token)
		req.Header.Set("Idempotency-Key", r.key)
		req.Header.Set("X-Correlation-Id", r.cor)
		a.call = h.now()
		resp, err := h.client.Do(req)
		if err == nil {
			read(resp, &a)
		}
		a.ret = h.now()
		return a
	})
}

// try records r's attempts, made by once: another while the last one's answer said
// nothing (attempt.retry), up to ClientRetries more.
func (h *harness) try(ctx context.Context, r *request, once func() attempt) {
	for range h.o.ClientRetries + 1 {
		a := once()
		r.attempts = append(r.attempts, a)
		if !a.retry() || ctx.Err() != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// read takes what the history needs from an answer.
func read(resp *http.Response, a *attempt) {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var b struct {
		Status        string                   `json:"status"`
		Session       *struct{ Status string } `json:"session"`
		Code          string                   `json:"code"`
		CurrentStatus string                   `json:"currentStatus"`
		Conflicting   string                   `json:"conflictingJobId"`
		Assignment    *struct {
			window
			Status string `json:"status"`
		} `json:"assignment"`
	}
	_ = json.Unmarshal(raw, &b)
	a.status, a.code, a.conflicting = resp.StatusCode, b.Code, b.Conflicting
	if as := b.Assignment; resp.StatusCode == http.StatusOK && as != nil && as.Status != "Cancelled" {
		a.booked = as.booking()
	}
	a.crashed = resp.StatusCode == http.StatusInternalServerError && strings.TrimSpace(string(raw)) == gatewayFailure
	a.replayed = resp.Header.Get("Idempotent-Replayed") == "true"
	a.version, _ = strconv.ParseInt(strings.Trim(resp.Header.Get("ETag"), `"`), 10, 64)
	a.after = cmp.Or(b.Status, b.CurrentStatus) // a job's status, or a refusal's
	if b.Session != nil {
		a.after = b.Session.Status
	}
}

// operations is the history porcupine checks: per entity its seed, every attempt of every
// request, and the final read (at readAt, of final: a job's booking as its technician's
// calendar holds it). lane is the visualisation's lane for seeds and reads. commits, the
// commit log, is the version each committed request made, by correlation id: with it, an
// attempt whose answer said nothing is left out when its request never committed, and
// otherwise must make that version; nil, it may or may not have applied. It returns the
// operations and how many attempts it left out.
func operations(ents []*entity, reqs []*request, final map[string]state, readAt int64, lane int, commits map[string]int64) (ops []porcupine.Operation, leftOut int) {
	retried := map[string]int{} // per entity, how many retried requests have an index
	for _, e := range ents {
		ops = append(ops, porcupine.Operation{
			ClientId: lane, Call: e.seededAt, Return: e.seededAt,
			Input:  opInput{Entity: e.id, Group: e.group, Kind: e.kind, Action: actionSeed, Retried: -1},
			Output: opOutput{Outcome: observed, Status: e.seeded.Status, Version: e.seeded.Version, Booking: e.seeded.Booking},
		})
	}
	for _, r := range reqs {
		idx := -1
		if len(r.attempts) > 1 || slices.ContainsFunc(r.attempts, func(a attempt) bool { return a.replayed }) {
			idx = retried[r.ent.id]
			retried[r.ent.id]++
		}
		in := opInput{Entity: r.ent.id, Group: r.ent.group, Kind: r.ent.kind, Action: r.action, Key: r.key, Retried: idx, Ask: r.ask, Expect: r.expect}
		committed := commits[r.cor]
		// An attempt that said nothing, of a request the commit log shows never committed.
		never := commits != nil && committed == 0
		for _, a := range r.attempts {
			o, ret := a.output(), a.ret
			switch {
			case o.Outcome == lost && never:
				leftOut++
				continue
			case o.Outcome == lost && committed != 0:
				// It took effect (its request committed, unless another of its attempts
				// did) at some time after it was sent, a write can land after its sender
				// gave up, and before the table was read at the end.
				o.Committed, ret = committed, readAt-1
			case o.Outcome == lost:
				// It may take effect at any time after it was sent, or never.
				ret = math.MaxInt64
			case o.Outcome == delivered && never:
				o.Committed = -1
			case o.Outcome == delivered:
				o.Committed = committed
			case a.replayed:
				// The replayed write may be this very attempt's (its SDK retried a write
				// whose answer was lost): first that write, unless an earlier attempt's
				// applied, then the replay.
				if !never {
					ops = append(ops, porcupine.Operation{ClientId: a.client, Call: a.call, Return: a.ret, Input: in,
						Output: opOutput{Outcome: lost, Committed: committed, Answer: "its write (then replayed)"}})
				}
			}
			ops = append(ops, porcupine.Operation{ClientId: a.client, Call: a.call, Return: ret, Input: in, Output: o})
		}
	}
	for _, e := range ents {
		s := final[e.id]
		ops = append(ops, porcupine.Operation{
			ClientId: lane, Call: readAt, Return: readAt + 1,
			Input:  opInput{Entity: e.id, Group: e.group, Kind: e.kind, Action: actionRead, Retried: -1},
			Output: opOutput{Outcome: observed, Status: s.Status, Version: s.Version, Booking: s.Booking},
		})
	}
	return ops, leftOut
}
