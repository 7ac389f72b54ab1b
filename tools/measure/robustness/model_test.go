package robustness

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// Histories on one session seeded active at version 1, written as the harness records
// them, and porcupine's verdict on each.

var session = &entity{kind: kindInterview, id: "5e550000-0000-4000-8000-000000000001", seeded: state{Status: "active", Version: 1}}

// at is one attempt: [call, ret], the answer's status, and what it reported.
func at(call, ret int64, status int, after string, version int64) attempt {
	a := attempt{call: call, ret: ret, status: status, after: after, version: version}
	switch status {
	case 404, 400:
		a.code = "INVALID_TRANSITION"
	case 500:
		a.crashed = true
	}
	return a
}

func replay(a attempt) attempt { a.replayed = true; return a }

func req(action, key string, attempts ...attempt) *request {
	return &request{ent: session, action: action, key: key, attempts: attempts}
}

func check(t *testing.T, final state, reqs ...*request) porcupine.CheckResult {
	t.Helper()
	ops := operations([]*entity{session}, reqs, map[string]state{session.id: final}, 1000, 9)
	return porcupine.CheckOperationsTimeout(model, ops, 0)
}

func TestModelAcceptsSequentialTransitionsAndRefusals(t *testing.T) {
	got := check(t, state{Status: "cancelled", Version: 4},
		req("pause", "k1", at(10, 20, 200, "paused", 2)),
		req("pause", "k2", at(30, 40, 404, "paused", 0)),
		req("resume", "k3", at(50, 60, 200, "active", 3)),
		req("cancel", "k4", at(70, 80, 200, "cancelled", 4)),
		req("resume", "k5", at(90, 95, 404, "cancelled", 0)),
		req("cancel", "k6", at(96, 99, 400, "cancelled", 0)),
	)
	if got != porcupine.Ok {
		t.Fatalf("a sequential, legal history: %s", got)
	}
}

// TestModelEnforcesRealTimeOrder is the case a check that chains successes by version
// misses: pause v2, resume v3, pause v4 chain, but the pause that made v4 was answered
// before the resume that made v3 was sent, so it came first, when the session was already
// paused: it should have been refused.
func TestModelEnforcesRealTimeOrder(t *testing.T) {
	got := check(t, state{Status: "paused", Version: 4},
		req("pause", "x", at(0, 5, 200, "paused", 2)),
		req("pause", "z", at(10, 20, 200, "paused", 4)),
		req("resume", "y", at(30, 40, 200, "active", 3)),
	)
	if got != porcupine.Illegal {
		t.Fatalf("a version chain that breaks real-time order: %s, want Illegal", got)
	}
}

func TestModelCatchesLostUpdates(t *testing.T) {
	got := check(t, state{Status: "paused", Version: 2},
		req("pause", "a", at(10, 30, 200, "paused", 2)),
		req("pause", "b", at(15, 35, 200, "paused", 2)),
	)
	if got != porcupine.Illegal {
		t.Fatalf("two overlapping pauses both applied: %s, want Illegal", got)
	}
}

func TestModelLostAnswerMayOrMayNotHaveApplied(t *testing.T) {
	lost := req("pause", "k", at(10, 20, 500, "", 0))
	if got := check(t, state{Status: "paused", Version: 2}, lost); got != porcupine.Ok {
		t.Errorf("a lost answer whose write landed: %s", got)
	}
	if got := check(t, state{Status: "active", Version: 1}, lost); got != porcupine.Ok {
		t.Errorf("a lost answer whose write did not land: %s", got)
	}
	if got := check(t, state{Status: "cancelled", Version: 2}, lost); got != porcupine.Illegal {
		t.Errorf("a lost pause cannot have cancelled: %s, want Illegal", got)
	}
	// A write may land after its sender gave up: the resume answered at 30 found the
	// session paused by the pause whose answer was lost at 20.
	if got := check(t, state{Status: "active", Version: 3}, lost, req("resume", "r", at(25, 30, 200, "active", 3))); got != porcupine.Ok {
		t.Errorf("a resume after a lost pause that landed: %s", got)
	}
}

func TestModelReplays(t *testing.T) {
	// The first attempt's answer was lost; the retry finds its write and replays it, as the
	// session is now (moved on by another request in between).
	got := check(t, state{Status: "active", Version: 3},
		req("pause", "k", at(10, 20, 500, "", 0), replay(at(40, 50, 200, "active", 3))),
		req("resume", "r", at(25, 30, 200, "active", 3)),
	)
	if got != porcupine.Ok {
		t.Errorf("a retry replaying an earlier attempt's write: %s", got)
	}
	// One attempt whose SDK retried the write after a lost answer: its own write, then
	// the replay, within one interval.
	if got := check(t, state{Status: "paused", Version: 2}, req("pause", "k", replay(at(10, 20, 200, "paused", 2)))); got != porcupine.Ok {
		t.Errorf("a replay of the same attempt's write: %s", got)
	}
	// A replay that reports a state its write never produced.
	if got := check(t, state{Status: "paused", Version: 2}, req("pause", "k", replay(at(10, 20, 200, "active", 1)))); got != porcupine.Illegal {
		t.Errorf("a replay of a write that did not happen: %s, want Illegal", got)
	}
	// A retry that applies again instead of replaying.
	got = check(t, state{Status: "paused", Version: 4},
		req("pause", "k", at(10, 20, 200, "paused", 2), at(40, 50, 200, "paused", 4)),
		req("resume", "r", at(25, 30, 200, "active", 3)),
	)
	if got != porcupine.Illegal {
		t.Errorf("a request applied twice: %s, want Illegal", got)
	}
}

func TestModelChecksTheFinalState(t *testing.T) {
	if got := check(t, state{Status: "active", Version: 2}, req("pause", "k", at(10, 20, 200, "paused", 2))); got != porcupine.Illegal {
		t.Errorf("a stored item that is not the last success: %s, want Illegal", got)
	}
	if got := check(t, state{Status: "active", Version: 1}, req("pause", "k", at(10, 20, 404, "active", 0))); got != porcupine.Illegal {
		t.Errorf("a refusal that names a status the session did not have: %s, want Illegal", got)
	}
}

func TestLostAnswersHaveNoReturnTime(t *testing.T) {
	ops := operations([]*entity{session}, []*request{req("pause", "k", at(10, 20, 0, "", 0))}, map[string]state{session.id: {Status: "active", Version: 1}}, 1000, 9)
	if ops[1].Return != math.MaxInt64 {
		t.Fatalf("a lost answer returns at %d; it may take effect any time after it was sent", ops[1].Return)
	}
}

func TestAnIllegalHistoryIsVisualised(t *testing.T) {
	ops := operations([]*entity{session}, []*request{
		req("pause", "a", at(10, 30, 200, "paused", 2)),
		req("pause", "b", at(15, 35, 200, "paused", 2)),
	}, map[string]state{session.id: {Status: "paused", Version: 2}}, 1000, 9)
	dir := t.TempDir()
	lz, err := checkLinearizable(ops, dir, "history.html")
	if err != nil {
		t.Fatal(err)
	}
	if lz.result != porcupine.Illegal || len(lz.failing) != 1 || lz.failing[0] != session.id {
		t.Fatalf("result %s, failing %v", lz.result, lz.failing)
	}
	b, err := os.ReadFile(lz.html)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "Porcupine") || !strings.Contains(string(b), "pause 000000000001 [key a]") {
		t.Fatalf("%s is not porcupine's visualisation of the history", lz.html)
	}
}

// TestModelAppliesARequestOnce: a request is remembered for longer than any run, so a
// retry of one that applied is replayed, never applied again, however many other
// transitions came in between (the window of eight that issue 21 outran included).
func TestModelAppliesARequestOnce(t *testing.T) {
	// pause k makes v2; then n other transitions, resume and pause in turn, from t=100 on.
	history := func(n int, retry attempt) []*request {
		reqs := []*request{req("pause", "k", at(10, 20, 200, "paused", 2), retry)}
		status := "paused"
		for i := range n {
			action, to := "resume", "active"
			if status == "active" {
				action, to = "pause", "paused"
			}
			reqs = append(reqs, req(action, "o"+strconv.Itoa(i), at(int64(100+10*i), int64(105+10*i), 200, to, int64(3+i))))
			status = to
		}
		return reqs
	}
	// 9 others end active at v11: the retry pausing again is a request applied twice.
	if got := check(t, state{Status: "paused", Version: 12}, history(9, at(500, 510, 200, "paused", 12))...); got != porcupine.Illegal {
		t.Errorf("a retry after nine other transitions applied again: %s, want Illegal", got)
	}
	// ...and its replay is what the entity owes it.
	if got := check(t, state{Status: "active", Version: 11}, history(9, replay(at(500, 510, 200, "active", 11)))...); got != porcupine.Ok {
		t.Errorf("a retry after nine other transitions replayed: %s", got)
	}
	// A refusal is wrong too: the request applied.
	if got := check(t, state{Status: "active", Version: 11}, history(9, at(500, 510, 404, "active", 0))...); got != porcupine.Illegal {
		t.Errorf("a retry refused after its request applied: %s, want Illegal", got)
	}
}
