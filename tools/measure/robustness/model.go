package robustness

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// The lifecycle as porcupine checks it (docs/reliability.md, "How it is checked", tells it
// at length). A partition is a session, or a booking group: jobs with their technicians'
// calendars (a booking is legal only if no other job of the technician holds an
// overlapping window, so jobs that share technicians are one object; the groups share
// none). Its state is, per entity, its status, its version, which of its retried requests
// have applied, and a job's live booking (a technician and a window). An operation is one
// HTTP attempt; the model says which answers each state allows:
//
//   - a request that applied before (its Idempotency-Key outlives any run) is answered
//     200, replayed, with the entity as it is now, and changes nothing;
//   - else a legal transition applies: 200, not replayed, the new status, version + 1, and
//     a job's new booking (an assignment books the technician and window asked for, a
//     reschedule moves the window and keeps the technician, a cancel releases it); one that
//     books is legal only if no other job's live booking of the technician overlaps it;
//   - else it is refused: 400 or 404 INVALID_TRANSITION with the current status when the
//     status forbids it; 409 BOOKING_CONFLICT when the status allows it, naming a job other
//     than this one that holds, at that one point, an overlapping booking of the
//     technician (decided on the job as it is then, never for a request that applied);
//   - a job request that lost a race may be a 409 CONFLICT, changing nothing;
//   - the scheduler is one more client: a delivered timer (actionTimer) resumes its pause if
//     that pause is still the session's latest transition (the version it names), and
//     otherwise (a second delivery, a stale timer) changes nothing; a failed one is lost;
//   - an attempt whose answer was lost (a crash, a 503, a broken connection) may take
//     effect at any point after it was sent, or never. The table's stream is the run's
//     commit log (each event names its request and the version it made): an attempt of a
//     request that never committed is left out, one of a request that did must make that
//     version before the final read (operations), and a delivered timer applies only if it
//     committed; else every pending attempt would double porcupine's search;
//   - a replayed 200 may follow a write of the same attempt (its SDK retried a write whose
//     answer was lost): two operations over the attempt's interval, that write and the
//     replay.
//
// Each entity starts with a "seed" (as loaded) and ends with a "read" (as stored at the
// end; a job's booking as its technician's calendar holds it), so the final state is
// checked too.
//
// The transition table and the calendar rule are written here from the product's rules
// (docs/api.md, "Entities, lifecycles and listings"; docs/data-model.md, "Calendar
// integrity"), not taken from shared/interview and shared/job, so that a mistake in those
// is caught, not copied.
var lifecycleRules = map[string]map[string]rule{
	kindInterview: {
		"pause":  {from: []string{"active"}, to: "paused"},
		"resume": {from: []string{"paused"}, to: "active"},
		"cancel": {from: []string{"active", "paused"}, to: "cancelled"},
		// The scheduler's resume of a pause until a time: only of the version that pause
		// made (docs/events.md, "Pause until a time").
		actionTimer: {from: []string{"paused"}, to: "active", expects: true},
	},
	kindJob: {
		"cancel":     {from: []string{"Unassigned", "Assigned", "InProgress"}, to: "Cancelled", books: release},
		"assign":     {from: []string{"Unassigned", "Assigned"}, to: "Assigned", books: book},
		"reschedule": {from: []string{"Assigned"}, to: "Assigned", books: move},
	},
}

const (
	kindInterview = "interview"
	kindJob       = "job"
	actionSeed    = "seed"
	actionRead    = "read"
	actionTimer   = "scheduled-resume"
)

type rule struct {
	from []string
	to   string
	// books is the booking a job's transition leaves, from its booking cur, asked for ask;
	// nil (every interview transition) keeps cur.
	books func(cur, ask booking) booking
	// expects: legal only on the version the request names (opInput.Expect).
	expects bool
}

var (
	release = func(_, _ booking) booking { return booking{} } // cancel: the booking is given up
	book    = func(_, ask booking) booking { return ask }     // assign: the technician and window asked for
	// reschedule: the window asked for, the same technician.
	move = func(cur, ask booking) booking {
		if cur.Tech == "" {
			return booking{}
		}
		return booking{Tech: cur.Tech, Start: ask.Start, End: ask.End}
	}
)

// booking is a job's live booking: a technician and the window [Start, End) in Unix
// seconds (UTC). The zero booking is none: an unassigned or cancelled job holds no time.
type booking struct {
	Tech       string
	Start, End int64
}

// window is a booking as the API and the events carry it (a reschedule's has no technician).
type window struct {
	TechnicianID   string    `json:"technicianId,omitempty"`
	ScheduledStart time.Time `json:"scheduledStart"`
	ScheduledEnd   time.Time `json:"scheduledEnd"`
}

// booking is the window's booking; none when there is no window.
func (w *window) booking() booking {
	if w == nil {
		return booking{}
	}
	return booking{Tech: w.TechnicianID, Start: w.ScheduledStart.Unix(), End: w.ScheduledEnd.Unix()}
}

// overlaps: the same technician, and the windows share time (windows that only touch do
// not: one ending at 11:00 and one starting at 11:00 are both bookable).
func (b booking) overlaps(o booking) bool {
	return b.Tech != "" && b.Tech == o.Tech && b.Start < o.End && o.Start < b.End
}

// String is "tech-0-1 09:00–10:30", the window alone when it names no technician (a
// reschedule's), "no booking" when there is none.
func (b booking) String() string {
	if b.End == 0 {
		return "no booking"
	}
	at := func(s int64) string { return time.Unix(s, 0).UTC().Format("15:04") }
	w := at(b.Start) + "–" + at(b.End)
	if b.Tech == "" {
		return w
	}
	return b.Tech + " " + w
}

// opInput is what an operation asked.
type opInput struct {
	Entity string
	// Group is the partition: a session's id, or the round's bookings (its jobs and their
	// technicians' calendars).
	Group  string
	Kind   string // kindInterview or kindJob
	Action string // pause, resume, cancel, assign, reschedule, actionTimer; actionSeed, actionRead
	Key    string // the Idempotency-Key
	// Retried is the index of Key among the entity's requests that may meet their own
	// earlier write (sent more than once, or answered as a replay), -1 for the others.
	Retried int
	// Ask is the booking asked for: an assignment's technician and window, a reschedule's
	// window (no technician: the job keeps its own).
	Ask booking
	// Expect is the version a scheduled resume applies to: the one its pause made.
	Expect int64
}

// outcome is how the model reads an answer.
type outcome uint8

const (
	applied   outcome = iota // 200
	refused                  // 400 or 404 INVALID_TRANSITION
	conflict                 // 409 CONFLICT: lost a race, nothing written
	clash                    // 409 BOOKING_CONFLICT: the technician is booked, nothing written
	lost                     // no answer, or one that does not say (crash, 503, transport)
	observed                 // the seed and the final read
	delivered                // a timer's target returned: its resume applied, or changed nothing
)

// opOutput is what an operation was told.
type opOutput struct {
	Outcome  outcome
	Status   string // a 200's status, a refusal's currentStatus, what seed and read saw
	Version  int64  // a 200's ETag, what seed and read saw
	Replayed bool
	// Booking is a job's live booking as a 200 reports it (its assignment, unless that is
	// cancelled), as it was loaded (seed), or as the calendar holds it at the end (read).
	Booking booking
	// Conflicting is the job a 409 BOOKING_CONFLICT names (conflictingJobId).
	Conflicting string
	// Committed is, for a lost answer or a delivered timer, the version its request
	// committed, from the commit log (0: unknown; -1, for a timer: none).
	Committed int64
	// Answer is the answer as received, for the visualisation ("200", "404
	// INVALID_TRANSITION", "500 crash", …).
	Answer string
}

// told describes the answer of an operation on an entity of kind: "200 paused v3",
// "404 INVALID_TRANSITION (current active)", "409 BOOKING_CONFLICT (held by …)".
func (o opOutput) told(kind string) string {
	s := o.Answer
	switch o.Outcome {
	case applied:
		s += fmt.Sprintf(" %s v%d", o.Status, o.Version)
		if kind == kindJob {
			s += ", " + o.Booking.String()
		}
	case refused:
		s += " (current " + o.Status + ")"
	case clash:
		s += " (held by " + short(o.Conflicting) + ")"
	}
	return s
}

// state is one entity in the model.
type state struct {
	Status  string
	Version int64
	// Applied holds, for each retried request i, the version its write made ("" when it has
	// not applied), comma-separated (a string, so that states compare with ==).
	Applied string
	// Booking is a job's live booking (none for a session).
	Booking booking
}

// done reports whether retried request i has applied.
func (s state) done(i int) bool {
	f := strings.Split(s.Applied, ",")
	return i >= 0 && i < len(f) && f[i] != ""
}

func (s state) apply(to string, retried int) state {
	n := state{Status: to, Version: s.Version + 1, Applied: s.Applied, Booking: s.Booking}
	if retried >= 0 {
		f := strings.Split(s.Applied, ",")
		for len(f) <= retried {
			f = append(f, "")
		}
		f[retried] = strconv.FormatInt(n.Version, 10)
		n.Applied = strings.Join(f, ",")
	}
	return n
}

// member is one entity of a partition.
type member struct {
	ID string
	state
}

// part is a partition's state: its entities in the order they were seeded. It is never
// changed in place (porcupine keeps the states it has seen): with returns a copy.
type part []member

func (p part) index(id string) int {
	return slices.IndexFunc(p, func(m member) bool { return m.ID == id })
}

func (p part) with(i int, s state) part {
	n := slices.Clone(p)
	n[i].state = s
	return n
}

// holder is an entity other than p[k] whose live booking overlaps b, "" when none.
func (p part) holder(k int, b booking) string {
	for i, m := range p {
		if i != k && m.Booking.overlaps(b) {
			return m.ID
		}
	}
	return ""
}

func step(st, in, out any) (bool, any) {
	p, i, o := st.(part), in.(opInput), out.(opOutput)
	k := p.index(i.Entity)
	switch i.Action {
	case actionSeed:
		if k >= 0 {
			return false, p
		}
		return true, append(slices.Clone(p), member{ID: i.Entity, state: state{Status: o.Status, Version: o.Version, Booking: o.Booking}})
	case actionRead:
		if k < 0 {
			return false, p
		}
		s := p[k].state
		return o.Status == s.Status && o.Version == s.Version && o.Booking == s.Booking, p
	}
	r, known := lifecycleRules[i.Kind][i.Action]
	if k < 0 || !known {
		return false, p
	}
	s := p[k].state
	done := s.done(i.Retried)
	legal := slices.Contains(r.from, s.Status) && (!r.expects || s.Version == i.Expect)
	next := s.apply(r.to, i.Retried)
	if r.books != nil {
		next.Booking = r.books(s.Booking, i.Ask)
	}
	free := p.holder(k, next.Booking) == ""
	switch o.Outcome {
	case lost:
		switch {
		case done:
			return true, p
		case o.Committed != 0:
			// It applied: here, if this is where the version it made comes.
			return legal && free && next.Version == o.Committed, p.with(k, next)
		case !legal || !free:
			return true, p
		}
		return true, p.with(k, next)
	case applied:
		if done {
			return o.Replayed && o.Status == s.Status && o.Version == s.Version && o.Booking == s.Booking, p
		}
		if !legal || !free || o.Replayed {
			return false, p
		}
		return o.Status == next.Status && o.Version == next.Version && o.Booking == next.Booking, p.with(k, next)
	case refused:
		return !done && !legal && o.Status == s.Status, p
	case conflict:
		return !done, p
	case delivered:
		// The commit log says which timer resumed a pause: without it, a stale timer that
		// resumed a later pause passes for that pause's own timer, delivered too.
		if done || !legal {
			return true, p
		}
		return o.Committed == 0 || o.Committed == next.Version, p.with(k, next)
	case clash:
		// At this point the job's status allows the booking, and the job it names holds an
		// overlapping window of the technician (a reschedule's: the job's own).
		h := p.index(o.Conflicting)
		return legal && !done && next.Booking.Tech != "" && h >= 0 && h != k && p[h].Booking.overlaps(next.Booking), p
	}
	return false, p
}

// model is the porcupine model of the lifecycle, partitioned by opInput.Group.
var model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byGroup := map[string][]porcupine.Operation{}
		for _, op := range history {
			g := op.Input.(opInput).Group
			byGroup[g] = append(byGroup[g], op)
		}
		var out [][]porcupine.Operation
		for _, g := range slices.Sorted(maps.Keys(byGroup)) {
			out = append(out, byGroup[g])
		}
		return out
	},
	Init:  func() any { return part(nil) },
	Step:  step,
	Equal: func(a, b any) bool { return slices.Equal(a.(part), b.(part)) },
	Hash: func(st any) uint64 {
		h := fnv.New64a()
		for _, m := range st.(part) {
			fmt.Fprintf(h, "%s|%s|%d|%s|%s|%d|%d;", m.ID, m.Status, m.Version, m.Applied, m.Booking.Tech, m.Booking.Start, m.Booking.End)
		}
		return h.Sum64()
	},
	DescribeOperation: func(in, out any) string {
		i, o := in.(opInput), out.(opOutput)
		switch i.Action {
		case actionSeed, actionRead:
			s := fmt.Sprintf("%s %s → %s v%d", i.Action, short(i.Entity), o.Status, o.Version)
			if i.Kind == kindJob {
				s += ", " + o.Booking.String()
			}
			return s
		}
		s := fmt.Sprintf("%s %s", i.Action, short(i.Entity))
		if i.Expect != 0 {
			s += fmt.Sprintf(" of v%d", i.Expect)
		}
		if i.Ask.End != 0 {
			s += " to " + i.Ask.String()
		}
		return s + fmt.Sprintf(" [key %s] → %s", short(i.Key), o.told(i.Kind))
	},
	DescribeState: func(st any) string {
		p := st.(part)
		if len(p) == 0 {
			return "not loaded"
		}
		var out []string
		for _, m := range p {
			d := fmt.Sprintf("%s v%d", m.Status, m.Version)
			if m.Booking.Tech != "" {
				d += ", " + m.Booking.String()
			}
			var retried []string
			for i, v := range strings.Split(m.Applied, ",") {
				if v != "" {
					retried = append(retried, fmt.Sprintf("%d at v%s", i, v))
				}
			}
			if len(retried) > 0 {
				d += " (retried requests applied: " + strings.Join(retried, ", ") + ")"
			}
			if len(p) > 1 {
				d = short(m.ID) + " " + d
			}
			out = append(out, d)
		}
		return strings.Join(out, "; ")
	},
}

// short is the last group of a UUID, enough to tell entities and keys apart on screen.
func short(id string) string {
	return id[strings.LastIndexByte(id, '-')+1:]
}
