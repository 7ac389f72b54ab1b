package httpapi

import (
	"net/http"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/interview"
)

func completeRequest(id, sub, body string, headers map[string]string) request {
	return request{path: "/interviews/" + id + "/complete", routeKey: "POST /interviews/{id}/complete", id: id, sub: sub, body: body, headers: headers}
}

// TestCompleteInterview: the owner completes an active session, with or without a final
// score; a paused, completed or cancelled one is refused with its own message and its
// current status; a retry with the key is a replay.
func TestCompleteInterview(t *testing.T) {
	const active, paused, done, gone = "c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002",
		"c0000000-0000-4000-8000-000000000003", "c0000000-0000-4000-8000-000000000004"
	store := newMemStore(session(active, "alice", interview.Active), session(paused, "alice", interview.Paused),
		session(done, "alice", interview.Completed), session(gone, "alice", interview.Cancelled))
	logger, _ := newLogger()
	h := CompleteInterview(logger, defaults, store)
	key := map[string]string{IdempotencyHeader: "complete-1"}

	resp := invoke(t, h, completeRequest(active, "alice", `{"score":87}`, key).event())
	body := decodeBody(t, resp)
	if resp.StatusCode != http.StatusOK || body["status"] != "completed" || body["score"] != 87.0 || body["completedAt"] == nil {
		t.Fatalf("complete: %d %s", resp.StatusCode, resp.Body)
	}
	again := invoke(t, h, completeRequest(active, "alice", `{"score":87}`, key).event())
	if again.StatusCode != http.StatusOK || header(again, ReplayedHeader) != "true" {
		t.Errorf("a retry: %d %v", again.StatusCode, again.Headers)
	}
	for _, c := range []struct {
		name, id, sub, body string
		status              int
		error, current      string
	}{
		{"paused", paused, "alice", "", http.StatusBadRequest, "Cannot complete a paused interview; resume it first", "paused"},
		{"already completed", done, "alice", "", http.StatusBadRequest, "Interview is already completed", "completed"},
		{"cancelled", gone, "alice", `{"score":null}`, http.StatusBadRequest, "Cannot complete a cancelled interview", "cancelled"},
		{"a score out of range", paused, "alice", `{"score":101}`, http.StatusBadRequest, "Invalid request", ""},
		{"a field it does not take", paused, "alice", `{"reason":"done"}`, http.StatusBadRequest, "Invalid request", ""},
		{"not the owner", paused, "bob", "", http.StatusForbidden, "Forbidden", ""},
		{"no such session", "c0000000-0000-4000-8000-0000000000ff", "alice", "", http.StatusNotFound, "Interview session not found", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := invoke(t, h, completeRequest(c.id, c.sub, c.body, nil).event())
			b := decodeBody(t, resp)
			if resp.StatusCode != c.status || b["error"] != c.error || (c.current != "" && b["currentStatus"] != c.current) {
				t.Errorf("%d %s, want %d %q (currentStatus %q)", resp.StatusCode, resp.Body, c.status, c.error, c.current)
			}
		})
	}
	if s := store.sessions[paused]; s.Status != interview.Paused {
		t.Errorf("a refused completion changed the session: %+v", s)
	}
}
