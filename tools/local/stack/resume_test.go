package stack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// TestAPauseUntilATimeResumesOnTheStack: the stack as `make run` serves it (stream poller,
// plan-resume on its rule, the schedule in moto, its firing, the live channel all running
// by themselves), with a lead of a second: a pause until a time is resumed at that time,
// and the owner's open WebSocket hears the pause and then the resume by the scheduler.
func TestAPauseUntilATimeResumesOnTheStack(t *testing.T) {
	prereq.Need(t, prereq.Moto)
	ctx := context.Background()
	st, err := Start(ctx, Options{
		Table: "resumes", AuditTable: "resumes-audit", LogDir: filepath.Join(t.TempDir(), "logs"),
		Logger:        slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Verify:        func(tok string) (map[string]string, error) { return devauth.Verify(testKey, tok, time.Now()) },
		ResumeMinLead: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(st.Handler)
	defer srv.Close()
	token, err := devauth.Mint(testKey, "alice", nil, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	code, tk := call(http.MethodPost, "/api/live/tickets", "")
	if code != http.StatusCreated {
		t.Fatalf("ticket: %d %v", code, tk)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(wctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/live",
		&websocket.DialOptions{Subprotocols: []string{live.Subprotocol, live.TicketProtocolPrefix + tk["ticket"].(string)}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()

	resumeAt := time.Now().Add(2 * time.Second).UTC().Truncate(time.Millisecond)
	if code, m := call(http.MethodPost, "/interviews/"+demodata.AliceActive+"/pause", `{"resumeAt":"`+lifecycle.FormatTime(resumeAt)+`"}`); code != http.StatusOK || m["resumeAt"] == nil {
		t.Fatalf("pause until %s = %d %v", resumeAt, code, m)
	}
	var got []live.Message
	for len(got) < 2 {
		_, data, err := conn.Read(wctx)
		if err != nil {
			t.Fatalf("after %d messages (%+v): %v", len(got), got, err)
		}
		var m live.Message
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	var detail struct {
		Actor      struct{ Sub string } `json:"actor"`
		OccurredAt time.Time            `json:"occurredAt"`
	}
	_ = json.Unmarshal(got[1].Detail, &detail)
	if got[0].Type != event.TypeInterviewPaused || got[1].Type != event.TypeInterviewResumed || detail.Actor.Sub != "scheduler" {
		t.Fatalf("the owner heard %+v, want the pause then the scheduler's resume", got)
	}
	if detail.OccurredAt.Before(resumeAt) {
		t.Errorf("resumed at %s, before %s", detail.OccurredAt, resumeAt)
	}
	if code, m := call(http.MethodGet, "/interviews/"+demodata.AliceActive, ""); code != http.StatusOK || m["status"] != "active" || m["resumeAt"] != nil {
		t.Errorf("after the timer: %d %v, want active without resumeAt", code, m)
	}
}
