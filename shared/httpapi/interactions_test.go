package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/interview"
)

const serviceSub = "conversation-service"

func recordRequest(id, sub, scope, body string, headers map[string]string) request {
	return request{path: "/interviews/" + id + "/interactions", routeKey: "POST /interviews/{id}/interactions", id: id, sub: sub, scope: scope,
		body: body, headers: headers}
}

func message(id string) string {
	return fmt.Sprintf(`{"message":{"id":%q,"conversationId":"conv-1","status":"completed","output":{"text":"An answer"},"usage":null,"createdAt":"2026-11-21T10:00:00.000Z"},"progress":0.4,"score":55.5}`, id)
}

// TestRecordInteraction (issue 24, part 3): a service with the scope records a message,
// progress and score on an active session; the owner without the scope, another user, or a
// token with another scope may not; paused, completed and cancelled sessions refuse it with
// their status; a retry with the key appends nothing twice.
func TestRecordInteraction(t *testing.T) {
	const active, paused, done, gone = "e0000000-0000-4000-8000-000000000001", "e0000000-0000-4000-8000-000000000002",
		"e0000000-0000-4000-8000-000000000003", "e0000000-0000-4000-8000-000000000004"
	store := newMemStore(session(active, "alice", interview.Active), session(paused, "alice", interview.Paused),
		session(done, "alice", interview.Completed), session(gone, "alice", interview.Cancelled))
	logger, _ := newLogger()
	h := RecordInteraction(logger, defaults, store)
	key := map[string]string{IdempotencyHeader: "answer-1"}

	resp := invoke(t, h, recordRequest(active, serviceSub, interview.ScopeProgress, message("m1"), key).event())
	body := decodeBody(t, resp)
	if resp.StatusCode != http.StatusOK || body["status"] != "active" || body["progress"] != 0.4 || body["score"] != 55.5 || body["lastInteractionAt"] == nil {
		t.Fatalf("record: %d %s", resp.StatusCode, resp.Body)
	}
	msgs, _ := body["recentMessages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["id"] != "m1" || msgs[0].(map[string]any)["usage"] != nil {
		t.Errorf("recentMessages = %v, want the message as sent", body["recentMessages"])
	}
	if got := actionsOf(t, body["allowedActions"]); strings.Join(got, ",") != "complete,record" {
		t.Errorf("a service's allowedActions = %v", got)
	}
	again := invoke(t, h, recordRequest(active, serviceSub, interview.ScopeProgress, message("m1"), key).event())
	if again.StatusCode != http.StatusOK || header(again, ReplayedHeader) != "true" || len(store.sessions[active].RecentMessages) == 0 {
		t.Errorf("a retry: %d %v", again.StatusCode, again.Headers)
	}
	var stored []json.RawMessage
	if err := json.Unmarshal(store.sessions[active].RecentMessages, &stored); err != nil || len(stored) != 1 {
		t.Errorf("after a retry the history holds %s, want the one message", store.sessions[active].RecentMessages)
	}
	reused := invoke(t, h, recordRequest(active, serviceSub, interview.ScopeProgress, message("m2"), key).event())
	if reused.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("the key with another message: %d, want 422", reused.StatusCode)
	}

	for _, c := range []struct {
		name, id, sub, scope, body string
		status                     int
		error, current             string
	}{
		{"paused", paused, serviceSub, interview.ScopeProgress, message("m3"), http.StatusBadRequest, "Interview is paused; resume it to record answers", "paused"},
		{"completed", done, serviceSub, interview.ScopeProgress, message("m3"), http.StatusBadRequest, "Interview is already completed", "completed"},
		{"cancelled", gone, serviceSub, interview.ScopeProgress, message("m3"), http.StatusBadRequest, "Interview is cancelled", "cancelled"},
		{"the owner, without the scope", active, "alice", "", message("m3"), http.StatusForbidden, "Forbidden", ""},
		{"another scope", active, serviceSub, "lifecycle/other openid", message("m3"), http.StatusForbidden, "Forbidden", ""},
		{"no token", active, "", "", message("m3"), http.StatusUnauthorized, "Unauthorized", ""},
		{"not found", "e0000000-0000-4000-8000-0000000000ff", serviceSub, interview.ScopeProgress, message("m3"), http.StatusNotFound, "Interview session not found", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := invoke(t, h, recordRequest(c.id, c.sub, c.scope, c.body, nil).event())
			b := decodeBody(t, resp)
			if resp.StatusCode != c.status || b["error"] != c.error || (c.current != "" && b["currentStatus"] != c.current) {
				t.Errorf("%d %s, want %d %q (current %q)", resp.StatusCode, resp.Body, c.status, c.error, c.current)
			}
		})
	}
}

// TestRecordInteractionBodies: the body's rules, at every depth, and the message's size.
func TestRecordInteractionBodies(t *testing.T) {
	const id = "e0000000-0000-4000-8000-000000000001"
	big := strings.Repeat("x", MaxMessageBytes)
	for _, c := range []struct {
		name, body, details string
	}{
		{"no body", ``, "message is required"},
		{"no message", `{"progress":0.1}`, "message is required"},
		{"a message without an id", `{"message":{"output":"x"}}`, "message.id is required"},
		{"a blank id", `{"message":{"id":" \t"}}`, "message.id is required"},
		{"an unknown field in the message", `{"message":{"id":"m","role":"user"}}`, `unknown field "message.role"`},
		{"a null id", `{"message":{"id":null}}`, "message.id must not be null"},
		{"a message that is a string", `{"message":"hello"}`, "message must be an object"},
		{"a temperature that is text", `{"message":{"id":"m","temperature":"hot"}}`, "message.temperature must be a number"},
		{"a message too large", `{"message":{"id":"m","output":"` + big + `"}}`, "message must be at most 4096 bytes"},
		{"progress out of range", `{"message":{"id":"m"},"progress":1.5,"score":-1}`, "progress must be from 0 to 1 (the fraction of the interview done); score must be from 0 to 100"},
		{"progress as a percentage", `{"message":{"id":"m"},"progress":40}`, "progress must be from 0 to 1"},
		{"a null progress", `{"message":{"id":"m"},"progress":null}`, "progress must not be null"},
		{"a field of the lifecycle's", `{"message":{"id":"m"},"status":"completed"}`, `unknown field "status"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := newMemStore(session(id, "alice", interview.Active))
			before := store.sessions[id]
			logger, _ := newLogger()
			resp := invoke(t, RecordInteraction(logger, defaults, store), recordRequest(id, serviceSub, interview.ScopeProgress, c.body, nil).event())
			details, _ := decodeBody(t, resp)["details"].(string)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(details, c.details) {
				t.Errorf("%d %s, want 400 saying %q", resp.StatusCode, resp.Body, c.details)
			}
			if after := store.sessions[id]; after.Version != before.Version || string(after.RecentMessages) != string(before.RecentMessages) {
				t.Error("a refused body was recorded")
			}
		})
	}
}

// TestCompleteByService (issue 24, part 4): the conversation service may complete the
// session it ran; the owner still may; another user may not.
func TestCompleteByService(t *testing.T) {
	const a, b = "e1000000-0000-4000-8000-000000000001", "e1000000-0000-4000-8000-000000000002"
	store := newMemStore(session(a, "alice", interview.Active), session(b, "alice", interview.Active))
	logger, _ := newLogger()
	h := CompleteInterview(logger, defaults, store)
	resp := invoke(t, h, request{path: "/interviews/" + a + "/complete", routeKey: "POST /interviews/{id}/complete", id: a, sub: serviceSub,
		scope: interview.ScopeProgress, body: `{"score":91}`}.event())
	if body := decodeBody(t, resp); resp.StatusCode != http.StatusOK || body["status"] != "completed" || body["score"] != 91.0 {
		t.Errorf("a service's complete: %d %s", resp.StatusCode, resp.Body)
	}
	resp = invoke(t, h, request{path: "/interviews/" + b + "/complete", routeKey: "POST /interviews/{id}/complete", id: b, sub: "bob"}.event())
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("another user's complete: %d %s", resp.StatusCode, resp.Body)
	}
}
