package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/job"
)

// listJobs asks h for GET /jobs?query as sub with roles.
func listJobs(t *testing.T, h http.Handler, sub, roles, query string) (int, map[string]any) {
	t.Helper()
	ev := request{method: http.MethodGet, path: "/jobs", routeKey: "GET /jobs", sub: sub, roles: roles}.event()
	ev.RawQueryString = query
	if vals, err := url.ParseQuery(query); err == nil && len(vals) > 0 {
		ev.QueryStringParameters = map[string]string{}
		for k, v := range vals {
			ev.QueryStringParameters[k] = strings.Join(v, ",")
		}
	}
	resp := invoke(t, h, ev)
	return resp.StatusCode, decodeBody(t, resp)
}

func itemIDs(body map[string]any) []string {
	var out []string
	items, _ := body["items"].([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		id, _ := m["id"].(string)
		out = append(out, id)
	}
	return out
}

// TestListJobs: the board, for dispatchers and admins, in board-time order, paged by its
// cursor, each job with its assignment and what the caller may do.
func TestListJobs(t *testing.T) {
	store := demoJobs()
	logger, _ := newLogger()
	h := ListJobs(logger, defaults, store)

	// The unassigned job stands at its creation, the others at their bookings a day later.
	status, body := listJobs(t, h, "dana", "[Dispatcher]", "")
	want := []string{jobUnassigned, jobAssigned, jobConfirmed, jobInProgress, jobCompleted, jobCancelled}
	if status != http.StatusOK || !slices.Equal(itemIDs(body), want) || body["nextCursor"] != nil {
		t.Fatalf("dana's board: %d %v, want %v", status, body, want)
	}
	first := body["items"].([]any)[1].(map[string]any)
	a, _ := first["assignment"].(map[string]any)
	if a["technicianId"] != "tech-11" || a["status"] != "Pending" || a["scheduledStart"] != "2026-11-02T09:00:00.000Z" {
		t.Errorf("an assigned job's assignment: %v", first)
	}
	if got := first["allowedActions"]; !slices.Equal(anyStrings(got), []string{"cancel", "assign", "reschedule"}) {
		t.Errorf("dana may, on an assigned job: %v", got)
	}

	// Pages of two, by the cursor, make the whole board.
	var paged []string
	q := "limit=2"
	for i := 0; ; i++ {
		status, body := listJobs(t, h, "root", "[Admin]", q)
		if status != http.StatusOK || len(itemIDs(body)) == 0 || i > 3 {
			t.Fatalf("page %d: %d %v", i, status, body)
		}
		paged = append(paged, itemIDs(body)...)
		next, _ := body["nextCursor"].(string)
		if next == "" {
			break
		}
		q = "limit=2&cursor=" + url.QueryEscape(next)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("pages: %v, want %v", paged, want)
	}

	// Filters reach the store as asked.
	store.lists = nil
	status, body = listJobs(t, h, "dana", "[Dispatcher]", "status=Assigned&from=2026-11-02T10:00:00%2B01:00&to=2026-11-03T00:00:00Z")
	if status != http.StatusOK || !slices.Equal(itemIDs(body), []string{jobAssigned, jobConfirmed}) {
		t.Errorf("assigned jobs on the 2nd: %d %v", status, body)
	}
	wantQ := job.ListQuery{Status: job.Assigned, From: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), Limit: DefaultListLimit}
	if len(store.lists) != 1 || store.lists[0] != wantQ {
		t.Errorf("the store was asked %+v, want %+v", store.lists, wantQ)
	}

	for _, c := range []struct {
		name, sub, roles, query string
		status                  int
		message                 string
	}{
		{"a technician", "tech-12", "[Technician]", "", http.StatusForbidden, ""},
		{"no role", "alice", "", "", http.StatusForbidden, ""},
		{"no token", "", "", "", http.StatusUnauthorized, ""},
		{"lower-case status", "dana", "[Dispatcher]", "status=assigned", http.StatusBadRequest, "status must be one of Unassigned, Assigned, InProgress, Completed, Cancelled"},
		{"empty status", "dana", "[Dispatcher]", "status=", http.StatusBadRequest, "status must be one of"},
		{"two statuses", "dana", "[Dispatcher]", "status=Assigned&status=Unassigned", http.StatusBadRequest, "status must be given at most once"},
		{"no zone", "dana", "[Dispatcher]", "from=2026-11-02T00:00:00", http.StatusBadRequest, "from must be an RFC 3339 timestamp"},
		{"backwards", "dana", "[Dispatcher]", "from=2026-11-03T00:00:00Z&to=2026-11-02T00:00:00Z", http.StatusBadRequest, "from must be before to"},
		{"limit 0", "dana", "[Dispatcher]", "limit=0", http.StatusBadRequest, "limit must be an integer from 1 to 100"},
		{"limit 101", "dana", "[Dispatcher]", "limit=101", http.StatusBadRequest, "limit must be an integer from 1 to 100"},
		{"empty cursor", "dana", "[Dispatcher]", "cursor=", http.StatusBadRequest, "cursor must not be empty"},
		{"foreign cursor", "dana", "[Dispatcher]", "cursor=abc", http.StatusBadRequest, ""},
		// A pair the query cannot decode is refused, not dropped with its filter.
		{"a bad escape in status", "dana", "[Dispatcher]", "status=Bogus%G0", http.StatusBadRequest, `query parameter "status" is not valid percent-encoding`},
		{"a bad escape in limit", "dana", "[Dispatcher]", "limit=%ZZ", http.StatusBadRequest, `query parameter "limit" is not valid percent-encoding`},
		{"a bad escape in from", "dana", "[Dispatcher]", "from=2026-11-02T00:00:00Z%", http.StatusBadRequest, `query parameter "from" is not valid percent-encoding`},
		{"a bad escape in a name", "dana", "[Dispatcher]", "stat%ZZus=Assigned", http.StatusBadRequest, "the query has a parameter that is not valid percent-encoding"},
		{"a raw semicolon", "dana", "[Dispatcher]", "status=Assigned;limit=5", http.StatusBadRequest, `query parameter "status" holds a semicolon`},
	} {
		status, body := listJobs(t, h, c.sub, c.roles, c.query)
		msg, _ := body["details"].(string)
		if status != c.status || !strings.HasPrefix(msg, c.message) {
			t.Errorf("%s: %d %v, want %d %q", c.name, status, body, c.status, c.message)
		}
	}

	// A store failure is a 500 that says nothing of it.
	store.err = errors.New("dynamodb: secret table arn:aws:dynamodb:eu-west-1:123:table/x")
	status, body = listJobs(t, h, "dana", "[Dispatcher]", "")
	if status != http.StatusInternalServerError || strings.Contains(fmt.Sprint(body), "arn:") || strings.Contains(fmt.Sprint(body), "secret") {
		t.Errorf("store failure: %d %v", status, body)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
