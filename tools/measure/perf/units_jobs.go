package perf

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/measure/capacity"
)

// The job routes' units. Each row's calls act on jobs prepared for it alone (through the
// store, with a client the meter does not price, as the API would have left them: created,
// booked, confirmed...), so every call is a real transition, never a refusal; each row books
// its own technician, so no two rows' windows meet. Windows are UTC quarter-hours; a booking
// holds one slot item per quarter-hour (docs/data-model.md, "Calendar integrity").
//
// What each call should consume (Expected) is worked out from the items it writes and
// reads, by the rules docs/performance.md sets out ("Job routes: the units expected").

// scheduleDays is how many working days the schedule fixture books: a fortnight, the
// longest range one schedule read covers (job.MaxScheduleRange).
const scheduleDays = int(job.MaxScheduleRange / (24 * time.Hour))

// boardPage is the page size of the board's rows (GET /jobs' default).
const boardPage = 20

// bookingDay is the first day the fixtures book: job i of a row is booked on day i.
var bookingDay = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)

// unitsDraft is the job every fixture and create-job call makes: the demo's fields, with a
// requested window.
var unitsDraft = job.Draft{
	Title: "Install smart thermostat", CustomerID: "cust-1003", Address: "88 Park Road, Hull",
	// From 07:00, when no fixture's booking starts: a booking moves the job's board time.
	RequestedWindow: &job.Window{Start: bookingDay.Add(7 * time.Hour), End: bookingDay.Add(16 * time.Hour)},
}

// dayWindow is the window of day i (from bookingDay) that starts at start and lasts length.
func dayWindow(i int, start, length time.Duration) job.Window {
	s := bookingDay.AddDate(0, 0, i).Add(start)
	return job.Window{Start: s, End: s.Add(length)}
}

// slots is how many calendar slots a window of length holds.
func slots(length time.Duration) int { return int(length / job.SlotSize) }

// The job's board entry: rewritten in place, or moved (docs/data-model.md, "Listing jobs").
const (
	boardKept  = 1
	boardMoved = 2
)

// jobRead is a transition's read: one strongly consistent Query of the job's partition.
const jobRead = 1

// wantOf is a route's expected units given the job's size before and after the call.
type wantOf = func(before, after int) Expected

// jobWant is a job route's expected units: a transaction that writes the job (of before
// and after bytes), others more items and the request's record (each under 1 KB), all
// billed twice, and the board entry (kept or moved); and read units.
func jobWant(others int, board, read float64) wantOf {
	return func(before, after int) Expected {
		items := capacity.WriteUnitsOf(max(before, after)) + float64(others+requestRecord)
		return Expected{Write: 2*items + board, Read: read}
	}
}

// createWant: the job's put (a new board entry), no read.
func createWant() wantOf { return jobWant(0, boardKept, 0) }

// assignWant: the new assignment's put, a put per slot booked; the board time moves to the
// booking.
func assignWant(booked int) wantOf { return jobWant(1+booked, boardMoved, jobRead) }

// reassignWant: the old assignment's cancel, the new one's put, a put per slot booked, a
// delete per slot released (another technician: none handed over); the same start: the
// board time stays.
func reassignWant(released, booked int) wantOf {
	return jobWant(1+1+booked+released, boardKept, jobRead)
}

// rescheduleWant: the assignment's update, an update per slot kept (handed over to itself),
// a put per slot booked, a delete per slot released; the board time moves.
func rescheduleWant(kept, booked, released int) wantOf {
	return jobWant(1+kept+booked+released, boardMoved, jobRead)
}

// confirmWant: the assignment's update.
func confirmWant() wantOf { return jobWant(1, boardKept, jobRead) }

// stepWant: start, complete: the job alone.
func stepWant() wantOf { return jobWant(0, boardKept, jobRead) }

// cancelWant: its assignment's cancel, a delete per slot of its window.
func cancelWant(released int) wantOf { return jobWant(1+released, boardKept, jobRead) }

func getJobWant() Expected { return Expected{Read: jobRead} }

// scheduleWant is a schedule read of n slot items of slotBytes each: one strongly
// consistent Query, its items' sizes summed and then rounded up to 4 KB units.
func scheduleWant(n, slotBytes int) Expected {
	return Expected{Read: capacity.ReadUnitsOf(n*slotBytes, true)}
}

// jobFixtures prepares a row's jobs through the store.
type jobFixtures struct {
	store      *dynamo.Jobs
	dispatcher lifecycle.Actor
}

// request is a keyed request of actor on job id, as the API makes it.
func (f jobFixtures) request(id string, actor lifecycle.Actor) job.Request {
	return job.Request{Request: lifecycle.Request{ID: id, Actor: actor, CorrelationID: lifecycle.NewID(),
		Idempotency: lifecycle.Idempotency{Key: "key:" + lifecycle.NewID(), Fingerprint: "units-fixture", Client: true}}}
}

// prepare makes n jobs as the API would have left them: created, then, when book is set,
// booked (book(i) is job i's technician and window), then taken through steps by the booked
// technician (Confirm, Start).
func (f jobFixtures) prepare(ctx context.Context, n int, book func(i int) job.Booking, steps ...job.Transition) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = lifecycle.NewID()
		if _, _, err := f.store.Create(ctx, unitsDraft, f.request(ids[i], f.dispatcher)); err != nil {
			return nil, fmt.Errorf("prepare job: %w", err)
		}
		if book == nil {
			continue
		}
		b := book(i)
		req := f.request(ids[i], f.dispatcher)
		req.Booking = &b
		if _, _, err := f.store.Apply(ctx, job.Assign, req); err != nil {
			return nil, fmt.Errorf("prepare job: assign: %w", err)
		}
		tech := lifecycle.Actor{Sub: b.TechnicianID, Roles: []string{job.RoleTechnician}}
		for _, t := range steps {
			if _, _, err := f.store.Apply(ctx, t, f.request(ids[i], tech)); err != nil {
				return nil, fmt.Errorf("prepare job: %s: %w", t.Action, err)
			}
		}
	}
	return ids, nil
}

// jobCalls prepares the jobs and returns the calls of every job route on them: the reads,
// the create, each transition (a booking, the longest booking, reassignments, a reschedule,
// the technician's confirm, start and complete, the cancel) and a technician's schedule.
func (u unitsRun) jobCalls(ctx context.Context) ([]call, error) {
	const dispatcherSub = "units-dispatcher"
	f := jobFixtures{store: dynamo.NewJobs(u.db, u.table, time.Now, lifecycle.NewID),
		dispatcher: lifecycle.Actor{Sub: dispatcherSub, Roles: []string{job.RoleDispatcher}}}
	// The windows: 2 h (09:00-11:00), the common visit; 8 h (08:00-16:00), the longest
	// booking (job.MaxBooking) and so the largest transaction; a reschedule moves the 2 h
	// window an hour later (10:00-12:00: 4 slots kept, 4 booked, 4 released).
	short := func(i int) job.Window { return dayWindow(i, 9*time.Hour, 2*time.Hour) }
	long := func(i int) job.Window { return dayWindow(i, 8*time.Hour, job.MaxBooking) }
	later := func(i int) job.Window { return dayWindow(i, 10*time.Hour, 2*time.Hour) }
	bookOn := func(tech string, w func(int) job.Window) func(int) job.Booking {
		return func(i int) job.Booking { return job.Booking{TechnicianID: tech, Window: w(i)} }
	}
	nShort, nLong := slots(2*time.Hour), slots(job.MaxBooking)

	// Each row books its own technician.
	const stepsTech, scheduleTech = "units-steps", "units-schedule"
	var read, unassigned, unassignedLong, reassign, reassignLong, reschedule, steps, schedule []string
	fixtures := []struct {
		ids   *[]string
		n     int
		book  func(int) job.Booking
		steps []job.Transition
	}{
		{&read, unitCalls, bookOn("units-read", short), []job.Transition{job.Confirm}},
		{&unassigned, unitCalls, nil, nil},
		{&unassignedLong, unitCalls, nil, nil},
		{&reassign, unitCalls, bookOn("units-reassign-from", short), nil},
		{&reassignLong, unitCalls, bookOn("units-reassign-from-8h", long), nil},
		{&reschedule, unitCalls, bookOn("units-reschedule", short), nil},
		{&steps, unitCalls, bookOn(stepsTech, short), nil},
		// A fortnight of working days, each booked 8 h, for the schedule reads.
		{&schedule, scheduleDays, bookOn(scheduleTech, long), nil},
	}
	for _, fx := range fixtures {
		ids, err := f.prepare(ctx, fx.n, fx.book, fx.steps...)
		if err != nil {
			return nil, err
		}
		*fx.ids = ids
	}
	// The board's span: boardPage+1 unassigned jobs requested on consecutive days of a month
	// no other fixture books.
	boardFrom := time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range boardPage + 1 {
		d := unitsDraft
		d.RequestedWindow = &job.Window{Start: boardFrom.AddDate(0, 0, i).Add(9 * time.Hour), End: boardFrom.AddDate(0, 0, i).Add(11 * time.Hour)}
		if _, _, err := f.store.Create(ctx, d, f.request(lifecycle.NewID(), f.dispatcher)); err != nil {
			return nil, fmt.Errorf("prepare the board: %w", err)
		}
	}
	boardPath := func(filter string) func(string) string {
		return func(string) string {
			q := url.Values{"from": {lifecycle.FormatTime(boardFrom)}, "to": {lifecycle.FormatTime(boardFrom.AddDate(0, 1, 0))}, "limit": {fmt.Sprint(boardPage)}}
			return "/jobs?" + q.Encode() + filter
		}
	}
	// A slot item, as the schedule reads it (all are the same size: the same names, ids of
	// one length).
	slotBytes := u.itemSize(ctx, slotKey(scheduleTech, long(0).Start))

	// Calls on job i of a row: its path, and the body of a booking of job i (to tech, or
	// when tech is "", a reschedule).
	jobPath := func(suffix string) func(string) string {
		return func(id string) string { return "/jobs/" + id + suffix }
	}
	bookingBody := func(ids []string, tech string, w func(int) job.Window) func(string) string {
		return func(id string) string {
			win := w(slices.Index(ids, id))
			b := map[string]string{"scheduledStart": lifecycle.FormatTime(win.Start), "scheduledEnd": lifecycle.FormatTime(win.End)}
			if tech != "" {
				b["technicianId"] = tech
			}
			out, _ := json.Marshal(b)
			return string(out)
		}
	}
	createBody := fmt.Sprintf(`{"title":%q,"customerId":%q,"address":%q,"requestedWindow":{"start":%q,"end":%q}}`,
		unitsDraft.Title, unitsDraft.CustomerID, unitsDraft.Address,
		lifecycle.FormatTime(unitsDraft.RequestedWindow.Start), lifecycle.FormatTime(unitsDraft.RequestedWindow.End))
	schedulePath := func(days int) func(string) string {
		return func(tech string) string {
			q := url.Values{"from": {lifecycle.FormatTime(bookingDay)}, "to": {lifecycle.FormatTime(bookingDay.AddDate(0, 0, days))}}
			return "/technicians/" + tech + "/assignments?" + q.Encode()
		}
	}
	scheduleKey := func(tech string) map[string]types.AttributeValue { return slotKey(tech, long(0).Start) }
	technician := func(sub string) string { return u.token(sub, job.RoleTechnician) }
	fixed := func(e Expected) wantOf { return func(int, int) Expected { return e } }
	// Calls that name no job of their own: the board, a create (the answer names the job
	// made), a technician's calendar.
	board := slices.Repeat([]string{"board"}, unitCalls)
	creates := slices.Repeat([]string{"new"}, unitCalls)
	calendar := slices.Repeat([]string{scheduleTech}, unitCalls)

	post := http.MethodPost
	calls := []call{
		{route: "get-job", entity: "job, confirmed 2 h booking", ids: read, path: jobPath(""), wantOf: fixed(getJobWant())},
		// The board: a page of 20 from a span that holds exactly 21 jobs, so the Query
		// reads the page and the one entry that says there is more (with ?status too: they
		// all match, so the filter reads no entry it drops).
		{route: "list-jobs", entity: fmt.Sprintf("a page of 20 (%d entries read)", boardPage+1), ids: board, path: boardPath("")},
		{route: "list-jobs ?status", entity: fmt.Sprintf("a page of 20 (%d entries read, all matching)", boardPage+1),
			ids: board, path: boardPath("&status=Unassigned")},
		{route: "create-job", entity: "new job (title, customer, address, requested window)", method: post, ids: creates,
			path: func(string) string { return "/jobs" }, body: func(string) string { return createBody },
			status: http.StatusCreated, created: true, wantOf: createWant()},
		{route: "assign-job", entity: fmt.Sprintf("Unassigned job, 2 h window (%d slots)", nShort), method: post,
			ids: unassigned, path: jobPath("/assign"), body: bookingBody(unassigned, "units-assign", short), wantOf: assignWant(nShort)},
		{route: "assign-job", entity: fmt.Sprintf("Unassigned job, 8 h window (%d slots, the longest)", nLong), method: post,
			ids: unassignedLong, path: jobPath("/assign"), body: bookingBody(unassignedLong, "units-assign-8h", long), wantOf: assignWant(nLong)},
		{route: "assign-job (reassign)", entity: fmt.Sprintf("Assigned 2 h → another technician, 2 h (%d released, %d booked)", nShort, nShort),
			method: post, ids: reassign, path: jobPath("/assign"), body: bookingBody(reassign, "units-reassign-to", short),
			wantOf: reassignWant(nShort, nShort)},
		{route: "assign-job (reassign)", entity: fmt.Sprintf("Assigned 8 h → another technician, 8 h (%d released, %d booked: the worst case)", nLong, nLong),
			method: post, ids: reassignLong, path: jobPath("/assign"), body: bookingBody(reassignLong, "units-reassign-to-8h", long),
			wantOf: reassignWant(nLong, nLong)},
		{route: "reschedule-job", entity: fmt.Sprintf("2 h booking moved 1 h later (%d kept, %d booked, %d released)", nShort/2, nShort/2, nShort/2),
			method: post, ids: reschedule, path: jobPath("/reschedule"), body: bookingBody(reschedule, "", later),
			wantOf: rescheduleWant(nShort/2, nShort/2, nShort/2)},
		// The technician's transitions, by the technician the booking names (role
		// Technician), one after the other on the same jobs.
		{route: "confirm-job", entity: "2 h booking, Pending; by its technician", method: post, token: technician(stepsTech),
			ids: steps, path: jobPath("/confirm"), wantOf: confirmWant()},
		{route: "start-job", entity: "2 h booking, Confirmed; by its technician", method: post, token: technician(stepsTech),
			ids: steps, path: jobPath("/start"), wantOf: stepWant()},
		{route: "complete-job", entity: "job InProgress; by its technician", method: post, token: technician(stepsTech),
			ids: steps, path: jobPath("/complete"), wantOf: stepWant()},
		{route: "cancel-job", entity: fmt.Sprintf("job, confirmed 2 h booking (%d slots released)", nShort), method: post,
			ids: read, path: jobPath("/cancel"), wantOf: cancelWant(nShort)},
		// The technician reads their own calendar (a dispatcher's read costs the same).
		{route: "get-schedule", entity: fmt.Sprintf("a day, one 8 h booking (%d slots)", nLong), token: technician(scheduleTech),
			ids: calendar, path: schedulePath(1), key: scheduleKey, wantOf: fixed(scheduleWant(nLong, slotBytes))},
		{route: "get-schedule", entity: fmt.Sprintf("%d days (the longest range), 8 h booked each day (%d slots)", scheduleDays, scheduleDays*nLong),
			token: technician(scheduleTech), ids: calendar, path: schedulePath(scheduleDays), key: scheduleKey,
			wantOf: fixed(scheduleWant(scheduleDays*nLong, slotBytes))},
	}
	// The dispatcher makes every call a technician does not, on jobs.
	dispatcher := u.token(dispatcherSub, job.RoleDispatcher)
	for i := range calls {
		calls[i].token = cmp.Or(calls[i].token, dispatcher)
		if calls[i].key == nil {
			calls[i].key = jobKey
		}
	}
	return calls, nil
}

func jobKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "JOB#" + id}, "sk": &types.AttributeValueMemberS{Value: "JOB"}}
}

// slotKey is the key of the technician's calendar slot that starts at at
// (docs/data-model.md: TECH#<technician>, SLOT#<UTC start, to the minute>).
func slotKey(technician string, at time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "TECH#" + technician},
		"sk": &types.AttributeValueMemberS{Value: "SLOT#" + at.UTC().Format("2006-01-02T15:04Z")}}
}
