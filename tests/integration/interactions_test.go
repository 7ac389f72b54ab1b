package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
)

// serviceToken is the conversation service's token: a client-credentials token with the
// progress scope.
func (s *stack) serviceToken(t *testing.T, scopes ...string) string {
	t.Helper()
	tok, err := devauth.MintService(s.key, "conversation-service", scopes, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// answer is a recorded answer: progress percent done (the body says it as a fraction), and
// half of it as the score.
func answer(id string, progress int) string {
	return fmt.Sprintf(`{"message":{"id":%q,"conversationId":"conv-1","status":"completed","output":{"text":"answer %s"}},"progress":%g,"score":%d}`,
		id, id, float64(progress)/100, progress/2)
}

// TestRecordInteractionsThroughTheAPI (issue 24, part 3): the conversation service records
// answers through the API, on moto, behind the local gateway: only with the scope, only
// while the session is active. Answers racing a pause either land before it or are refused
// with its status: none lands after it, and none that was answered 200 is lost. A retry of
// an answer that landed is a replay, even after the pause. Every recorded answer is one
// InterviewProgressRecorded event; the service then completes the session.
func TestRecordInteractionsThroughTheAPI(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	_ = p.received(t, "AuditQueue")
	eve := s.token(t, "eve")
	svc := s.serviceToken(t, interview.ScopeProgress)
	made := s.do(t, "POST", "/interviews", eve, `{"title":"System design","topicIds":["queues"],"interviewerId":"interviewer-aria"}`)
	if made.status != http.StatusCreated {
		t.Fatalf("create: %d %s", made.status, made.raw)
	}
	id, _ := made.body["id"].(string)
	path := "/interviews/" + id + "/interactions"

	// The gateway asks for the scope: the owner's token, and a token with another scope, are
	// its own 403, before the function.
	for name, tok := range map[string]string{"the owner": eve, "another scope": s.serviceToken(t, "lifecycle/other")} {
		if r := s.do(t, "POST", path, tok, answer("m0", 5)); r.status != http.StatusForbidden || r.body["message"] != "Forbidden" {
			t.Errorf("%s records: %d %s, want the gateway's 403", name, r.status, r.raw)
		}
	}

	first := s.do(t, "POST", path, svc, answer("m1", 10), "Idempotency-Key", "answer-m1", "X-Correlation-Id", "record-1")
	if first.status != http.StatusOK || first.body["progress"] != 0.1 || first.body["score"] != 5.0 || first.body["lastInteractionAt"] == nil || first.header.Get("ETag") != `"2"` {
		t.Fatalf("record m1: %d %v %s", first.status, first.header, first.raw)
	}
	if r := s.do(t, "POST", path, svc, answer("m2", 20)); r.status != http.StatusOK {
		t.Fatalf("record m2: %d %s", r.status, r.raw)
	}

	// Fifteen answers racing the owner's pause.
	var (
		wg      sync.WaitGroup
		answers = make([]response, 15)
		pause   response
	)
	for i := range answers {
		wg.Go(func() { answers[i] = s.do(t, "POST", path, svc, answer(fmt.Sprintf("r%d", i), 30+i)) })
	}
	wg.Go(func() { pause = s.do(t, "POST", "/interviews/"+id+"/pause", eve, "") })
	wg.Wait()
	if pause.status != http.StatusOK {
		t.Fatalf("the pause: %d %s", pause.status, pause.raw)
	}
	pausedAt, _ := strconv.Atoi(strings.Trim(pause.header.Get("ETag"), `"`))
	landed := []string{"m1", "m2"}
	for i, r := range answers {
		switch r.status {
		case http.StatusOK:
			v, _ := strconv.Atoi(strings.Trim(r.header.Get("ETag"), `"`))
			if v >= pausedAt {
				t.Errorf("answer r%d landed at version %d, after the pause at %d", i, v, pausedAt)
			}
			landed = append(landed, fmt.Sprintf("r%d", i))
		case http.StatusBadRequest:
			if r.body["currentStatus"] != "paused" || r.body["code"] != "INVALID_TRANSITION" {
				t.Errorf("answer r%d refused with %s", i, r.raw)
			}
		case http.StatusConflict:
			// Lost every race for the session: not written, and the service may retry.
		default:
			t.Errorf("answer r%d: %d %s", i, r.status, r.raw)
		}
	}
	got := s.do(t, "GET", "/interviews/"+id, eve, "")
	var ids []string
	for _, m := range got.body["recentMessages"].([]any) {
		ids = append(ids, m.(map[string]any)["id"].(string))
	}
	slices.Sort(ids)
	slices.Sort(landed)
	if !slices.Equal(ids, landed) || got.body["status"] != "paused" {
		t.Errorf("the history holds %v, want exactly the answers that were accepted %v (status %v)", ids, landed, got.body["status"])
	}

	// After the pause: a new answer is refused; a retry of one that landed is its replay.
	if r := s.do(t, "POST", path, svc, answer("late", 90)); r.status != http.StatusBadRequest || r.body["currentStatus"] != "paused" ||
		r.body["error"] != "Interview is paused; resume it to record answers" {
		t.Errorf("an answer to a paused session: %d %s", r.status, r.raw)
	}
	if r := s.do(t, "POST", path, svc, answer("m1", 10), "Idempotency-Key", "answer-m1"); r.status != http.StatusOK || r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("a retry of m1 after the pause: %d %v %s", r.status, r.header, r.raw)
	}
	if r := s.do(t, "POST", "/interviews/"+id+"/complete", svc, `{"score":80}`); r.status != http.StatusBadRequest || r.body["currentStatus"] != "paused" {
		t.Errorf("the service completes a paused session: %d %s", r.status, r.raw)
	}
	if r := s.do(t, "POST", "/interviews/"+id+"/resume", eve, ""); r.status != http.StatusOK {
		t.Fatalf("resume: %d %s", r.status, r.raw)
	}
	done := s.do(t, "POST", "/interviews/"+id+"/complete", svc, `{"score":80}`)
	if done.status != http.StatusOK || done.body["status"] != "completed" || done.body["score"] != 80.0 {
		t.Fatalf("the service completes the session: %d %s", done.status, done.raw)
	}
	if r := s.do(t, "POST", path, svc, answer("after", 100)); r.status != http.StatusBadRequest || r.body["currentStatus"] != "completed" {
		t.Errorf("an answer to a completed session: %d %s", r.status, r.raw)
	}

	p.drain(t)
	var recorded []string
	for _, e := range p.received(t, "AuditQueue") {
		if e.DetailType != event.TypeInterviewProgressRecorded {
			continue
		}
		var d event.Interview
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.SessionID != id || d.Progress == nil || d.Score == nil || d.Status != "active" || d.PreviousStatus != "active" ||
			d.Actor.Sub != "conversation-service" || d.Version >= int64(pausedAt) {
			t.Errorf("InterviewProgressRecorded %+v", d)
		}
		if d.MessageID == "m1" && d.CorrelationID != "record-1" {
			t.Errorf("m1's event has correlation id %q", d.CorrelationID)
		}
		recorded = append(recorded, d.MessageID)
	}
	slices.Sort(recorded)
	if !slices.Equal(recorded, landed) {
		t.Errorf("progress events for %v, want one per accepted answer %v", recorded, landed)
	}
}
