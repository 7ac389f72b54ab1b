package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/interview"
)

// actionsOf reads a JSON object's allowedActions.
func actionsOf(t *testing.T, v any) []string {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("allowedActions is %v, want an array", v)
	}
	out := []string{}
	for _, a := range list {
		out = append(out, fmt.Sprint(a))
	}
	return out
}

// TestResponsesSayWhatTheCallerMayDoNext (issue 24): every session and job the API returns
// carries allowedActions, from the lifecycle's table, for this caller and this status; a
// transition's answer already says what comes after it.
func TestResponsesSayWhatTheCallerMayDoNext(t *testing.T) {
	const id = "d0000000-0000-4000-8000-000000000001"
	store := newMemStore(session(id, "alice", interview.Active))
	logger, _ := newLogger()
	get := func(sub string) map[string]any {
		ev := request{method: http.MethodGet, path: "/interviews/" + id, routeKey: "GET /interviews/{id}", id: id, sub: sub}.event()
		return decodeBody(t, invoke(t, GetInterview(logger, defaults, store), ev))
	}
	if got := actionsOf(t, get("alice")["allowedActions"]); !slices.Equal(got, []string{"cancel", "pause", "complete"}) {
		t.Errorf("an active session allows its owner %v", got)
	}
	paused := decodeBody(t, invoke(t, PauseInterview(logger, defaults, store),
		request{path: "/interviews/" + id + "/pause", routeKey: "POST /interviews/{id}/pause", id: id, sub: "alice"}.event()))
	if got := actionsOf(t, paused["allowedActions"]); !slices.Equal(got, []string{"cancel", "resume"}) {
		t.Errorf("the pause's answer allows %v", got)
	}
	list := decodeBody(t, invoke(t, ListInterviews(logger, defaults, store),
		request{method: http.MethodGet, path: "/interviews", routeKey: "GET /interviews", sub: "alice"}.event()))
	items, _ := list["items"].([]any)
	if len(items) != 1 || !slices.Equal(actionsOf(t, items[0].(map[string]any)["allowedActions"]), []string{"cancel", "resume"}) {
		t.Errorf("the listing's item: %v", items)
	}

	jobs := demoJobs()
	job := decodeBody(t, invoke(t, GetJob(logger, defaults, jobs),
		request{method: http.MethodGet, path: "/jobs/" + jobAssigned, routeKey: "GET /jobs/{id}", id: jobAssigned, sub: "dana", roles: "[Dispatcher]"}.event()))
	if got := actionsOf(t, job["allowedActions"]); !slices.Equal(got, []string{"cancel", "assign", "reschedule"}) {
		t.Errorf("an assigned job allows a dispatcher %v", got)
	}
}
