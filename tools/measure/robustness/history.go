package robustness

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// entity is one session or job the load works on.
type entity struct {
	kind       string // kindInterview or kindJob
	id         string
	assignment string // a job's assignment
	seeded     state  // as loaded
	seededAt   int64  // when it was loaded (the history's clock)
}

// request is one logical request: one transition of one entity under its own
// Idempotency-Key and X-Correlation-Id, sent again with the same key while its answer says
// nothing (a crash, a 503, a broken connection), up to the client's retries.
type request struct {
	ent         *entity
	action      string
	key, cor    string
	attempts    []attempt
	unexpected  []string // answers no client may get (a 500 of the function's own, …)
	crashAnswer int      // 500s API Gateway gave for a failed invocation
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
}

// gatewayFailure is API Gateway's answer when the Lambda invocation fails (the sandbox
// crashed or timed out).
const gatewayFailure = `{"message":"Internal Server Error"}`

func (a attempt) outcome() outcome {
	switch {
	case a.status == http.StatusOK:
		return applied
	case (a.status == http.StatusBadRequest || a.status == http.StatusNotFound) && a.code == "INVALID_TRANSITION":
		return refused
	case a.status == http.StatusConflict && a.code == "CONFLICT":
		return conflict
	}
	return lost
}

// retry reports whether the answer leaves the client not knowing what happened, so it
// sends the request again with the same key.
func (a attempt) retry() bool {
	return a.status == 0 || a.status == http.StatusServiceUnavailable || a.crashed
}

// unexpected reports an answer no client of the load may get: a 5xx other than a 503 or a
// failed invocation, a 4xx other than a refused transition or a lost race.
func (a attempt) unexpected() bool {
	switch {
	case a.status >= 500:
		return !a.crashed && a.status != http.StatusServiceUnavailable
	case a.status >= 400:
		return a.outcome() == lost
	}
	return false
}

// answer names the answer for the report and the visualisation.
func (a attempt) answer() string {
	switch {
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

// send makes one logical request; now is the history's clock.
func send(ctx context.Context, client *http.Client, base, token string, worker int, r *request, retries int, now func() int64) {
	path := "/interviews/" + r.ent.id + "/" + r.action
	if r.ent.kind == kindJob {
		path = "/jobs/" + r.ent.id + "/cancel"
	}
	for range retries + 1 {
		a := attempt{client: worker}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", r.key)
		req.Header.Set("X-Correlation-Id", r.cor)
		a.call = now()
		resp, err := client.Do(req)
		if err == nil {
			read(resp, &a)
			if a.unexpected() {
				r.unexpected = append(r.unexpected, a.answer())
			}
			if a.crashed {
				r.crashAnswer++
			}
		}
		a.ret = now()
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
	var raw json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	var b struct {
		Status        string                   `json:"status"`
		Session       *struct{ Status string } `json:"session"`
		Code          string                   `json:"code"`
		CurrentStatus string                   `json:"currentStatus"`
	}
	_ = json.Unmarshal(raw, &b)
	a.status, a.code = resp.StatusCode, b.Code
	a.crashed = resp.StatusCode == http.StatusInternalServerError && strings.TrimSpace(string(raw)) == gatewayFailure
	a.replayed = resp.Header.Get("Idempotent-Replayed") == "true"
	a.version, _ = strconv.ParseInt(strings.Trim(resp.Header.Get("ETag"), `"`), 10, 64)
	switch {
	case b.Session != nil:
		a.after = b.Session.Status
	case b.Status != "":
		a.after = b.Status
	default:
		a.after = b.CurrentStatus
	}
}

// operations is the history porcupine checks: per entity its seed, every attempt of every
// request, and the final read (at readAt, of final). lane is the visualisation's lane
// for seeds and reads.
func operations(ents []*entity, reqs []*request, final map[string]state, readAt int64, lane int) []porcupine.Operation {
	var ops []porcupine.Operation
	retried := map[string]int{} // per entity, how many retried requests have an index
	for _, e := range ents {
		ops = append(ops, porcupine.Operation{
			ClientId: lane, Call: e.seededAt, Return: e.seededAt,
			Input:  opInput{Entity: e.id, Kind: e.kind, Action: actionSeed, Retried: -1},
			Output: opOutput{Outcome: observed, Status: e.seeded.Status, Version: e.seeded.Version},
		})
	}
	for _, r := range reqs {
		idx := -1
		if len(r.attempts) > 1 || slices.ContainsFunc(r.attempts, func(a attempt) bool { return a.replayed }) {
			idx = retried[r.ent.id]
			retried[r.ent.id]++
		}
		in := opInput{Entity: r.ent.id, Kind: r.ent.kind, Action: r.action, Key: r.key, Retried: idx}
		for _, a := range r.attempts {
			o := opOutput{Outcome: a.outcome(), Status: a.after, Version: a.version, Replayed: a.replayed, Answer: a.answer()}
			ret := a.ret
			switch {
			case o.Outcome == lost:
				// It may take effect at any time after it was sent (a write can land after
				// its sender gave up), or never.
				ret = math.MaxInt64
			case a.replayed:
				// A replay reports the entity as it is when the request found its own
				// earlier write, which may be this very attempt's (the function's SDK
				// retried a write whose answer was lost). So the attempt is two steps:
				// its write, which applies unless an earlier attempt's did, and the
				// replay, which the model allows only once the request has applied.
				ops = append(ops, porcupine.Operation{ClientId: a.client, Call: a.call, Return: a.ret, Input: in,
					Output: opOutput{Outcome: lost, Answer: "its write (then replayed)"}})
			}
			ops = append(ops, porcupine.Operation{ClientId: a.client, Call: a.call, Return: ret, Input: in, Output: o})
		}
	}
	for _, e := range ents {
		s := final[e.id]
		ops = append(ops, porcupine.Operation{
			ClientId: lane, Call: readAt, Return: readAt + 1,
			Input:  opInput{Entity: e.id, Kind: e.kind, Action: actionRead, Retried: -1},
			Output: opOutput{Outcome: observed, Status: s.Status, Version: s.Version},
		})
	}
	return ops
}
