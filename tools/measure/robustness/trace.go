package robustness

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/lifecycle-api/lifecycle/tools/measure/faultproxy"
)

// A trace is what happened to one request on its way to DynamoDB: every write or read
// that carried its correlation id (a transition writes it on the item), with the fault the
// proxy gave it and what DynamoDB answered, whether or not that answer reached the
// function. Beside the request's HTTP attempts it shows where a violation came from: a
// write applied and its answer dropped, the SDK's retry of it half a second later, a
// write that landed after the client had given up.

// storeCall is one request to DynamoDB that carried a load request's correlation id.
type storeCall struct {
	at     int64 // when the proxy was done with it (the history's clock)
	op     string
	fault  faultproxy.Fault
	status int    // DynamoDB's HTTP status; 0 when the proxy did not forward it
	result string // what DynamoDB did, read from its answer
}

var (
	// correlationIDs are the load's X-Correlation-Id values (rel-<round>-<n>) and the
	// timers' (resumetimer.Name: resume-<session>-<version>), as they appear in a write's
	// expression values.
	correlationID = regexp.MustCompile(`"(rel-\d+-\d+|resume-[0-9a-f-]{36}-\d+)"`)
	versionN      = regexp.MustCompile(`"version":\{"N":"(\d+)"\}`)
)

// observe counts a PutEvents call's events, or records a DynamoDB request that carried a
// load request's correlation id.
func (h *harness) observe(ex faultproxy.Exchange) {
	if ex.Op == "PutEvents" {
		h.accepted(ex) // the publisher's batches carry many requests' ids: no trace
		return
	}
	m := correlationID.FindSubmatch(ex.Request)
	if m == nil {
		return
	}
	c := storeCall{at: h.now(), op: ex.Op, fault: ex.Fault, status: ex.Status, result: storeResult(ex)}
	h.traceMu.Lock()
	h.traces[string(m[1])] = append(h.traces[string(m[1])], c)
	h.traceMu.Unlock()
}

// storeResult says what DynamoDB did with a request, from its answer.
func storeResult(ex faultproxy.Exchange) string {
	body := string(ex.Response)
	version := func() string {
		if m := versionN.FindStringSubmatch(body); m != nil {
			return " v" + m[1]
		}
		return ""
	}
	switch {
	case ex.Status == 0:
		return "not sent on"
	case ex.Status == 200 && ex.Op == "TransactWriteItems":
		return "committed"
	case ex.Status == 200:
		return "applied" + version()
	case strings.Contains(body, "ConditionalCheckFailed") && ex.Op != "TransactWriteItems":
		return "condition failed (the item was" + version() + ")"
	case strings.Contains(body, "TransactionCanceled"):
		codes, held := cancellation(ex.Response)
		out := "cancelled " + strings.Join(codes, ",")
		if len(held) > 0 {
			out += " (slots held by " + strings.Join(held, ", ") + ")"
		}
		return out
	}
	return fmt.Sprintf("answered %d", ex.Status)
}

// tracesOf renders the trace of every request a violation names, and of the requests of
// a partition whose history is not linearizable that met a fault, a crash or a retry:
// each HTTP attempt with its answer, and under it the DynamoDB requests made while it was
// open (or after its answer: a write still on its way).
func (h *harness) tracesOf(rd *round, violations []string, failing []string) []string {
	named := map[string]bool{} // a request's violation starts with its correlation id
	for _, v := range violations {
		cor, _, _ := strings.Cut(v, " ")
		named[cor] = true
	}
	h.traceMu.Lock()
	defer h.traceMu.Unlock()
	var out []string
	for _, r := range rd.reqs {
		calls := h.traces[r.cor]
		eventful := len(r.attempts) > 1 || slices.ContainsFunc(calls, func(c storeCall) bool { return c.fault != faultproxy.None })
		if !named[r.cor] && !(eventful && slices.Contains(failing, r.ent.group)) {
			continue
		}
		out = append(out, renderTrace(r, calls))
	}
	return out
}

func renderTrace(r *request, calls []storeCall) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", r.cor, r.action, r.ent.id)
	if r.expect != 0 {
		fmt.Fprintf(&b, " of v%d", r.expect)
	}
	if r.ask.End != 0 {
		fmt.Fprintf(&b, " to %s", r.ask)
	}
	fmt.Fprintf(&b, " (Idempotency-Key %s):\n", r.key)
	secs := func(ns int64) string { return fmt.Sprintf("%.3fs", float64(ns)/1e9) }
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].at < calls[j].at })
	next := 0
	for i, a := range r.attempts {
		fmt.Fprintf(&b, "  attempt %d, client %d, sent %s, answered %s: %s\n", i+1, a.client, secs(a.call), secs(a.ret), a.output().told(r.ent.kind))
		for ; next < len(calls) && (calls[next].at <= a.ret); next++ {
			fmt.Fprintf(&b, "    %s %s %s: %s\n", secs(calls[next].at), calls[next].op, calls[next].fault, calls[next].result)
		}
	}
	for ; next < len(calls); next++ {
		fmt.Fprintf(&b, "    after the last answer: %s %s %s: %s\n", secs(calls[next].at), calls[next].op, calls[next].fault, calls[next].result)
	}
	return b.String()
}

// cancellation reads a cancelled transaction's reasons: their codes, in order, and the
// jobs that hold the calendar slots they return (a booking refused because the technician
// is booked).
func cancellation(body []byte) (codes, held []string) {
	var e struct {
		CancellationReasons []struct {
			Code string
			Item map[string]struct{ S string }
		}
	}
	_ = json.Unmarshal(body, &e) // DynamoDB's error bodies are JSON
	for _, r := range e.CancellationReasons {
		codes = append(codes, r.Code)
		if r.Item["type"].S == "slot" && !slices.Contains(held, r.Item["jobId"].S) {
			held = append(held, r.Item["jobId"].S)
		}
	}
	return codes, held
}
