//go:build lifecycle_extra_transition

package mechanism

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// TestTheExtraTransitionIsServed runs in the build with interview.Hold added to the
// declaration (shared/interview/extra_transition.go) and nothing else: the local stack
// (the real handlers behind the gateway stand-in, moto, the stream's publisher, the bus)
// serves it on its routes, refuses it as its row says, offers it in allowedActions, and
// announces it with its row's event.
func TestTheExtraTransitionIsServed(t *testing.T) {
	prereq.Need(t, prereq.Moto)
	key := []byte("mechanism-signing-key-0123456789abcdef")
	st, err := stack.Start(context.Background(), stack.Options{
		Table: "mechanism", AuditTable: "mechanism-audit", LogDir: filepath.Join(t.TempDir(), "logs"),
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Verify: func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(st.Handler)
	defer srv.Close()
	token := func(sub string) string {
		tok, err := devauth.Mint(key, sub, nil, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	do := func(method, path, tok, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	alice := token("alice")
	status, made := do("POST", "/interviews", alice, `{"title":"Held","topicIds":[],"interviewerId":"interviewer-aria"}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, made)
	}
	id := made["id"].(string)
	if !slices.Contains(actions(made), interview.Hold.Action) {
		t.Errorf("a new session's allowedActions %v do not offer hold", made["allowedActions"])
	}
	if status, body := do("POST", "/interviews/"+id+"/hold", token("bob"), ""); status != http.StatusForbidden {
		t.Errorf("bob holds alice's session: %d %v", status, body)
	}
	status, held := do("POST", "/api/interviews/"+id+"/hold", alice, "")
	if status != http.StatusOK || held["status"] != "paused" || slices.Contains(actions(held), interview.Hold.Action) {
		t.Fatalf("hold: %d %v", status, held)
	}
	status, again := do("POST", "/interviews/"+id+"/hold", alice, "")
	if status != http.StatusBadRequest || again["error"] != interview.Hold.Refusals.Default || again["currentStatus"] != "paused" {
		t.Errorf("hold again: %d %v, want the row's refusal", status, again)
	}
	if status, body := do("POST", "/interviews/00000000-0000-4000-8000-000000000000/hold", alice, ""); status != http.StatusNotFound ||
		body["error"] != interview.Hold.Refusals.NotFound {
		t.Errorf("hold a missing session: %d %v", status, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, e := range st.Feed.Events() {
			var d event.Interview
			if e.DetailType == interview.Hold.Event && json.Unmarshal(e.Detail, &d) == nil && d.SessionID == id && d.Status == "paused" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event for the held session in %v", interview.Hold.Event, st.Feed.Events())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func actions(session map[string]any) []string {
	var out []string
	list, _ := session["allowedActions"].([]any)
	for _, a := range list {
		s, _ := a.(string)
		out = append(out, s)
	}
	return out
}
