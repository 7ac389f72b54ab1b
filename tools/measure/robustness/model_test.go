package robustness

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// Histories on one session seeded active at version 1, written as the harness records
// them, and porcupine's verdict on each.

var session = &entity{kind: kindInterview, id: "5e550000-0000-4000-8000-000000000001", group: "5e550000-0000-4000-8000-000000000001", seeded: state{Status: "active", Version: 1}}

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
	return &request{ent: session, action: action, key: key, cor: key, attempts: attempts}
}

const legal, illegal = porcupine.Ok, porcupine.Illegal

// verdict is porcupine's verdict on reqs, with the commit log commits (nil: none), on ents
// as seeded and, at the end, as final holds them (as seeded, those it does not name).
func verdict(ents []*entity, final map[*entity]state, commits map[string]int64, reqs ...*request) porcupine.CheckResult {
	fin := map[string]state{}
	for _, e := range ents {
		fin[e.id] = e.seeded
		if s, ok := final[e]; ok {
			fin[e.id] = s
		}
	}
	ops, _ := operations(ents, reqs, fin, 1000, 9, commits)
	return porcupine.CheckOperationsTimeout(model, ops, 0)
}

// expect fails t unless porcupine's verdict on what is want.
func expect(t *testing.T, what string, want, got porcupine.CheckResult) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %s, want %s", what, got, want)
	}
}

// expectSession: porcupine's verdict on reqs, the session stored as final at the end, is want.
func expectSession(t *testing.T, what string, want porcupine.CheckResult, final state, reqs ...*request) {
	t.Helper()
	expect(t, what, want, verdict([]*entity{session}, map[*entity]state{session: final}, nil, reqs...))
}

func TestModelSessionHistories(t *testing.T) {
	expectSession(t, "a sequential, legal history", legal, state{Status: "cancelled", Version: 4},
		req("pause", "k1", at(10, 20, 200, "paused", 2)),
		req("pause", "k2", at(30, 40, 404, "paused", 0)),
		req("resume", "k3", at(50, 60, 200, "active", 3)),
		req("cancel", "k4", at(70, 80, 200, "cancelled", 4)),
		req("resume", "k5", at(90, 95, 404, "cancelled", 0)),
		req("cancel", "k6", at(96, 99, 400, "cancelled", 0)),
	)
	// The case a check that chains successes by version misses: pause v2, resume v3, pause
	// v4 chain, but the pause that made v4 was answered before the resume that made v3 was
	// sent, so it came first, when the session was already paused: it should have been
	// refused.
	expectSession(t, "a version chain that breaks real-time order", illegal, state{Status: "paused", Version: 4},
		req("pause", "x", at(0, 5, 200, "paused", 2)),
		req("pause", "z", at(10, 20, 200, "paused", 4)),
		req("resume", "y", at(30, 40, 200, "active", 3)),
	)
	expectSession(t, "a stored item that is not the last success", illegal, state{Status: "active", Version: 2},
		req("pause", "k", at(10, 20, 200, "paused", 2)))
	expectSession(t, "a refusal that names a status the session did not have", illegal, state{Status: "active", Version: 1},
		req("pause", "k", at(10, 20, 404, "active", 0)))
}

func TestModelLostAnswerMayOrMayNotHaveApplied(t *testing.T) {
	lost := req("pause", "k", at(10, 20, 500, "", 0))
	expectSession(t, "a lost answer whose write landed", legal, state{Status: "paused", Version: 2}, lost)
	expectSession(t, "a lost answer whose write did not land", legal, state{Status: "active", Version: 1}, lost)
	expectSession(t, "a lost pause cannot have cancelled", illegal, state{Status: "cancelled", Version: 2}, lost)
	// A write may land after its sender gave up: the resume refused at 22–24 found the
	// session still active, the one answered at 30 found it paused by the pause whose
	// answer was lost at 20.
	expectSession(t, "a lost pause that landed after its sender gave up", legal, state{Status: "active", Version: 3},
		lost, req("resume", "r1", at(22, 24, 404, "active", 0)), req("resume", "r2", at(25, 30, 200, "active", 3)))
}

func TestModelReplays(t *testing.T) {
	// The first attempt's answer was lost; the retry finds its write and replays it, as the
	// session is now (moved on by another request in between).
	expectSession(t, "a retry replaying an earlier attempt's write", legal, state{Status: "active", Version: 3},
		req("pause", "k", at(10, 20, 500, "", 0), replay(at(40, 50, 200, "active", 3))),
		req("resume", "r", at(25, 30, 200, "active", 3)),
	)
	// One attempt whose SDK retried the write after a lost answer: its own write, then
	// the replay, within one interval.
	expectSession(t, "a replay of the same attempt's write", legal, state{Status: "paused", Version: 2},
		req("pause", "k", replay(at(10, 20, 200, "paused", 2))))
	expectSession(t, "a replay of a write that did not happen", illegal, state{Status: "paused", Version: 2},
		req("pause", "k", replay(at(10, 20, 200, "active", 1))))
}

// TestModelLostAnswerResolvedByTheCommitLog: with the commit log (the version each request
// committed, by correlation id), a lost answer whose request never committed is left out,
// and one whose request did must take effect, making that version.
func TestModelLostAnswerResolvedByTheCommitLog(t *testing.T) {
	lost := req("pause", "k", at(10, 20, 500, "", 0))
	paused, active := state{Status: "paused", Version: 2}, state{Status: "active", Version: 1}
	for _, c := range []struct {
		what    string
		want    porcupine.CheckResult
		final   state
		commits map[string]int64
	}{
		{"a lost pause that committed v2", legal, paused, map[string]int64{"k": 2}},
		{"a lost pause that committed, not in the final state", illegal, active, map[string]int64{"k": 2}},
		{"a lost pause that never committed", legal, active, map[string]int64{}},
		{"a lost pause that never committed, in the final state", illegal, paused, map[string]int64{}},
	} {
		expect(t, c.what, c.want, verdict([]*entity{session}, map[*entity]state{session: c.final}, c.commits, lost))
	}
	if _, out := operations([]*entity{session}, []*request{lost}, map[string]state{session.id: active}, 1000, 9, map[string]int64{}); out != 1 {
		t.Errorf("%d attempts left out, want the one that never committed", out)
	}
	// It committed v3: after the resume, not before it.
	reqs := []*request{req("pause", "p", at(1, 2, 200, "paused", 2)), lost, req("resume", "r", at(25, 30, 200, "active", 3))}
	expect(t, "a lost pause placed where it did not commit", illegal,
		verdict([]*entity{session}, map[*entity]state{session: {Status: "active", Version: 3}}, map[string]int64{"p": 2, "k": 3, "r": 3}, reqs...))
	expect(t, "a lost pause that landed after a later request", legal,
		verdict([]*entity{session}, map[*entity]state{session: {Status: "paused", Version: 4}}, map[string]int64{"p": 2, "r": 3, "k": 4}, reqs...))
}

// TestAnIllegalHistoryIsVisualised: two overlapping pauses both applied are not
// linearizable, and the failing session's history is written as porcupine's visualisation.
func TestAnIllegalHistoryIsVisualised(t *testing.T) {
	ops, _ := operations([]*entity{session}, []*request{
		req("pause", "a", at(10, 30, 200, "paused", 2)),
		req("pause", "b", at(15, 35, 200, "paused", 2)),
	}, map[string]state{session.id: {Status: "paused", Version: 2}}, 1000, 9, nil)
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
// transitions came in between.
func TestModelAppliesARequestOnce(t *testing.T) {
	// pause k makes v2; then nine other transitions, resume and pause in turn, from t=100
	// on, ending active at v11; then k's retry.
	history := func(retry attempt) []*request {
		reqs := []*request{req("pause", "k", at(10, 20, 200, "paused", 2), retry)}
		for i := range 9 {
			action, to := "resume", "active"
			if i%2 == 1 {
				action, to = "pause", "paused"
			}
			reqs = append(reqs, req(action, "o"+strconv.Itoa(i), at(int64(100+10*i), int64(105+10*i), 200, to, int64(3+i))))
		}
		return reqs
	}
	expectSession(t, "a retry after nine other transitions applied again", illegal, state{Status: "paused", Version: 12},
		history(at(500, 510, 200, "paused", 12))...)
	expectSession(t, "a retry after nine other transitions replayed", legal, state{Status: "active", Version: 11},
		history(replay(at(500, 510, 200, "active", 11)))...)
	expectSession(t, "a retry refused after its request applied", illegal, state{Status: "active", Version: 11},
		history(at(500, 510, 404, "active", 0))...)
}

// Histories on one round's bookings: three jobs and their technicians' calendars, one
// partition. Job A is loaded booked on tom from 09:00 to 10:00; B and C are loaded
// Unassigned.

var (
	jobA = &entity{kind: kindJob, id: "0b5e0000-0000-4000-8000-00000000000a", group: "bookings-round0",
		seeded: state{Status: "Assigned", Version: 1, Booking: win("tom", "09:00", "10:00")}}
	jobB = &entity{kind: kindJob, id: "0b5e0000-0000-4000-8000-00000000000b", group: "bookings-round0", seeded: state{Status: "Unassigned", Version: 1}}
	jobC = &entity{kind: kindJob, id: "0b5e0000-0000-4000-8000-00000000000c", group: "bookings-round0", seeded: state{Status: "Unassigned", Version: 1}}
)

// win is tech's booking from one time of the load's day to another ("09:30"); with no
// tech, a reschedule's window.
func win(tech, from, to string) booking {
	at := func(hm string) int64 {
		t, err := time.Parse("15:04", hm)
		if err != nil {
			panic(err)
		}
		return bookingDay.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute).Unix()
	}
	return booking{Tech: tech, Start: at(from), End: at(to)}
}

// ok is a job's 200: its status and version, and the booking its assignment reports.
func ok(call, ret int64, status string, version int64, b booking) attempt {
	a := at(call, ret, 200, status, version)
	a.booked = b
	return a
}

// booked is a 409 BOOKING_CONFLICT naming the job that holds the time.
func booked(call, ret int64, holder *entity) attempt {
	return attempt{call: call, ret: ret, status: 409, code: "BOOKING_CONFLICT", conflicting: holder.id}
}

func jobReq(e *entity, action, key string, ask booking, attempts ...attempt) *request {
	return &request{ent: e, action: action, key: key, cor: key, ask: ask, attempts: attempts}
}

// expectJobs: porcupine's verdict on reqs, the jobs stored as final holds them at the end
// (as seeded, those it does not name), is want.
func expectJobs(t *testing.T, what string, want porcupine.CheckResult, final map[*entity]state, reqs ...*request) {
	t.Helper()
	expect(t, what, want, verdict([]*entity{jobA, jobB, jobC}, final, nil, reqs...))
}

// TestModelAcceptsALegalBookingHistory: first assignments, a window that only touches
// another, a conflict named right, a reschedule and a reassignment that free time another
// job then takes, a cancel that releases its window, refusals by status, a lost answer
// whose retry is replayed with the job as it is by then.
func TestModelAcceptsALegalBookingHistory(t *testing.T) {
	expectJobs(t, "a legal booking history", legal, map[*entity]state{
		jobA: {Status: "Assigned", Version: 3, Booking: win("ann", "10:00", "11:00")},
		jobB: {Status: "Cancelled", Version: 3},
		jobC: {Status: "Assigned", Version: 3, Booking: win("tom", "10:00", "11:00")},
	},
		// B takes tom 10:00-11:00: it touches A's 09:00-10:00, no overlap.
		jobReq(jobB, "assign", "b1", win("tom", "10:00", "11:00"), ok(10, 20, "Assigned", 2, win("tom", "10:00", "11:00"))),
		// C asks for 09:30-10:30: both A and B hold part of it; naming either is right.
		jobReq(jobC, "assign", "c1", win("tom", "09:30", "10:30"), booked(30, 40, jobA)),
		jobReq(jobC, "assign", "c2", win("tom", "09:45", "10:15"), booked(41, 45, jobB)),
		// A moves to 11:00-12:00 (its technician stays), freeing 09:00-10:00 for C.
		jobReq(jobA, "reschedule", "a1", win("", "11:00", "12:00"), ok(50, 60, "Assigned", 2, win("tom", "11:00", "12:00"))),
		jobReq(jobC, "assign", "c3", win("tom", "09:00", "10:00"), ok(70, 80, "Assigned", 2, win("tom", "09:00", "10:00"))),
		// B is cancelled: its window is released, and it can be booked no more.
		jobReq(jobB, "cancel", "b2", booking{}, ok(90, 100, "Cancelled", 3, booking{})),
		jobReq(jobB, "assign", "b3", win("ann", "09:00", "10:00"), at(105, 108, 400, "Cancelled", 0)),
		// A is reassigned to ann; C's reschedule into B's old window first loses its answer,
		// then its retry finds it applied and replays the job as it is.
		jobReq(jobA, "assign", "a2", win("ann", "10:00", "11:00"), ok(110, 120, "Assigned", 3, win("ann", "10:00", "11:00"))),
		jobReq(jobC, "reschedule", "c4", win("", "10:00", "11:00"), at(130, 140, 500, "", 0),
			replay(ok(150, 160, "Assigned", 3, win("tom", "10:00", "11:00")))),
	)
	// An Unassigned job has nothing to reschedule.
	expectJobs(t, "a reschedule of an unassigned job refused", legal, nil,
		jobReq(jobB, "reschedule", "b", win("", "10:00", "11:00"), at(10, 20, 400, "Unassigned", 0)))
}

func TestModelCatchesADoubleBooking(t *testing.T) {
	// B is told it has tom from 09:30 while A holds him until 10:00.
	expectJobs(t, "a booking over another job's window", illegal, map[*entity]state{jobB: {Status: "Assigned", Version: 2, Booking: win("tom", "09:30", "10:30")}},
		jobReq(jobB, "assign", "b", win("tom", "09:30", "10:30"), ok(10, 20, "Assigned", 2, win("tom", "09:30", "10:30"))))
	// Two concurrent bookings of the same time both committed: in either order the second
	// overlaps the first.
	expectJobs(t, "two concurrent overlapping bookings both committed", illegal, map[*entity]state{
		jobB: {Status: "Assigned", Version: 2, Booking: win("ann", "10:00", "11:00")},
		jobC: {Status: "Assigned", Version: 2, Booking: win("ann", "10:30", "11:30")},
	},
		jobReq(jobB, "assign", "b", win("ann", "10:00", "11:00"), ok(10, 30, "Assigned", 2, win("ann", "10:00", "11:00"))),
		jobReq(jobC, "assign", "c", win("ann", "10:30", "11:30"), ok(15, 35, "Assigned", 2, win("ann", "10:30", "11:30"))),
	)
	expectJobs(t, "a reschedule over another job's window", illegal, map[*entity]state{
		jobA: {Status: "Assigned", Version: 2, Booking: win("tom", "10:00", "11:00")},
		jobB: {Status: "Assigned", Version: 2, Booking: win("tom", "10:30", "11:30")},
	},
		jobReq(jobB, "assign", "b", win("tom", "10:30", "11:30"), ok(10, 20, "Assigned", 2, win("tom", "10:30", "11:30"))),
		jobReq(jobA, "reschedule", "a", win("", "10:00", "11:00"), ok(30, 40, "Assigned", 2, win("tom", "10:00", "11:00"))),
	)
	expectJobs(t, "the same window on another technician", legal, map[*entity]state{jobB: {Status: "Assigned", Version: 2, Booking: win("ann", "09:00", "10:00")}},
		jobReq(jobB, "assign", "b", win("ann", "09:00", "10:00"), ok(10, 20, "Assigned", 2, win("ann", "09:00", "10:00"))))
	expectJobs(t, "an assignment told another window", illegal, map[*entity]state{jobB: {Status: "Assigned", Version: 2, Booking: win("ann", "09:00", "10:00")}},
		jobReq(jobB, "assign", "b", win("ann", "09:00", "10:00"), ok(10, 20, "Assigned", 2, win("ann", "09:00", "11:00"))))
	expectJobs(t, "a reschedule that changed the technician", illegal, map[*entity]state{jobA: {Status: "Assigned", Version: 2, Booking: win("ann", "11:00", "12:00")}},
		jobReq(jobA, "reschedule", "a", win("", "11:00", "12:00"), ok(10, 20, "Assigned", 2, win("ann", "11:00", "12:00"))))
}

// TestModelChecksTheJobABookingConflictNames: a 409 BOOKING_CONFLICT must name a job that
// held an overlapping window of the technician at some point while the request was open.
func TestModelChecksTheJobABookingConflictNames(t *testing.T) {
	for _, c := range []struct {
		name string
		want porcupine.CheckResult
		reqs []*request
	}{
		{"a job that holds the time", legal, []*request{
			jobReq(jobB, "assign", "b", win("tom", "09:45", "10:45"), booked(10, 20, jobA))}},
		{"a job that holds nothing", illegal, []*request{
			jobReq(jobB, "assign", "b", win("tom", "09:45", "10:45"), booked(10, 20, jobC))}},
		{"the job itself", illegal, []*request{
			jobReq(jobA, "reschedule", "a", win("", "09:30", "10:30"), booked(10, 20, jobA))}},
		{"a window that only touches", illegal, []*request{
			jobReq(jobB, "assign", "b", win("tom", "10:00", "11:00"), booked(10, 20, jobA))}},
		{"the time on another technician", illegal, []*request{
			jobReq(jobB, "assign", "b", win("ann", "09:00", "10:00"), booked(10, 20, jobA))}},
		{"a job whose cancel had been answered before the booking was sent", illegal, []*request{
			jobReq(jobA, "cancel", "a", booking{}, ok(10, 20, "Cancelled", 2, booking{})),
			jobReq(jobB, "assign", "b", win("tom", "09:00", "10:00"), booked(30, 40, jobA))}},
		{"a job cancelled while the booking was in flight", legal, []*request{
			jobReq(jobA, "cancel", "a", booking{}, ok(10, 30, "Cancelled", 2, booking{})),
			jobReq(jobB, "assign", "b", win("tom", "09:00", "10:00"), booked(20, 40, jobA))}},
		{"a job whose status forbids the booking anyway", illegal, []*request{
			jobReq(jobB, "cancel", "b1", booking{}, ok(10, 20, "Cancelled", 2, booking{})),
			jobReq(jobB, "assign", "b2", win("tom", "09:00", "10:00"), booked(30, 40, jobA))}},
	} {
		final := map[*entity]state{}
		if c.reqs[0].action == "cancel" {
			final[c.reqs[0].ent] = state{Status: "Cancelled", Version: 2}
		}
		expectJobs(t, "a 409 naming "+c.name, c.want, final, c.reqs...)
	}
}

// TestModelLostBookingMayOrMayNotHaveApplied: B's assignment lost its answer. Whether it
// applied is for what follows to say: C's conflict naming B says it did; C's booking of
// the same time says it did not.
func TestModelLostBookingMayOrMayNotHaveApplied(t *testing.T) {
	lostB := jobReq(jobB, "assign", "b", win("tom", "10:00", "11:00"), at(10, 20, 500, "", 0))
	bBooked := state{Status: "Assigned", Version: 2, Booking: win("tom", "10:00", "11:00")}
	expectJobs(t, "a lost booking that landed", legal, map[*entity]state{jobB: bBooked}, lostB)
	expectJobs(t, "a lost booking that did not land", legal, nil, lostB)
	cAsk := win("tom", "10:30", "11:30")
	cClash := jobReq(jobC, "assign", "c", cAsk, booked(30, 40, jobB))
	expectJobs(t, "a conflict with a lost booking that landed", legal, map[*entity]state{jobB: bBooked}, lostB, cClash)
	expectJobs(t, "a conflict with a lost booking that never landed", illegal, nil, lostB, cClash)
	// C got the time; B's booking, whenever it came, found it taken and cannot be in the
	// calendar.
	cBooked, cOK := state{Status: "Assigned", Version: 2, Booking: cAsk}, jobReq(jobC, "assign", "c", cAsk, ok(30, 40, "Assigned", 2, cAsk))
	expectJobs(t, "a booking after a lost one that did not land", legal, map[*entity]state{jobC: cBooked}, lostB, cOK)
	expectJobs(t, "both the lost booking and an overlapping one in the calendar", illegal, map[*entity]state{jobB: bBooked, jobC: cBooked}, lostB, cOK)
	// A lost cancel may have released A's window: C's booking of it says it did.
	expectJobs(t, "a booking of the window a lost cancel released", legal,
		map[*entity]state{jobA: {Status: "Cancelled", Version: 2}, jobC: {Status: "Assigned", Version: 2, Booking: win("tom", "09:00", "10:00")}},
		jobReq(jobA, "cancel", "a", booking{}, at(10, 20, 0, "", 0)),
		jobReq(jobC, "assign", "c", win("tom", "09:00", "10:00"), ok(30, 40, "Assigned", 2, win("tom", "09:00", "10:00"))),
	)
}

// TestModelAppliesABookingOnce: a retry of an assignment that applied is replayed, with the
// job as it is now, even once other requests have moved the job and given its old time to
// another job: neither a conflict nor a second booking.
func TestModelAppliesABookingOnce(t *testing.T) {
	history := func(retry attempt) []*request {
		return []*request{
			jobReq(jobB, "assign", "b", win("tom", "10:00", "11:00"), ok(10, 20, "Assigned", 2, win("tom", "10:00", "11:00")), retry),
			jobReq(jobB, "reschedule", "o1", win("", "12:00", "13:00"), ok(30, 40, "Assigned", 3, win("tom", "12:00", "13:00"))),
			jobReq(jobC, "assign", "o2", win("tom", "10:00", "11:00"), ok(50, 60, "Assigned", 2, win("tom", "10:00", "11:00"))),
		}
	}
	final := map[*entity]state{
		jobB: {Status: "Assigned", Version: 3, Booking: win("tom", "12:00", "13:00")},
		jobC: {Status: "Assigned", Version: 2, Booking: win("tom", "10:00", "11:00")},
	}
	expectJobs(t, "the retry replayed", legal, final, history(replay(ok(70, 80, "Assigned", 3, win("tom", "12:00", "13:00"))))...)
	expectJobs(t, "the retry of an applied booking refused as a conflict", illegal, final, history(booked(70, 80, jobC))...)
	expectJobs(t, "a replay that reports a booking the job no longer has", illegal, final,
		history(replay(ok(70, 80, "Assigned", 3, win("tom", "10:00", "11:00"))))...)
}

func TestModelChecksTheFinalCalendar(t *testing.T) {
	cancelA := jobReq(jobA, "cancel", "a", booking{}, ok(10, 20, "Cancelled", 2, booking{}))
	expectJobs(t, "a cancel that released its window", legal, map[*entity]state{jobA: {Status: "Cancelled", Version: 2}}, cancelA)
	expectJobs(t, "a cancelled job still in its technician's calendar", illegal,
		map[*entity]state{jobA: {Status: "Cancelled", Version: 2, Booking: win("tom", "09:00", "10:00")}}, cancelA)
	expectJobs(t, "a reschedule the calendar does not hold", illegal, map[*entity]state{jobA: {Status: "Assigned", Version: 2, Booking: win("tom", "09:00", "10:00")}},
		jobReq(jobA, "reschedule", "a", win("", "11:00", "12:00"), ok(10, 20, "Assigned", 2, win("tom", "11:00", "12:00"))))
}

// TestModelCatchesABookingToldAConflictWrongly: a booking the commit log shows committed,
// answered 409 BOOKING_CONFLICT (its retry met the slot another job took after it was
// moved on), is a violation for porcupine and for the events check; and a conflict is
// checked at one point, so one found on a stale read of the job is caught too.
func TestModelCatchesABookingToldAConflictWrongly(t *testing.T) {
	reqs := []*request{
		// B's assignment commits v2 at about 15; its answer is lost and the SDK's retry, at
		// 60, meets C's slot: C took the time after B had been rescheduled away.
		jobReq(jobB, "assign", "b", win("tom", "10:00", "11:00"), booked(10, 70, jobC)),
		jobReq(jobB, "reschedule", "b2", win("", "12:00", "13:00"), ok(30, 40, "Assigned", 3, win("tom", "12:00", "13:00"))),
		jobReq(jobC, "assign", "c", win("tom", "10:00", "11:00"), ok(45, 55, "Assigned", 2, win("tom", "10:00", "11:00"))),
	}
	final := map[*entity]state{
		jobB: {Status: "Assigned", Version: 3, Booking: win("tom", "12:00", "13:00")},
		jobC: {Status: "Assigned", Version: 2, Booking: win("tom", "10:00", "11:00")},
	}
	ents := []*entity{jobA, jobB, jobC}
	expect(t, "a booking that applied, told 409", illegal, verdict(ents, final, map[string]int64{"b": 2, "b2": 3, "c": 2}, reqs...))
	events := []published{{CorrelationID: "b", JobID: jobB.id, Version: 2}}
	if v, _ := verifyEvents(ents, reqs, map[string]stored{}, events); !slices.ContainsFunc(v, func(m string) bool {
		return strings.Contains(m, "answered 409 BOOKING_CONFLICT")
	}) {
		t.Errorf("the events check: violations %q, want the answer one", v)
	}
	// A conflict decided on tom, met on tom after the job had left him: one point cannot
	// hold both.
	expectJobs(t, "a conflict found on a stale read", illegal, map[*entity]state{
		jobA: {Status: "Assigned", Version: 2, Booking: win("ann", "09:00", "10:00")},
		jobB: {Status: "Assigned", Version: 2, Booking: win("tom", "11:00", "12:00")},
	},
		jobReq(jobA, "reschedule", "a1", win("", "11:00", "12:00"), booked(10, 100, jobB)),
		jobReq(jobA, "assign", "a2", win("ann", "09:00", "10:00"), ok(20, 30, "Assigned", 2, win("ann", "09:00", "10:00"))),
		jobReq(jobB, "assign", "b", win("tom", "11:00", "12:00"), ok(40, 50, "Assigned", 2, win("tom", "11:00", "12:00"))),
	)
}

// The scheduler's timers (timers.go): a delivery that returned, or one that failed.

func delivery(call, ret int64) attempt {
	return attempt{call: call, ret: ret, timer: true, delivered: true}
}

func failedDelivery(call, ret int64) attempt { return attempt{call: call, ret: ret, timer: true} }

func timer(pauseVersion int64, attempts ...attempt) *request {
	key := "resume-" + session.id + "-" + strconv.FormatInt(pauseVersion, 10)
	return &request{ent: session, action: actionTimer, key: "schedule:" + key, cor: key, expect: pauseVersion, attempts: attempts}
}

// TestModelATimerResumesItsOwnPauseOnly: a delivered timer resumes the pause it was set for
// if that pause is still the session's latest transition, and changes nothing otherwise;
// it never resumes a later pause.
func TestModelATimerResumesItsOwnPauseOnly(t *testing.T) {
	pause := req("pause", "p", at(10, 20, 200, "paused", 2))
	expectSession(t, "a timer that resumed its pause", legal, state{Status: "active", Version: 3}, pause, timer(2, delivery(30, 40)))
	expectSession(t, "a timer delivered while its pause was the latest, and nothing resumed", illegal, state{Status: "paused", Version: 2},
		pause, timer(2, delivery(30, 40)))
	// Resumed by hand, paused again: the first pause's timer is stale.
	again := []*request{pause, req("resume", "r", at(30, 40, 200, "active", 3)), req("pause", "p2", at(50, 60, 200, "paused", 4))}
	expectSession(t, "a stale timer that changed nothing", legal, state{Status: "paused", Version: 4}, append(again, timer(2, delivery(70, 80)))...)
	expectSession(t, "a stale timer that resumed a later pause", illegal, state{Status: "active", Version: 5}, append(again, timer(2, delivery(70, 80)))...)
	expectSession(t, "the later pause's own timer", legal, state{Status: "active", Version: 5}, append(again, timer(4, delivery(70, 80)))...)
	// Both timers delivered, the later one second: only the commit log tells whose resume
	// made version 5.
	both := append(again, timer(2, delivery(70, 80)), timer(4, delivery(85, 90)))
	commits := func(timer string) map[string]int64 {
		return map[string]int64{"p": 2, "r": 3, "p2": 4, "resume-" + session.id + "-" + timer: 5}
	}
	expect(t, "the later pause's timer resumed it, the stale one delivered before", legal,
		verdict([]*entity{session}, map[*entity]state{session: {Status: "active", Version: 5}}, commits("4"), both...))
	expect(t, "a stale timer that resumed a later pause, whose own timer came after", illegal,
		verdict([]*entity{session}, map[*entity]state{session: {Status: "active", Version: 5}}, commits("2"), both...))
}

// TestModelATimerAppliesOnce: a timer delivered twice, or retried after a failed
// invocation whose write landed, resumes once; a manual resume and a timer racing for the
// same pause cannot both apply.
func TestModelATimerAppliesOnce(t *testing.T) {
	pause := req("pause", "p", at(10, 20, 200, "paused", 2))
	resumed := state{Status: "active", Version: 3}
	expectSession(t, "a timer delivered twice, resumed once", legal, resumed, pause, timer(2, delivery(30, 40), delivery(50, 60)))
	expectSession(t, "a failed invocation whose write landed, then delivered", legal, resumed, pause, timer(2, failedDelivery(30, 40), delivery(50, 60)))
	expectSession(t, "a failed invocation that wrote nothing", legal, state{Status: "paused", Version: 2}, pause, timer(2, failedDelivery(30, 40)))
	// The timer and a manual resume of the same pause, at once: one applies, the other
	// finds the session active. Both applying (version 4, active) is a lost update.
	race := []*request{pause, timer(2, delivery(30, 50)), req("resume", "r", at(35, 45, 200, "active", 3))}
	expectSession(t, "a manual resume that won the race with the timer", legal, resumed, race...)
	expectSession(t, "a timer and a manual resume both applied", illegal, state{Status: "active", Version: 4}, race...)
	expect(t, "a failed invocation the commit log shows applied", legal, verdict([]*entity{session}, map[*entity]state{session: resumed},
		map[string]int64{"resume-" + session.id + "-2": 3}, pause, timer(2, failedDelivery(30, 40))))
}
