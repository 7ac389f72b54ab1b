package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/interview"
)

func TestPauseAndResumeContract(t *testing.T) {
	cases := []struct {
		name, fn, id, sub, body string
		status                  int
		error, code, current    string
		newStatus               interview.Status
	}{
		{name: "pause active", fn: FnPauseInterview, id: aliceActive, sub: "alice", status: 200, newStatus: interview.Paused},
		{name: "pause with {}", fn: FnPauseInterview, id: aliceActive, sub: "alice", body: "{}", status: 200, newStatus: interview.Paused},
		{name: "pause paused", fn: FnPauseInterview, id: alicePaused, sub: "alice", status: 404, error: "Failed to pause interview", code: "INVALID_TRANSITION", current: "paused"},
		{name: "pause completed", fn: FnPauseInterview, id: aliceCompleted, sub: "alice", status: 404, error: "Failed to pause interview", code: "INVALID_TRANSITION", current: "completed"},
		{name: "pause missing", fn: FnPauseInterview, id: missing, sub: "alice", status: 404, error: "Failed to pause interview", code: "NOT_FOUND"},
		{name: "pause another's", fn: FnPauseInterview, id: bobActive, sub: "alice", status: 403, error: "Forbidden", code: "FORBIDDEN"},
		{name: "pause no claims", fn: FnPauseInterview, id: aliceActive, status: 401, error: "Unauthorized", code: "UNAUTHORIZED"},
		{name: "pause bad id", fn: FnPauseInterview, id: "nope", sub: "alice", status: 400, error: "Invalid request", code: "INVALID_REQUEST"},
		{name: "pause body not JSON", fn: FnPauseInterview, id: aliceActive, sub: "alice", body: "pause please", status: 400, error: "Invalid request", code: "INVALID_REQUEST"},
		{name: "pause takes no reason", fn: FnPauseInterview, id: aliceActive, sub: "alice", body: `{"reason":"x"}`, status: 400, error: "Invalid request", code: "INVALID_REQUEST"},
		{name: "resume paused", fn: FnResumeInterview, id: alicePaused, sub: "alice", status: 200, newStatus: interview.Active},
		{name: "resume active", fn: FnResumeInterview, id: aliceActive, sub: "alice", status: 404, error: "Failed to resume interview", code: "INVALID_TRANSITION", current: "active"},
		{name: "resume cancelled", fn: FnResumeInterview, id: aliceCancelled, sub: "alice", status: 404, error: "Failed to resume interview", code: "INVALID_TRANSITION", current: "cancelled"},
		{name: "resume missing", fn: FnResumeInterview, id: missing, sub: "alice", status: 404, error: "Failed to resume interview", code: "NOT_FOUND"},
		{name: "resume another's", fn: FnResumeInterview, id: alicePaused, sub: "bob", status: 403, error: "Forbidden", code: "FORBIDDEN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := demoStore()
			before := store.sessions[c.id]
			logger, _ := newLogger()
			verb := strings.TrimSuffix(c.fn, "-interview")
			ev := request{id: c.id, sub: c.sub, body: c.body, path: "/interviews/" + c.id + "/" + verb, routeKey: "POST /interviews/{id}/" + verb}.event()
			resp := invoke(t, Handlers(logger, defaults, Stores{Interviews: store})[c.fn], ev)
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			body := decodeBody(t, resp)
			if c.status == 200 {
				// Seed 001: the body is the whole session object, nothing else.
				for k := range body {
					if !slices.Contains(sessionFields, k) {
						t.Errorf("unexpected field %q", k)
					}
				}
				if body["status"] != string(c.newStatus) || body["id"] != c.id {
					t.Errorf("session = %s", resp.Body)
				}
				if body["conversationId"] != before.ConversationID || body["recentMessages"] == nil {
					t.Errorf("conversation history missing from %s", resp.Body)
				}
				if header(resp, "ETag") != `"2"` {
					t.Errorf("ETag = %q, want the new version", header(resp, "ETag"))
				}
				return
			}
			if body["error"] != c.error || body["code"] != c.code {
				t.Errorf("error %v code %v, want %q %q", body["error"], body["code"], c.error, c.code)
			}
			if got, _ := body["currentStatus"].(string); got != c.current {
				t.Errorf("currentStatus = %q, want %q", got, c.current)
			}
			if c.current != "" && !strings.Contains(body["details"].(string), c.current) {
				t.Errorf("details %q do not name the current status", body["details"])
			}
		})
	}
}

func TestGetInterview(t *testing.T) {
	cases := []struct {
		name, id, sub string
		status        int
		error         string
	}{
		{"owner", alicePaused, "alice", 200, ""},
		{"upper-case id", strings.ToUpper(alicePaused), "alice", 200, ""},
		{"another owner", alicePaused, "bob", 403, "Forbidden"},
		{"missing", missing, "alice", 404, "Interview session not found"},
		{"bad id", "x", "alice", 400, "Invalid request"},
		{"no claims", alicePaused, "", 401, "Unauthorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logger, _ := newLogger()
			ev := request{method: "GET", id: c.id, sub: c.sub, path: "/interviews/" + c.id, routeKey: "GET /interviews/{id}"}.event()
			resp := invoke(t, GetInterview(logger, defaults, demoStore()), ev)
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			body := decodeBody(t, resp)
			if c.status == 200 {
				if body["id"] != alicePaused || body["status"] != "paused" || header(resp, "ETag") != `"1"` {
					t.Errorf("body %s etag %q", resp.Body, header(resp, "ETag"))
				}
			} else if body["error"] != c.error {
				t.Errorf("error = %v, want %q", body["error"], c.error)
			}
		})
	}
}

func listEvent(sub, query string) request {
	return request{method: "GET", sub: sub, path: "/interviews", routeKey: "GET /interviews"}
}

func TestListInterviewsQuery(t *testing.T) {
	cases := []struct {
		query   string
		status  int
		details string
		limit   int
		filter  interview.Status
	}{
		{query: "", status: 200, limit: 20},
		{query: "status=paused", status: 200, limit: 20, filter: interview.Paused},
		{query: "status=active&limit=1", status: 200, limit: 1, filter: interview.Active},
		{query: "limit=100", status: 200, limit: 100},
		{query: "limit=0", status: 400, details: "limit"},
		{query: "limit=101", status: 400, details: "limit"},
		{query: "limit=ten", status: 400, details: "limit"},
		{query: "limit=", status: 400, details: "limit"},
		{query: "status=archived", status: 400, details: "status"},
		{query: "status=PAUSED", status: 400, details: "status"},
		{query: "status=paused&status=active", status: 400, details: "at most once"},
		{query: "cursor=%21%21", status: 400, details: "cursor"},
		{query: "status=paused%G0", status: 400, details: `query parameter "status" is not valid percent-encoding`},
		{query: "limit=%ZZ", status: 400, details: `query parameter "limit" is not valid percent-encoding`},
		{query: "status=active&cursor=%zz", status: 400, details: `query parameter "cursor" is not valid percent-encoding`},
		{query: "owner=bob", status: 200, limit: 20}, // unknown parameters are ignored; the owner is always the caller
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			store := demoStore()
			logger, _ := newLogger()
			ev := listEvent("alice", c.query).event()
			ev.RawQueryString = c.query
			ev.PathParameters = nil
			resp := invoke(t, ListInterviews(logger, defaults, store), ev)
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			body := decodeBody(t, resp)
			if c.status != 200 {
				if body["error"] != "Invalid request" || !strings.Contains(body["details"].(string), c.details) {
					t.Errorf("body %s", resp.Body)
				}
				return
			}
			q := store.lists[len(store.lists)-1]
			if q.Owner != "alice" || q.Limit != c.limit || q.Status != c.filter {
				t.Errorf("store query = %+v", q)
			}
			items, ok := body["items"].([]any)
			if !ok {
				t.Fatalf("items is not an array: %s", resp.Body)
			}
			for _, it := range items {
				m := it.(map[string]any)
				if c.filter != "" && m["status"] != string(c.filter) {
					t.Errorf("item in status %v", m["status"])
				}
				if m["id"] == bobActive {
					t.Error("bob's session listed for alice")
				}
				if _, ok := m["recentMessages"]; ok {
					t.Errorf("a listing returns summaries, without recentMessages: %v", m["id"])
				}
			}
		})
	}
}

func TestListInterviewsPages(t *testing.T) {
	store := demoStore()
	logger, _ := newLogger()
	h := ListInterviews(logger, defaults, store)
	var got []string
	cursor := ""
	for page := 0; page < 10; page++ {
		ev := listEvent("alice", "").event()
		ev.PathParameters = nil
		ev.RawQueryString = "limit=3"
		if cursor != "" {
			ev.RawQueryString += "&cursor=" + url.QueryEscape(cursor)
		}
		resp := invoke(t, h, ev)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page %d: %d %s", page, resp.StatusCode, resp.Body)
		}
		body := decodeBody(t, resp)
		for _, it := range body["items"].([]any) {
			got = append(got, it.(map[string]any)["id"].(string))
		}
		next, _ := body["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{aliceActive, alicePaused, aliceCompleted, aliceCancelled}
	if !slices.Equal(got, want) {
		t.Fatalf("pages gave %v, want newest first %v", got, want)
	}
}

func TestListInterviewsEmptyIsAnArray(t *testing.T) {
	logger, _ := newLogger()
	ev := listEvent("carol", "").event()
	ev.PathParameters = nil
	resp := invoke(t, ListInterviews(logger, defaults, demoStore()), ev)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"items":[]`) || strings.Contains(resp.Body, "nextCursor") {
		t.Fatalf("empty list = %d %s", resp.StatusCode, resp.Body)
	}
}
