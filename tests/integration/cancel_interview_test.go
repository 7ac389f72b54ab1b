package integration

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
)

func TestCancelInterviewContract(t *testing.T) {
	s := newStack(t)
	alice, bob := s.token(t, "alice"), s.token(t, "bob")
	expired, _ := devauth.Mint(s.key, "alice", nil, time.Minute, time.Now().Add(-time.Hour))
	forged, _ := devauth.Mint([]byte("not-the-dev-key-0123456789abcdef"), "alice", nil, time.Hour, time.Now())

	cases := []struct {
		name, path, token, body string
		status                  int
		want                    map[string]any
	}{
		{"cancel active with reason", "/interviews/" + demodata.AliceActive + "/cancel", alice, `{"reason":"Candidate asked to reschedule"}`, 200,
			map[string]any{"success": true, "message": "Interview cancelled successfully", "sessionId": demodata.AliceActive}},
		{"cancel paused, seed path, no body", "/api/interview/" + demodata.AlicePaused + "/cancel", alice, "", 200,
			map[string]any{"success": true, "sessionId": demodata.AlicePaused}},
		{"cancel via /api/interviews", "/api/interviews/" + demodata.BobActive + "/cancel", bob, "{}", 200,
			map[string]any{"success": true, "sessionId": demodata.BobActive}},
		{"already cancelled", "/interviews/" + demodata.AliceCancelled + "/cancel", alice, "", 400,
			map[string]any{"error": "Interview is already cancelled", "code": "INVALID_TRANSITION", "currentStatus": "cancelled"}},
		{"completed", "/interviews/" + demodata.AliceCompleted + "/cancel", alice, `{"reason":"late"}`, 400,
			map[string]any{"error": "Cannot cancel a completed interview", "code": "INVALID_TRANSITION", "currentStatus": "completed"}},
		{"not found", "/interviews/" + demodata.MissingSession + "/cancel", alice, "", 404,
			map[string]any{"error": "Interview session not found", "code": "NOT_FOUND"}},
		{"another owner's session", "/interviews/" + demodata.BobPaused + "/cancel", alice, "", 403,
			map[string]any{"error": "Forbidden"}},
		{"another owner's completed session", "/interviews/" + demodata.BobCompleted + "/cancel", alice, "", 403,
			map[string]any{"error": "Forbidden"}},
		{"non-UUID id", "/interviews/123/cancel", alice, "", 400,
			map[string]any{"error": "Invalid request", "details": "id must be a UUID"}},
		{"malformed JSON", "/interviews/" + demodata.AliceActive2 + "/cancel", alice, `{"reason"`, 400,
			map[string]any{"error": "Invalid request", "details": "malformed JSON"}},
		{"non-string reason", "/interviews/" + demodata.AliceActive2 + "/cancel", alice, `{"reason":["a"]}`, 400,
			map[string]any{"error": "Invalid request", "details": "reason must be a string"}},
		{"reason over 500 characters", "/interviews/" + demodata.AliceActive2 + "/cancel", alice, `{"reason":"` + strings.Repeat("x", 501) + `"}`, 400,
			map[string]any{"error": "Invalid request", "details": "reason must be at most 500 characters"}},
		{"body over 16 KiB", "/interviews/" + demodata.AliceActive2 + "/cancel", alice, `{"reason":"` + strings.Repeat("x", 17<<10) + `"}`, 413,
			map[string]any{"error": "Request body too large", "code": "PAYLOAD_TOO_LARGE"}},
		{"no token", "/interviews/" + demodata.AliceActive2 + "/cancel", "", "", 401, map[string]any{"error": "Unauthorized"}},
		{"expired token", "/interviews/" + demodata.AliceActive2 + "/cancel", expired, "", 401, map[string]any{"error": "Unauthorized"}},
		{"forged token", "/interviews/" + demodata.AliceActive2 + "/cancel", forged, "", 401, map[string]any{"error": "Unauthorized"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, c.path, c.token, c.body)
			if r.status != c.status {
				t.Fatalf("status = %d, want %d: %s", r.status, c.status, r.raw)
			}
			for k, v := range c.want {
				if r.body[k] != v {
					t.Errorf("%s = %v, want %v (body %s)", k, r.body[k], v, r.raw)
				}
			}
			if r.header.Get("X-Correlation-Id") == "" {
				t.Error("no X-Correlation-Id in the response")
			}
		})
	}
	// The rejected requests left AliceActive2 untouched.
	if it := s.session(t, demodata.AliceActive2); str(it, "status") != "active" || str(it, "version") != "1" {
		t.Errorf("a rejected request changed the session: status %s version %s", str(it, "status"), str(it, "version"))
	}
}

func TestCancelInterviewStoresTheTransition(t *testing.T) {
	s := newStack(t)
	before := s.session(t, demodata.AliceActive)
	r := s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/cancel", s.token(t, "alice"),
		`{"reason":"Candidate asked to reschedule"}`, "X-Correlation-Id", "corr-it-1")
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	if r.header.Get("X-Correlation-Id") != "corr-it-1" {
		t.Errorf("correlation id not echoed: %q", r.header.Get("X-Correlation-Id"))
	}
	it := s.session(t, demodata.AliceActive)
	want := map[string]string{
		"status": "cancelled", "previousStatus": "active", "version": "2", "cancelledBy": "alice",
		"cancelReason": "Candidate asked to reschedule", "ownerStatus": "alice#cancelled",
		"correlationId": "corr-it-1", "lastAction": "cancel",
	}
	for k, v := range want {
		if got := str(it, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if str(it, "cancelledAt") == "" || str(it, "cancelledAt") != str(it, "updatedAt") {
		t.Errorf("cancelledAt %q, updatedAt %q", str(it, "cancelledAt"), str(it, "updatedAt"))
	}
	if str(it, "recentMessages") != str(before, "recentMessages") || str(it, "conversationId") != str(before, "conversationId") {
		t.Error("the conversation history changed")
	}
	// The response's session is the stored one.
	sess := r.body["session"].(map[string]any)
	if sess["status"] != "cancelled" || sess["updatedAt"] != str(it, "updatedAt") {
		t.Errorf("response session %v does not match the stored item", sess)
	}
}

func TestConcurrentCancelsOfOneSession(t *testing.T) {
	s := newStack(t)
	tok := s.token(t, "alice")
	const n = 50
	var wg sync.WaitGroup
	results := make([]response, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = s.doAsAClient(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/cancel", tok, `{"reason":"race `+strconv.Itoa(i)+`"}`)
		}()
	}
	close(start)
	wg.Wait()
	var ok, already int
	var winner string
	for i, r := range results {
		switch {
		case r.status == 200:
			ok++
			winner = "race " + strconv.Itoa(i)
		case r.status == 400 && r.body["error"] == "Interview is already cancelled":
			already++
		default:
			t.Errorf("unexpected response %d: %s", r.status, r.raw)
		}
	}
	if ok != 1 || already != n-1 {
		t.Fatalf("%d successes and %d 'already cancelled', want 1 and %d", ok, already, n-1)
	}
	it := s.session(t, demodata.AliceActive)
	if str(it, "version") != "2" || str(it, "status") != "cancelled" || str(it, "cancelReason") != winner {
		t.Fatalf("stored version %s status %s reason %q; want 2, cancelled, %q", str(it, "version"), str(it, "status"), str(it, "cancelReason"), winner)
	}
}

func TestDynamoDBOutageIs503(t *testing.T) {
	cfg, err := config.AWS()
	if err != nil {
		t.Fatal(err)
	}
	dead := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:1") })
	s := newStack(t, withDB(dead))
	r := s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/cancel", s.token(t, "alice"), "")
	if r.status != http.StatusServiceUnavailable || r.body["error"] != "Service Unavailable" {
		t.Fatalf("status %d body %s", r.status, r.raw)
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if strings.Contains(r.raw, "127.0.0.1") || strings.Contains(r.raw, "dial") {
		t.Errorf("503 leaks internals: %s", r.raw)
	}
}

func TestCorruptItemIs500WithoutDetails(t *testing.T) {
	s := newStack(t)
	id := "c0221970-0000-4000-8000-000000000001"
	_, err := s.db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "INTERVIEW#" + id}, "sk": &types.AttributeValueMemberS{Value: "INTERVIEW"},
			"id": &types.AttributeValueMemberS{Value: id}, "ownerId": &types.AttributeValueMemberS{Value: "alice"},
			"status": &types.AttributeValueMemberN{Value: "7"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := s.do(t, http.MethodPost, "/interviews/"+id+"/cancel", s.token(t, "alice"), "")
	if r.status != 500 || r.body["error"] != "Internal Server Error" {
		t.Fatalf("status %d body %s", r.status, r.raw)
	}
	if strings.Contains(r.raw, "attribute") || strings.Contains(r.raw, "decode") {
		t.Errorf("500 leaks internals: %s", r.raw)
	}
}
