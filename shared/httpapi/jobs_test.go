package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// memJobs is an in-process job store applying the domain's rules.
type memJobs struct {
	mu    sync.Mutex
	jobs  map[string]job.Job
	err   error
	calls []job.Request
	// keys are the requests that created jobs, by job id.
	keys map[string]lifecycle.Idempotency
	// lists are the board queries asked of it.
	lists []job.ListQuery
}

func (m *memJobs) Get(_ context.Context, id string) (job.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return job.Job{}, m.err
	}
	j, ok := m.jobs[id]
	if !ok {
		return job.Job{}, lifecycle.ErrNotFound
	}
	return j, nil
}

// Create stores a new job under req.ID, and answers a retry of the same id with the job
// it created, as the DynamoDB store does.
func (m *memJobs) Create(_ context.Context, d job.Draft, req job.Request) (job.Job, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, req)
	if m.err != nil {
		return job.Job{}, false, m.err
	}
	if j, ok := m.jobs[req.ID]; ok {
		if last := m.keys[req.ID]; last.Key == "" || last.Key != req.Idempotency.Key {
			return job.Job{}, false, lifecycle.ErrConflict
		} else if last.Fingerprint != req.Idempotency.Fingerprint {
			return job.Job{}, false, lifecycle.ErrIdempotencyKeyReused
		}
		return j, true, nil
	}
	j := job.New(req.ID, d, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	if m.keys == nil {
		m.keys = map[string]lifecycle.Idempotency{}
	}
	m.jobs[req.ID], m.keys[req.ID] = j, req.Idempotency
	return j, false, nil
}

// Apply performs a cancel or an assignment as the DynamoDB store does: an assignment
// refuses a window that overlaps another job's live booking of the technician.
func (m *memJobs) Apply(ctx context.Context, t job.Transition, req job.Request) (job.Job, bool, error) {
	switch t.Action {
	case job.Cancel.Action:
		return m.Cancel(ctx, req)
	case job.Assign.Action:
	case job.Reschedule.Action:
		return m.reschedule(req)
	default:
		return m.step(t, req)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, req)
	if m.err != nil {
		return job.Job{}, false, m.err
	}
	j, ok := m.jobs[req.ID]
	if !ok {
		return job.Job{}, false, lifecycle.ErrNotFound
	}
	if err := job.Assign.Rule.Check(j.Status); err != nil {
		return job.Job{}, false, err
	}
	b := req.Booking
	for id, other := range m.jobs {
		a := other.CurrentAssignment()
		if id == req.ID || a == nil || a.TechnicianID != b.TechnicianID {
			continue
		}
		if a.ScheduledStart.Before(b.Window.End) && b.Window.Start.Before(a.ScheduledEnd) {
			return job.Job{}, false, &job.BookingConflictError{TechnicianID: b.TechnicianID, JobID: id, Slot: b.Window.Start}
		}
	}
	j = j.Assigned(job.Assignment{ID: "assignment-" + req.ID, TechnicianID: b.TechnicianID, ScheduledStart: b.Window.Start, ScheduledEnd: b.Window.End},
		time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), req.Actor.Sub)
	m.jobs[req.ID] = j
	return j, false, nil
}

// reschedule moves the current assignment's window, as the DynamoDB store does (the
// calendar aside).
func (m *memJobs) reschedule(req job.Request) (job.Job, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[req.ID]
	if !ok {
		return job.Job{}, false, lifecycle.ErrNotFound
	}
	if err := job.Reschedule.Decide(j, req.Actor); err != nil {
		return job.Job{}, false, err
	}
	j = j.Rescheduled(req.Booking.Window, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	m.jobs[req.ID] = j
	return j, false, nil
}

// Schedule returns the technician's live bookings that meet [from, to), in time order, each
// window whole: the store may return more of a window than the range holds (it reads whole
// quarter-hours), and the handler must clip whatever it is given.
func (m *memJobs) Schedule(_ context.Context, tech string, from, to time.Time) ([]job.Booked, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []job.Booked
	for _, j := range m.jobs {
		a := j.CurrentAssignment()
		if a == nil || a.TechnicianID != tech || !a.ScheduledStart.Before(to) || !from.Before(a.ScheduledEnd) {
			continue
		}
		out = append(out, job.Booked{JobID: j.ID, AssignmentID: a.ID, Window: job.Window{Start: a.ScheduledStart, End: a.ScheduledEnd}})
	}
	slices.SortFunc(out, func(a, b job.Booked) int { return a.Window.Start.Compare(b.Window.Start) })
	return out, nil
}

// List answers a page of the board as the DynamoDB store does: board-time order, then id,
// filtered; its cursor is the last job's board key (the store's is opaque too).
func (m *memJobs) List(_ context.Context, q job.ListQuery) (job.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return job.Page{}, m.err
	}
	m.lists = append(m.lists, q)
	key := func(j job.Job) string { return lifecycle.FormatTime(job.BoardTime(j)) + "#" + j.ID }
	if q.Cursor != "" && !strings.Contains(q.Cursor, "#") {
		return job.Page{}, lifecycle.ErrInvalidCursor
	}
	var all []job.Job
	for _, j := range m.jobs {
		at := job.BoardTime(j)
		if (q.Status == "" || j.Status == q.Status) && (q.From.IsZero() || !at.Before(q.From)) && (q.To.IsZero() || at.Before(q.To)) &&
			(q.Cursor == "" || key(j) > q.Cursor) {
			all = append(all, j)
		}
	}
	slices.SortFunc(all, func(a, b job.Job) int { return strings.Compare(key(a), key(b)) })
	if len(all) > q.Limit {
		return job.Page{Items: all[:q.Limit], Next: key(all[q.Limit-1])}, nil
	}
	return job.Page{Items: all}, nil
}

// step performs a technician's transition, as the DynamoDB store does.
func (m *memJobs) step(t job.Transition, req job.Request) (job.Job, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[req.ID]
	if !ok {
		return job.Job{}, false, lifecycle.ErrNotFound
	}
	if err := t.Decide(j, req.Actor); err != nil {
		return job.Job{}, false, err
	}
	j = j.Stepped(t, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	m.jobs[req.ID] = j
	return j, false, nil
}

func (m *memJobs) Cancel(_ context.Context, req job.Request) (job.Job, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, req)
	if m.err != nil {
		return job.Job{}, false, m.err
	}
	j, ok := m.jobs[req.ID]
	if !ok {
		return job.Job{}, false, lifecycle.ErrNotFound
	}
	if err := job.Cancel.Rule.Check(j.Status); err != nil {
		return job.Job{}, false, err
	}
	j = j.Cancelled(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), req.Actor.Sub, req.Reason)
	m.jobs[req.ID] = j
	return j, false, nil
}

const (
	jobUnassigned = "0b000000-0000-4000-8000-000000000001"
	jobAssigned   = "0b000000-0000-4000-8000-000000000002"
	jobConfirmed  = "0b000000-0000-4000-8000-000000000003"
	jobInProgress = "0b000000-0000-4000-8000-000000000004"
	jobCompleted  = "0b000000-0000-4000-8000-000000000005"
	jobCancelled  = "0b000000-0000-4000-8000-000000000006"
)

func demoJobs() *memJobs {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	mk := func(id string, st job.Status, a job.AssignmentStatus) job.Job {
		j := job.Job{ID: id, Title: "Job " + id[len(id)-1:], Status: st, Version: 1, CreatedAt: t0, UpdatedAt: t0}
		if a != "" {
			// The technician demo data books on it (tools/local/demodata): tech-11 on job 2, tech-12 on job 3, ...
			tech := fmt.Sprintf("tech-%d", 10+int(id[len(id)-1]-'0')-1)
			j.Assignment = &job.Assignment{ID: "a5a5a5a5-0000-4000-8000-" + id[len(id)-12:], JobID: id, TechnicianID: tech,
				ScheduledStart: t0.Add(24 * time.Hour), ScheduledEnd: t0.Add(26 * time.Hour), Status: a, Version: 1}
		}
		return j
	}
	return &memJobs{jobs: map[string]job.Job{
		jobUnassigned: mk(jobUnassigned, job.Unassigned, ""),
		jobAssigned:   mk(jobAssigned, job.Assigned, job.Pending),
		jobConfirmed:  mk(jobConfirmed, job.Assigned, job.Confirmed),
		jobInProgress: mk(jobInProgress, job.InProgress, job.Confirmed),
		jobCompleted:  mk(jobCompleted, job.Completed, job.Confirmed),
		jobCancelled:  mk(jobCancelled, job.Cancelled, job.AssignmentCancelled),
	}}
}

func jobRequest(id, sub, roles, body string) request {
	return request{id: id, sub: sub, roles: roles, body: body, path: "/jobs/" + id + "/cancel", routeKey: "POST /jobs/{id}/cancel"}
}

// TestCancelJobRoles: roles come from the one claim the function's settings name, in the
// exact shapes the HTTP API's JWT authorizer delivers (an array flattened to "[a b]", or a
// plain value).
func TestCancelJobRoles(t *testing.T) {
	cases := []struct {
		name, sub, roles string
		claim            string // the claim the token carries the roles in; default cognito:groups
		rolesClaim       string // the claim the settings name; default cognito:groups
		status           int
	}{
		{"dispatcher", "dana", "[Dispatcher]", "", "", 200},
		{"admin", "adam", "[Admin]", "", "", 200},
		{"admin among others", "adam", "[Technician Admin]", "", "", 200},
		{"a single plain value", "adam", "Admin", "", "", 200},
		{"another claim, named by the settings", "adam", "[Admin]", "roles", "roles", 200},
		{"another claim, not named by the settings", "adam", "[Admin]", "roles", "", 403},
		{"cognito:groups when the settings name another", "adam", "[Admin]", "", "roles", 403},
		{"comma-separated is one role", "dana", "Technician,Dispatcher", "", "", 403},
		{"JSON text is not read", "adam", `["Admin"]`, "", "", 403},
		{"technician", "tom", "[Technician]", "", "", 403},
		{"no roles", "alice", "", "", "", 403},
		{"lower-case role", "dana", "[dispatcher]", "", "", 403},
		{"roles claim as an object", "dana", `{"Dispatcher":true}`, "", "", 403},
		{"no claims", "", "", "", "", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := demoJobs()
			ev := jobRequest(jobAssigned, c.sub, "", "").event()
			if c.roles != "" && c.sub != "" {
				claim := c.claim
				if claim == "" {
					claim = "cognito:groups"
				}
				ev.RequestContext.Authorizer.JWT.Claims[claim] = c.roles
			}
			settings := defaults
			if c.rolesClaim != "" {
				settings.RolesClaim = c.rolesClaim
			}
			logger, _ := newLogger()
			resp := invoke(t, CancelJob(logger, settings, store), ev)
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			if c.status != 200 && len(store.calls) != 0 {
				t.Fatal("the store was called for a refused caller")
			}
		})
	}
}

func TestCancelJobForbiddenBeforeValidation(t *testing.T) {
	// A caller without the role learns nothing about ids or bodies.
	logger, _ := newLogger()
	resp := invoke(t, CancelJob(logger, defaults, demoJobs()), jobRequest("not-an-id", "tom", "[Technician]", `{"reason":5}`).event())
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
	}
}

func TestCancelJobResponses(t *testing.T) {
	cases := []struct {
		name, id, body string
		storeErr       error
		status         int
		error, code    string
		assignment     string
	}{
		{name: "assigned", id: jobAssigned, body: `{"reason":"Customer rescheduled"}`, status: 200, assignment: "Cancelled"},
		{name: "unassigned", id: jobUnassigned, status: 200},
		{name: "completed", id: jobCompleted, status: 400, error: "Cannot cancel a completed job", code: "INVALID_TRANSITION"},
		{name: "cancelled", id: jobCancelled, status: 400, error: "Job is already cancelled", code: "INVALID_TRANSITION"},
		{name: "missing", id: "0b000000-0000-4000-8000-00000000dead", status: 404, error: "Job not found", code: "NOT_FOUND"},
		{name: "bad id", id: "0b000000", status: 400, error: "Invalid request", code: "INVALID_REQUEST"},
		{name: "reason not a string", id: jobAssigned, body: `{"reason":true}`, status: 400, error: "Invalid request", code: "INVALID_REQUEST"},
		{name: "concurrent change", id: jobAssigned, storeErr: lifecycle.ErrConflict, status: 409, error: "Conflict", code: "CONFLICT"},
		{name: "throttled", id: jobAssigned, storeErr: fmt.Errorf("x: %w", lifecycle.ErrUnavailable), status: 503, error: "Service Unavailable", code: "UNAVAILABLE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := demoJobs()
			store.err = c.storeErr
			logger, _ := newLogger()
			resp := invoke(t, CancelJob(logger, defaults, store), jobRequest(c.id, "dana", "[Dispatcher]", c.body).event())
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			body := decodeBody(t, resp)
			if c.status != 200 {
				if body["error"] != c.error || body["code"] != c.code {
					t.Fatalf("body = %s", resp.Body)
				}
				return
			}
			if acts, _ := body["allowedActions"].([]any); acts == nil || len(acts) != 0 {
				t.Errorf("a cancelled job allows %v, want []", body["allowedActions"])
			}
			if body["status"] != "Cancelled" || body["id"] != c.id || body["cancelledBy"] != "dana" || header(resp, "ETag") != `"2"` {
				t.Errorf("body = %s", resp.Body)
			}
			a, _ := body["assignment"].(map[string]any)
			if c.assignment == "" && a != nil {
				t.Errorf("unexpected assignment %v", a)
			}
			if c.assignment != "" && (a == nil || a["status"] != c.assignment || !strings.HasPrefix(a["technicianId"].(string), "tech-1")) {
				t.Errorf("assignment = %v", a)
			}
			for k := range body {
				if !slices.Contains([]string{"id", "title", "customerId", "address", "status", "version", "createdAt", "updatedAt", "cancelledAt", "cancelledBy", "cancelReason", "assignment", "allowedActions"}, k) {
					t.Errorf("unexpected field %q", k)
				}
			}
		})
	}
}

func TestGetJob(t *testing.T) {
	logger, _ := newLogger()
	ev := request{method: "GET", id: jobConfirmed, sub: "dana", roles: "[Dispatcher]", path: "/jobs/" + jobConfirmed, routeKey: "GET /jobs/{id}"}.event()
	resp := invoke(t, GetJob(logger, defaults, demoJobs()), ev)
	body := decodeBody(t, resp)
	a, _ := body["assignment"].(map[string]any)
	if resp.StatusCode != 200 || body["status"] != "Assigned" || a == nil || a["status"] != "Confirmed" || a["scheduledStart"] != "2026-11-02T09:00:00.000Z" {
		t.Fatalf("get = %d %s", resp.StatusCode, resp.Body)
	}
	ev.RequestContext.Authorizer.JWT.Claims["cognito:groups"] = "[Technician]"
	if resp := invoke(t, GetJob(logger, defaults, demoJobs()), ev); resp.StatusCode != 403 {
		t.Fatalf("technician get = %d", resp.StatusCode)
	}
}
