package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/job"
)

const newJobBody = `{"title":" Replace boiler valve ","customerId":"cust-1","address":"1 Mill Lane",` +
	`"requestedWindow":{"start":"2026-12-09T10:00:00+01:00","end":"2026-12-09T12:30:00.1234Z"}}`

func createJobRequest(sub, roles, body string, headers map[string]string) request {
	return request{path: "/jobs", routeKey: "POST /jobs", sub: sub, roles: roles, body: body, headers: headers}
}

// TestCreateJob (issue 25, part 1): a dispatcher or an admin creates an Unassigned job at
// version 1, answered 201 with its Location; times come back in UTC, to the millisecond; a
// retry with the key gets the same job; the key with another body is a 422; a technician
// is refused before anything is stored.
func TestCreateJob(t *testing.T) {
	store := demoJobs()
	before := len(store.jobs)
	logger, _ := newLogger()
	h := CreateJob(logger, defaults, store, sequentialIDs())
	key := map[string]string{IdempotencyHeader: "job-1"}

	resp := invoke(t, h, createJobRequest("dana", "[Dispatcher]", newJobBody, key).event())
	body := decodeBody(t, resp)
	id, _ := body["id"].(string)
	if resp.StatusCode != http.StatusCreated || body["status"] != "Unassigned" || body["version"] != 1.0 || body["title"] != "Replace boiler valve" ||
		header(resp, "Location") != "/jobs/"+id || header(resp, "ETag") != `"1"` {
		t.Fatalf("create: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	window, _ := body["requestedWindow"].(map[string]any)
	if window["start"] != "2026-12-09T09:00:00.000Z" || window["end"] != "2026-12-09T12:30:00.123Z" {
		t.Errorf("requestedWindow = %v, want UTC to the millisecond", window)
	}
	if got := actionsOf(t, body["allowedActions"]); strings.Join(got, ",") != "cancel,assign" {
		t.Errorf("a new job allows a dispatcher %v", got)
	}
	again := invoke(t, h, createJobRequest("dana", "[Dispatcher]", newJobBody, key).event())
	if again.StatusCode != http.StatusCreated || decodeBody(t, again)["id"] != id || header(again, ReplayedHeader) != "true" {
		t.Errorf("a retry: %d %v %s", again.StatusCode, again.Headers, again.Body)
	}
	other := invoke(t, h, createJobRequest("dana", "[Dispatcher]", `{"title":"Other","customerId":"c","address":"a"}`, key).event())
	if other.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("the key with another body: %d", other.StatusCode)
	}
	if admin := invoke(t, h, createJobRequest("adam", "[Admin]", newJobBody, nil).event()); admin.StatusCode != http.StatusCreated {
		t.Errorf("an admin's create: %d %s", admin.StatusCode, admin.Body)
	}
	if len(store.jobs) != before+2 {
		t.Errorf("%d jobs made, want 2 (dana's, once, and adam's)", len(store.jobs)-before)
	}
	if tech := invoke(t, h, createJobRequest("tom", "[Technician]", newJobBody, nil).event()); tech.StatusCode != http.StatusForbidden {
		t.Errorf("a technician's create: %d", tech.StatusCode)
	}
}

func TestCreateJobRefusals(t *testing.T) {
	for _, c := range []struct {
		name, body string
		details    []string
	}{
		{"no body", ``, []string{"title is required", "customerId is required", "address is required"}},
		{"blank and too long", `{"title":" ","customerId":"` + strings.Repeat("c", 101) + `","address":"a"}`, []string{"title must not be blank", "customerId must be at most 100"}},
		{"a window backwards", `{"title":"t","customerId":"c","address":"a","requestedWindow":{"start":"2026-12-09T12:00:00Z","end":"2026-12-09T09:00:00Z"}}`,
			[]string{"requestedWindow.start must be before its end"}},
		{"a window without a zone", `{"title":"t","customerId":"c","address":"a","requestedWindow":{"start":"2026-12-09T09:00:00","end":"2026-12-09T12:00:00Z"}}`,
			[]string{"requestedWindow.start must be an RFC 3339 timestamp"}},
		{"a window too long", `{"title":"t","customerId":"c","address":"a","requestedWindow":{"start":"2026-12-01T00:00:00Z","end":"2026-12-31T00:00:00Z"}}`,
			[]string{"requestedWindow must be at most"}},
		{"a window without its end", `{"title":"t","customerId":"c","address":"a","requestedWindow":{"start":"2026-12-01T00:00:00Z"}}`,
			[]string{"requestedWindow.end is required"}},
		{"an unknown field in the window", `{"title":"t","customerId":"c","address":"a","requestedWindow":{"start":"2026-12-01T00:00:00Z","end":"2026-12-01T01:00:00Z","tz":"UTC"}}`,
			[]string{`unknown field "requestedWindow.tz"`}},
		{"a field of the lifecycle's", `{"title":"t","customerId":"c","address":"a","status":"Completed"}`, []string{`unknown field "status"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := demoJobs()
			before := len(store.jobs)
			logger, _ := newLogger()
			resp := invoke(t, CreateJob(logger, defaults, store, sequentialIDs()), createJobRequest("dana", "[Dispatcher]", c.body, nil).event())
			details, _ := decodeBody(t, resp)["details"].(string)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", resp.StatusCode, resp.Body)
			}
			for _, d := range c.details {
				if !strings.Contains(details, d) {
					t.Errorf("details %q do not say %q", details, d)
				}
			}
			if len(store.jobs) != before {
				t.Error("a refused create stored a job")
			}
		})
	}
}

// TestTheAssignedTechnicianReadsTheirJob (issue 25, part 6): the technician the current
// assignment names reads the job, and may start it (the assignment is confirmed); another
// technician may not,
// nor may the named technician once that assignment is cancelled; a caller with no job
// role is refused before anything is read.
func TestTheAssignedTechnicianReadsTheirJob(t *testing.T) {
	const id, gone = "0b000000-0000-4000-8000-0000000000a1", "0b000000-0000-4000-8000-0000000000a2"
	store := demoJobs()
	booked := job.Job{ID: id, Title: "Boiler", Status: job.Assigned, Version: 2,
		Assignment: &job.Assignment{ID: "a-1", JobID: id, TechnicianID: "tom", Status: job.Confirmed, Version: 1}}
	store.jobs[id] = booked
	released := booked
	released.ID, released.Assignment = gone, &job.Assignment{ID: "a-2", JobID: gone, TechnicianID: "tom", Status: job.AssignmentCancelled, Version: 2}
	store.jobs[gone] = released
	logger, _ := newLogger()
	h := GetJob(logger, defaults, store)
	get := func(jobID, sub, roles string) (int, map[string]any) {
		resp := invoke(t, h, request{method: http.MethodGet, path: "/jobs/" + jobID, routeKey: "GET /jobs/{id}", id: jobID, sub: sub, roles: roles}.event())
		return resp.StatusCode, decodeBody(t, resp)
	}
	if status, body := get(id, "tom", "[Technician]"); status != http.StatusOK || body["id"] != id || strings.Join(actionsOf(t, body["allowedActions"]), ",") != "start" {
		t.Errorf("tom reads his job: %d %v", status, body)
	}
	if status, _ := get(id, "tess", "[Technician]"); status != http.StatusForbidden {
		t.Errorf("another technician reads tom's job: %d", status)
	}
	if status, _ := get(gone, "tom", "[Technician]"); status != http.StatusForbidden {
		t.Errorf("tom reads a job whose assignment to him is cancelled: %d", status)
	}
	if status, _ := get(id, "tom", ""); status != http.StatusForbidden {
		t.Errorf("tom without the Technician role: %d", status)
	}
	if status, body := get(id, "dana", "[Dispatcher]"); status != http.StatusOK || strings.Join(actionsOf(t, body["allowedActions"]), ",") != "cancel,assign,reschedule" {
		t.Errorf("a dispatcher reads it: %d %v", status, body)
	}
}

func assignRequest(id, sub, roles, body string) request {
	return request{path: "/jobs/" + id + "/assign", routeKey: "POST /jobs/{id}/assign", id: id, sub: sub, roles: roles, body: body}
}

// TestAssignJob (issue 25, part 2): a dispatcher books a technician into a quarter-hour
// window: the job is Assigned with a Pending assignment; an overlapping booking of the same
// technician on another job is a 409 naming that job; bodies off the quarter-hour, backwards
// or too long are 400s; a completed job refuses it; a technician may not assign.
func TestAssignJob(t *testing.T) {
	store := demoJobs()
	logger, _ := newLogger()
	h := JobTransition(logger, defaults, store, job.Assign)
	booking := func(start, end string) string {
		return fmt.Sprintf(`{"technicianId":"tom","scheduledStart":%q,"scheduledEnd":%q}`, start, end)
	}
	resp := invoke(t, h, assignRequest(jobUnassigned, "dana", "[Dispatcher]", booking("2026-12-09T10:00:00+01:00", "2026-12-09t11:00:00z")).event())
	body := decodeBody(t, resp)
	a, _ := body["assignment"].(map[string]any)
	if resp.StatusCode != http.StatusOK || body["status"] != "Assigned" || a["technicianId"] != "tom" || a["status"] != "Pending" ||
		a["scheduledStart"] != "2026-12-09T09:00:00.000Z" {
		t.Fatalf("assign: %d %s", resp.StatusCode, resp.Body)
	}
	clash := invoke(t, h, assignRequest(jobAssigned, "dana", "[Dispatcher]", booking("2026-12-09T10:45:00Z", "2026-12-09T12:00:00Z")).event())
	if b := decodeBody(t, clash); clash.StatusCode != http.StatusConflict || b["code"] != "BOOKING_CONFLICT" || b["conflictingJobId"] != jobUnassigned {
		t.Errorf("an overlapping booking: %d %s", clash.StatusCode, clash.Body)
	}
	touching := invoke(t, h, assignRequest(jobAssigned, "dana", "[Dispatcher]", booking("2026-12-09T11:00:00Z", "2026-12-09T12:00:00Z")).event())
	if touching.StatusCode != http.StatusOK {
		t.Errorf("a booking that starts as the other ends: %d %s", touching.StatusCode, touching.Body)
	}
	for _, c := range []struct{ name, body, details string }{
		{"off the quarter-hour", booking("2026-12-09T09:10:00Z", "2026-12-09T10:00:00Z"), "on a quarter-hour"},
		{"backwards", booking("2026-12-09T10:00:00Z", "2026-12-09T09:00:00Z"), "scheduledStart must be before"},
		{"longer than 8 hours", booking("2026-12-09T06:00:00Z", "2026-12-09T14:15:00Z"), "must be at most 8 hours long"},
		{"no technician", `{"scheduledStart":"2026-12-09T09:00:00Z","scheduledEnd":"2026-12-09T10:00:00Z"}`, "technicianId is required"},
		{"no zone", booking("2026-12-09T09:00:00", "2026-12-09T10:00:00Z"), "scheduledStart must be an RFC 3339 timestamp"},
		{"an unknown field", `{"technicianId":"tom","scheduledStart":"2026-12-09T09:00:00Z","scheduledEnd":"2026-12-09T10:00:00Z","status":"Confirmed"}`, `unknown field "status"`},
	} {
		resp := invoke(t, h, assignRequest(jobConfirmed, "dana", "[Dispatcher]", c.body).event())
		if details, _ := decodeBody(t, resp)["details"].(string); resp.StatusCode != http.StatusBadRequest || !strings.Contains(details, c.details) {
			t.Errorf("%s: %d %s, want 400 saying %q", c.name, resp.StatusCode, resp.Body, c.details)
		}
	}
	if r := invoke(t, h, assignRequest(jobCompleted, "dana", "[Dispatcher]", booking("2026-12-10T09:00:00Z", "2026-12-10T10:00:00Z")).event()); r.StatusCode != http.StatusBadRequest ||
		decodeBody(t, r)["error"] != "Cannot assign a completed job" {
		t.Errorf("assigning a completed job: %d %s", r.StatusCode, r.Body)
	}
	if r := invoke(t, h, assignRequest(jobConfirmed, "tom", "[Technician]", booking("2026-12-10T09:00:00Z", "2026-12-10T10:00:00Z")).event()); r.StatusCode != http.StatusForbidden {
		t.Errorf("a technician assigns: %d", r.StatusCode)
	}
}

// TestRescheduleJob (issue 25, part 4): a dispatcher moves an Assigned job's booking; the
// window is held to a booking's rules; a job without an assignment, and a technician, are
// refused.
func TestRescheduleJob(t *testing.T) {
	store := demoJobs()
	logger, _ := newLogger()
	h := JobTransition(logger, defaults, store, job.Reschedule)
	req := func(id, sub, roles, body string) request {
		return request{path: "/jobs/" + id + "/reschedule", routeKey: "POST /jobs/{id}/reschedule", id: id, sub: sub, roles: roles, body: body}
	}
	ok := invoke(t, h, req(jobConfirmed, "dana", "[Dispatcher]", `{"scheduledStart":"2026-12-11T13:00:00Z","scheduledEnd":"2026-12-11T15:00:00Z"}`).event())
	a, _ := decodeBody(t, ok)["assignment"].(map[string]any)
	if ok.StatusCode != http.StatusOK || a["status"] != "Pending" || a["scheduledStart"] != "2026-12-11T13:00:00.000Z" || a["technicianId"] != "tech-12" {
		t.Errorf("reschedule: %d %s", ok.StatusCode, ok.Body)
	}
	for _, c := range []struct {
		name, id, sub, roles, body string
		status                     int
		error                      string
	}{
		{"no assignment", jobUnassigned, "dana", "[Dispatcher]", `{"scheduledStart":"2026-12-11T13:00:00Z","scheduledEnd":"2026-12-11T15:00:00Z"}`, 400, "The job has no assignment to reschedule"},
		{"off the quarter-hour", jobAssigned, "dana", "[Dispatcher]", `{"scheduledStart":"2026-12-11T13:01:00Z","scheduledEnd":"2026-12-11T15:00:00Z"}`, 400, "Invalid request"},
		{"a technician field", jobAssigned, "dana", "[Dispatcher]", `{"technicianId":"tom","scheduledStart":"2026-12-11T13:00:00Z","scheduledEnd":"2026-12-11T15:00:00Z"}`, 400, "Invalid request"},
		{"a technician", jobAssigned, "tech-11", "[Technician]", `{"scheduledStart":"2026-12-11T13:00:00Z","scheduledEnd":"2026-12-11T15:00:00Z"}`, 403, "Forbidden"},
	} {
		r := invoke(t, h, req(c.id, c.sub, c.roles, c.body).event())
		if r.StatusCode != c.status || decodeBody(t, r)["error"] != c.error {
			t.Errorf("%s: %d %s, want %d %q", c.name, r.StatusCode, r.Body, c.status, c.error)
		}
	}
}

// TestSchedule (issue 25, part 6): a technician's bookings between two times, for a
// dispatcher, or for that technician ("me"); another technician may not; the range is
// required and bounded.
func TestSchedule(t *testing.T) {
	store := demoJobs()
	logger, _ := newLogger()
	h := GetSchedule(logger, defaults, store)
	get := func(id, sub, roles, query string) (int, map[string]any) {
		path := "/technicians/" + id + "/assignments"
		ev := request{method: http.MethodGet, path: path, routeKey: "GET /technicians/{id}/assignments", id: id, sub: sub, roles: roles}.event()
		ev.RawQueryString = query
		ev.QueryStringParameters = map[string]string{}
		for _, kv := range strings.Split(query, "&") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				ev.QueryStringParameters[k] = v
			}
		}
		resp := invoke(t, h, ev)
		return resp.StatusCode, decodeBody(t, resp)
	}
	week := "from=2026-11-02T00:00:00Z&to=2026-11-09T00:00:00Z"
	status, body := get("tech-12", "dana", "[Dispatcher]", week)
	bookings, _ := body["bookings"].([]any)
	if status != http.StatusOK || len(bookings) != 1 || bookings[0].(map[string]any)["jobId"] != jobConfirmed ||
		bookings[0].(map[string]any)["start"] != "2026-11-02T09:00:00.000Z" {
		t.Errorf("dana reads tech-12's week: %d %v", status, body)
	}
	if status, body := get("me", "tech-12", "[Technician]", week); status != http.StatusOK || body["technicianId"] != "tech-12" {
		t.Errorf("tech-12 reads their own: %d %v", status, body)
	}
	// Each booking is clipped to the range exactly, to the millisecond, not to the
	// quarter-hours the calendar holds; one that only touches the range is not on it.
	tom := store.jobs[jobConfirmed]
	tom.ID = "5e5e5e5e-0000-4000-8000-000000000010"
	tom.Assignment = &job.Assignment{ID: "a5a5a5a5-0000-4000-8000-000000000010", JobID: tom.ID, TechnicianID: "tom",
		ScheduledStart: time.Date(2028, 1, 10, 10, 0, 0, 0, time.UTC), ScheduledEnd: time.Date(2028, 1, 10, 12, 0, 0, 0, time.UTC), Status: job.Confirmed, Version: 1}
	store.jobs[tom.ID] = tom
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"from=2028-01-10T10:07:00Z&to=2028-01-10T11:50:00Z", []string{"2028-01-10T10:07:00.000Z 2028-01-10T11:50:00.000Z"}},
		{"from=2028-01-10T10:07:00Z&to=2028-01-10T10:08:00Z", []string{"2028-01-10T10:07:00.000Z 2028-01-10T10:08:00.000Z"}},
		{"from=2028-01-10T09:00:00Z&to=2028-01-10T13:00:00Z", []string{"2028-01-10T10:00:00.000Z 2028-01-10T12:00:00.000Z"}},
		{"from=2028-01-10T10:07:00.5Z&to=2028-01-10T11:59:59.999Z", []string{"2028-01-10T10:07:00.500Z 2028-01-10T11:59:59.999Z"}},
		{"from=2028-01-10T12:00:00Z&to=2028-01-10T13:00:00Z", nil},
		{"from=2028-01-10T09:00:00Z&to=2028-01-10T10:00:00Z", nil},
	} {
		status, body := get("tom", "dana", "[Dispatcher]", c.query)
		var got []string
		for _, b := range body["bookings"].([]any) {
			m := b.(map[string]any)
			got = append(got, fmt.Sprint(m["start"], " ", m["end"]))
		}
		if status != http.StatusOK || !slices.Equal(got, c.want) {
			t.Errorf("tom's schedule %s: %d %v, want %v", c.query, status, got, c.want)
		}
	}
	for _, c := range []struct {
		name, id, sub, roles, query string
		status                      int
		details                     string // what the 400's details start with, when set
	}{
		{"another technician", "tech-12", "tom", "[Technician]", week, http.StatusForbidden, ""},
		{"no role", "tech-12", "alice", "", week, http.StatusForbidden, ""},
		{"no from", "tech-12", "dana", "[Dispatcher]", "to=2026-11-09T00:00:00Z", http.StatusBadRequest, "from is required, once"},
		{"backwards", "tech-12", "dana", "[Dispatcher]", "from=2026-11-09T00:00:00Z&to=2026-11-02T00:00:00Z", http.StatusBadRequest, ""},
		{"a month", "tech-12", "dana", "[Dispatcher]", "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", http.StatusBadRequest, ""},
		{"no zone", "tech-12", "dana", "[Dispatcher]", "from=2026-11-02T00:00:00&to=2026-11-09T00:00:00Z", http.StatusBadRequest, ""},
		// A second from that the query cannot decode is a second from, not none.
		{"a second from, badly escaped", "tech-12", "dana", "[Dispatcher]", week + "&from=%zz", http.StatusBadRequest, `query parameter "from" is not valid percent-encoding`},
		{"a badly escaped to", "me", "tech-12", "[Technician]", "from=2026-11-02T00:00:00Z&to=2026-11-09T00:00:00Z%G0", http.StatusBadRequest, `query parameter "to" is not valid percent-encoding`},
	} {
		status, body := get(c.id, c.sub, c.roles, c.query)
		details, _ := body["details"].(string)
		if status != c.status || !strings.HasPrefix(details, c.details) {
			t.Errorf("%s: %d %v, want %d %q", c.name, status, body, c.status, c.details)
		}
	}
}
