package robustness

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"
)

// The lifecycle as porcupine checks it. Each entity (a session or a job) is one partition,
// whose state is its status, its version, and which of its retried requests have applied.
// An operation is one HTTP attempt; the model says which answers each state allows:
//
//   - a request that has applied before (its Idempotency-Key is remembered for a day, and a
//     run is minutes long: docs/api.md, "Safe retries") is answered 200, marked
//     replayed, with the entity as it is now, and changes nothing, however many other
//     transitions came in between;
//   - else a legal transition applies: 200, not replayed, the new status and version + 1;
//   - else it is refused (400 or 404 INVALID_TRANSITION) with the current status, and
//     changes nothing; a job cancel that lost a race may also be a 409, changing nothing;
//   - an attempt whose answer was lost (a crashed sandbox's 500, a 503, a broken
//     connection) may or may not have applied: the checker is given it with no return
//     time, so it may take effect at any point after it was sent, or never (after
//     everything else), and it applies if it is legal where it is placed;
//   - a replayed 200 may follow a write of the same attempt (the function's SDK retried
//     a write whose answer was lost), so it is given as two operations over the
//     attempt's interval: that write (as above, but within the interval) and the replay.
//
// Each partition starts with a "seed" (the entity as loaded) and ends with a "read" (the
// item as stored once the run is over), so the final state is checked too.
//
// The transition table is written here from the product's rules (DESIGN.md §3), not taken
// from shared/interview and shared/job, so that a mistake in those is caught, not copied.
var lifecycleRules = map[string]map[string]rule{
	kindInterview: {
		"pause":  {from: []string{"active"}, to: "paused"},
		"resume": {from: []string{"paused"}, to: "active"},
		"cancel": {from: []string{"active", "paused"}, to: "cancelled"},
	},
	kindJob: {
		"cancel": {from: []string{"Unassigned", "Assigned", "InProgress"}, to: "Cancelled"},
	},
}

const (
	kindInterview = "interview"
	kindJob       = "job"
	actionSeed    = "seed"
	actionRead    = "read"
)

type rule struct {
	from []string
	to   string
}

// opInput is what an operation asked.
type opInput struct {
	Entity string
	Kind   string // kindInterview or kindJob
	Action string // pause, resume, cancel; actionSeed, actionRead
	Key    string // the Idempotency-Key
	// Retried is the index of Key among the entity's requests that may meet their own
	// earlier write (sent more than once, or answered as a replay), -1 for the others.
	Retried int
}

// outcome is how the model reads an answer.
type outcome uint8

const (
	applied  outcome = iota // 200
	refused                 // 400 or 404 INVALID_TRANSITION
	conflict                // 409: lost a race, nothing written
	lost                    // no answer, or one that does not say (crash, 503, transport)
	observed                // the seed and the final read
)

// opOutput is what an operation was told.
type opOutput struct {
	Outcome  outcome
	Status   string // a 200's status, a refusal's currentStatus, what seed and read saw
	Version  int64  // a 200's ETag, what seed and read saw
	Replayed bool
	// Answer is the answer as received, for the visualisation ("200", "404
	// INVALID_TRANSITION", "500 crash", …).
	Answer string
}

// state is one entity in the model.
type state struct {
	Status  string
	Version int64
	// Applied holds, for each retried request i, the version its write made ("" when it has
	// not applied), comma-separated (a string, so that states compare with ==).
	Applied string
}

// appliedAt is the version retried request i's write made, if it has applied.
func (s state) appliedAt(i int) (int64, bool) {
	if i < 0 {
		return 0, false
	}
	f := strings.Split(s.Applied, ",")
	if i >= len(f) || f[i] == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(f[i], 10, 64)
	return v, err == nil
}

// hasApplied: retried request i has applied.
func (s state) hasApplied(i int) bool {
	_, ok := s.appliedAt(i)
	return ok
}

func (s state) apply(to string, retried int) state {
	n := state{Status: to, Version: s.Version + 1, Applied: s.Applied}
	if retried >= 0 {
		f := strings.Split(s.Applied, ",")
		if s.Applied == "" {
			f = nil
		}
		for len(f) <= retried {
			f = append(f, "")
		}
		f[retried] = strconv.FormatInt(n.Version, 10)
		n.Applied = strings.Join(f, ",")
	}
	return n
}

func step(st, in, out any) (bool, any) {
	s, i, o := st.(state), in.(opInput), out.(opOutput)
	switch i.Action {
	case actionSeed:
		return s == state{}, state{Status: o.Status, Version: o.Version}
	case actionRead:
		return o.Status == s.Status && o.Version == s.Version, s
	}
	r, known := lifecycleRules[i.Kind][i.Action]
	if !known {
		return false, s
	}
	done := s.hasApplied(i.Retried)
	legal := slices.Contains(r.from, s.Status)
	switch o.Outcome {
	case lost:
		if done || !legal {
			return true, s
		}
		return true, s.apply(r.to, i.Retried)
	case applied:
		if done {
			return o.Replayed && o.Status == s.Status && o.Version == s.Version, s
		}
		if !legal || o.Replayed {
			return false, s
		}
		n := s.apply(r.to, i.Retried)
		return o.Status == n.Status && o.Version == n.Version, n
	case refused:
		return !done && !legal && o.Status == s.Status, s
	case conflict:
		return !done, s
	}
	return false, s
}

// model is the porcupine model of the lifecycle, partitioned by entity.
var model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byEntity := map[string][]porcupine.Operation{}
		var order []string
		for _, op := range history {
			e := op.Input.(opInput).Entity
			if _, ok := byEntity[e]; !ok {
				order = append(order, e)
			}
			byEntity[e] = append(byEntity[e], op)
		}
		out := make([][]porcupine.Operation, 0, len(order))
		for _, e := range order {
			out = append(out, byEntity[e])
		}
		return out
	},
	Init:  func() any { return state{} },
	Step:  step,
	Equal: func(a, b any) bool { return a.(state) == b.(state) },
	Hash: func(st any) uint64 {
		s := st.(state)
		h := fnv.New64a()
		h.Write([]byte(s.Status + "|" + strconv.FormatInt(s.Version, 10) + "|" + s.Applied))
		return h.Sum64()
	},
	DescribeOperation: func(in, out any) string {
		i, o := in.(opInput), out.(opOutput)
		switch i.Action {
		case actionSeed, actionRead:
			return fmt.Sprintf("%s %s → %s v%d", i.Action, short(i.Entity), o.Status, o.Version)
		}
		s := fmt.Sprintf("%s %s [key %s] → %s", i.Action, short(i.Entity), short(i.Key), o.Answer)
		switch o.Outcome {
		case applied:
			s += fmt.Sprintf(" %s v%d", o.Status, o.Version)
		case refused:
			s += " (current " + o.Status + ")"
		}
		return s
	},
	DescribeState: func(st any) string {
		s := st.(state)
		if s == (state{}) {
			return "not loaded"
		}
		var retried []string
		for i := range strings.Count(s.Applied, ",") + 1 {
			if v, ok := s.appliedAt(i); ok {
				retried = append(retried, fmt.Sprintf("%d at v%d", i, v))
			}
		}
		d := fmt.Sprintf("%s v%d", s.Status, s.Version)
		if len(retried) > 0 {
			d += " (retried requests applied: " + strings.Join(retried, ", ") + ")"
		}
		return d
	},
}

// short is the last group of a UUID, enough to tell entities and keys apart on screen.
func short(id string) string {
	return id[strings.LastIndexByte(id, '-')+1:]
}
