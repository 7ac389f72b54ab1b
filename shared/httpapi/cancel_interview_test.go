package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func TestCancelInterviewSuccess(t *testing.T) {
	store := demoStore()
	logger, logs := newLogger()
	resp := invoke(t, CancelInterview(logger, defaults, store), request{
		id: aliceActive, sub: "alice", body: `{"reason":"  Candidate asked to reschedule  "}`,
		headers: map[string]string{"x-correlation-id": "corr-123"},
	}.event())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	body := decodeBody(t, resp)
	for k, want := range map[string]any{"success": true, "message": "Interview cancelled successfully", "sessionId": aliceActive} {
		if body[k] != want {
			t.Errorf("%s = %v, want %v", k, body[k], want)
		}
	}
	sess, _ := body["session"].(map[string]any)
	if sess["status"] != "cancelled" || sess["id"] != aliceActive {
		t.Errorf("session = %v", sess)
	}
	if got := header(resp, "X-Correlation-Id"); got != "corr-123" {
		t.Errorf("X-Correlation-Id = %q, want the caller's", got)
	}
	if header(resp, "Content-Type") != "application/json" {
		t.Errorf("Content-Type = %q", header(resp, "Content-Type"))
	}
	if len(store.calls) != 1 {
		t.Fatalf("store called %d times", len(store.calls))
	}
	call := store.calls[0]
	if call.Reason != "Candidate asked to reschedule" || call.Actor.Sub != "alice" || call.CorrelationID != "corr-123" || call.ID != aliceActive {
		t.Errorf("store request = %+v", call)
	}

	// Every log line carries the correlation and Lambda request ids; the reason is logged.
	lines := logs.lines(t)
	if len(lines) < 2 {
		t.Fatalf("want at least 2 log lines, got %d", len(lines))
	}
	var sawReason bool
	for _, l := range lines {
		if l["correlationId"] != "corr-123" || l["lambdaRequestId"] != "lambda-req-1" {
			t.Errorf("log line without request ids: %v", l)
		}
		if l["reason"] == "Candidate asked to reschedule" {
			sawReason = true
		}
	}
	if !sawReason {
		t.Error("the reason was not logged")
	}
}

// sessionFields are the fields seed 001 lists for the session object, the three a cancel
// records (seed 000: a cancel "with optional reason", which users read back), when it was
// completed, and what the caller may do to it now (issue 24).
var sessionFields = []string{
	"id", "topicIds", "topicLabels", "title", "progress", "score", "targetScore", "createdAt",
	"updatedAt", "lastInteractionAt", "interviewerId", "conversationId", "status", "retryPolicy",
	"labels", "notes", "language", "difficulty", "recentMessages",
	"cancelledAt", "cancelledBy", "cancelReason", "completedAt", "allowedActions",
}

func TestSessionJSONHasExactlyTheDocumentedFields(t *testing.T) {
	full := session(aliceActive, "alice", interview.Active)
	full.TopicLabels, full.Labels = []string{"Go"}, []string{"demo"}
	full.TargetScore = new(80.0)
	full.LastInteractionAt = full.UpdatedAt
	full.RetryPolicy = &interview.RetryPolicy{MinCooldownHours: new(24.0)}
	full.Notes, full.Language, full.Difficulty = "n", "en", 3
	full.CancelledAt, full.CancelledBy, full.CancelReason = full.UpdatedAt, "alice", "moved"
	full.CompletedAt = full.UpdatedAt
	b, _ := json.Marshal(newSessionJSON(full, actorOf("alice")))
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for k := range m {
		if !slices.Contains(sessionFields, k) {
			t.Errorf("field %q is not in seed 001's session object", k)
		}
	}
	if len(m) != len(sessionFields) {
		t.Errorf("fully populated session has %d fields, want %d: %s", len(m), len(sessionFields), b)
	}
	if _, ok := m["ownerId"]; ok {
		t.Error("ownerId leaked")
	}

	minimal := interview.Session{ID: aliceActive, Status: interview.Active}
	b, _ = json.Marshal(newSessionJSON(minimal, actorOf("bob")))
	m = map[string]any{}
	_ = json.Unmarshal(b, &m)
	required := []string{"id", "topicIds", "title", "progress", "score", "createdAt", "updatedAt", "interviewerId", "status", "allowedActions"}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			t.Errorf("required field %q missing from %s", k, b)
		}
	}
	if len(m) != len(required) {
		t.Errorf("empty optional fields were not omitted: %s", b)
	}
	if !strings.Contains(string(b), `"allowedActions":[]`) {
		t.Errorf("a session the caller does not own allows them nothing, as [] (never null): %s", b)
	}
	if string(b) == "" || !strings.Contains(string(b), `"topicIds":[]`) {
		t.Errorf("topicIds must be an empty array, not null: %s", b)
	}
}

func TestCancelInterviewBodies(t *testing.T) {
	long := strings.Repeat("é", MaxReasonLength)
	cases := []struct {
		name, body, contentType string
		status                  int
		details                 string // substring of details, for 400s
		reason                  string // stored reason, for 200s
	}{
		{name: "absent body", body: "", status: 200},
		{name: "whitespace body", body: " \n\t\r ", status: 200},
		{name: "form feed body", body: "\f", status: 400, details: "malformed JSON"},
		{name: "no-break space body", body: "\u00a0", status: 400, details: "malformed JSON"},
		{name: "empty object", body: "{}", status: 200},
		{name: "null reason", body: `{"reason":null}`, status: 200},
		{name: "empty reason", body: `{"reason":""}`, status: 200},
		{name: "reason of 500 characters", body: `{"reason":"` + long + `"}`, status: 200, reason: long},
		{name: "unicode and control characters", body: `{"reason":"naïve \u0007 \"quoted\" <b>x</b> 日本"}`, status: 200, reason: "naïve \a \"quoted\" <b>x</b> 日本"},
		{name: "json with charset", body: `{"reason":"x"}`, contentType: "application/json; charset=utf-8", status: 200, reason: "x"},
		{name: "no content type", body: `{"reason":"x"}`, contentType: "-", status: 200, reason: "x"},
		{name: "reason of 501 characters", body: `{"reason":"` + long + `x"}`, status: 400, details: "at most 500"},
		{name: "number reason", body: `{"reason":5}`, status: 400, details: "reason must be a string"},
		{name: "object reason", body: `{"reason":{"a":1}}`, status: 400, details: "reason must be a string"},
		{name: "malformed", body: `{"reason":`, status: 400, details: "malformed JSON"},
		{name: "array body", body: `["x"]`, status: 400, details: "JSON object"},
		{name: "string body", body: `"x"`, status: 400, details: "JSON object"},
		{name: "unknown field", body: `{"reson":"typo"}`, status: 400, details: `unknown field "reson"`},
		{name: "duplicate field", body: `{"reason":"a","reason":"b"}`, status: 400, details: `duplicate field "reason"`},
		{name: "trailing data", body: `{"reason":"a"} {}`, status: 400, details: "after the JSON object"},
		{name: "text/plain", body: `{"reason":"a"}`, contentType: "text/plain", status: 415},
		{name: "form encoded", body: `reason=a`, contentType: "application/x-www-form-urlencoded", status: 415},
		{name: "too large", body: `{"reason":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, status: 413},
		// Text that is not Unicode is refused, not stored as U+FFFD.
		{name: "not UTF-8", body: "{\"reason\":\"bad \xff\xfe\"}", status: 400, details: "the body must be UTF-8"},
		{name: "not UTF-8 in a key", body: "{\"reason\xc3\":\"x\"}", status: 400, details: "the body must be UTF-8"},
		{name: "a lone high surrogate", body: `{"reason":"\ud800"}`, status: 400, details: "unpaired UTF-16 surrogate"},
		{name: "a lone low surrogate", body: `{"reason":"a\uDC00b"}`, status: 400, details: "unpaired UTF-16 surrogate"},
		{name: "a high surrogate before a letter", body: `{"reason":"\ud800\u0041"}`, status: 400, details: "unpaired UTF-16 surrogate"},
		{name: "a surrogate in a key", body: `{"re\udfffason":"x"}`, status: 400, details: "unpaired UTF-16 surrogate"},
		{name: "a surrogate pair", body: `{"reason":"\ud83d\ude80 \uD83D\uDE80"}`, status: 200, reason: "🚀 🚀"},
		{name: "an escaped backslash before u", body: `{"reason":"\\ud800"}`, status: 200, reason: `\ud800`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := demoStore()
			headers := map[string]string{}
			switch c.contentType {
			case "":
			case "-":
				headers["content-type"] = ""
			default:
				headers["content-type"] = c.contentType
			}
			ev := request{id: aliceActive, sub: "alice", body: c.body, headers: headers}.event()
			if c.contentType == "-" {
				delete(ev.Headers, "content-type")
			}
			logger, _ := newLogger()
			resp := invoke(t, CancelInterview(logger, defaults, store), ev)
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			body := decodeBody(t, resp)
			switch {
			case c.status == 200:
				if len(store.calls) != 1 || store.calls[0].Reason != c.reason {
					t.Fatalf("stored reason = %+v, want %q", store.calls, c.reason)
				}
			case c.status == 400:
				if body["error"] != "Invalid request" || body["code"] != "INVALID_REQUEST" {
					t.Fatalf("body = %v", body)
				}
				if d, _ := body["details"].(string); !strings.Contains(d, c.details) {
					t.Fatalf("details = %q, want it to mention %q", d, c.details)
				}
			default:
				if body["error"] == "" || body["code"] == "" {
					t.Fatalf("body = %v", body)
				}
			}
			if c.status != 200 && len(store.calls) != 0 {
				t.Fatal("the store was called for a rejected request")
			}
		})
	}
}

func TestCancelInterviewIDs(t *testing.T) {
	cases := []struct {
		id     string
		status int
	}{
		{aliceActive, 200},
		{strings.ToUpper(aliceActive), 200},
		{"not-a-uuid", 400},
		{"a11ce000-0000-4000-8000-00000000000", 400},
		{"a11ce000-0000-4000-8000-0000000000011", 400},
		{"a11ce000x0000-4000-8000-000000000001", 400},
		{"g11ce000-0000-4000-8000-000000000001", 400},
		{"../../etc/passwd", 400},
		{"a11ce000-0000-4000-8000-00000000%2F01", 400},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			store := demoStore()
			logger, _ := newLogger()
			resp := invoke(t, CancelInterview(logger, defaults, store), request{id: c.id, sub: "alice", path: "/interviews/" + c.id + "/cancel"}.event())
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			if c.status == 200 && store.calls[0].ID != aliceActive {
				t.Fatalf("id not normalised: %q", store.calls[0].ID)
			}
		})
	}
}

func TestCancelInterviewRoutes(t *testing.T) {
	for _, path := range []string{"/interviews/%s/cancel", "/api/interviews/%s/cancel", "/api/interview/%s/cancel", "/interview/%s/cancel"} {
		p := fmt.Sprintf(path, aliceActive)
		logger, _ := newLogger()
		resp := invoke(t, CancelInterview(logger, defaults, demoStore()), request{id: aliceActive, sub: "alice", path: p}.event())
		if resp.StatusCode != 200 {
			t.Errorf("POST %s = %d: %s", p, resp.StatusCode, resp.Body)
		}
	}
	logger, _ := newLogger()
	resp := invoke(t, CancelInterview(logger, defaults, demoStore()), request{method: "GET", id: aliceActive, sub: "alice"}.event())
	if resp.StatusCode != http.StatusNotFound || header(resp, "Allow") != "" || decodeBody(t, resp)["code"] != "ROUTE_NOT_FOUND" {
		t.Errorf("GET on the cancel route = %d, Allow %q: %s", resp.StatusCode, header(resp, "Allow"), resp.Body)
	}
	resp = invoke(t, CancelInterview(logger, defaults, demoStore()), request{id: aliceActive, sub: "alice", path: "/nope"}.event())
	if resp.StatusCode != http.StatusNotFound || decodeBody(t, resp)["code"] != "ROUTE_NOT_FOUND" {
		t.Errorf("unknown path = %d %s", resp.StatusCode, resp.Body)
	}
}

func TestCancelInterviewFailures(t *testing.T) {
	cases := []struct {
		name       string
		storeErr   error
		panics     bool
		status     int
		error      string
		retryAfter bool
	}{
		{name: "throttled", storeErr: fmt.Errorf("update: %w: %w", lifecycle.ErrUnavailable, errBoom), status: 503, error: "Service Unavailable", retryAfter: true},
		{name: "conflict", storeErr: lifecycle.ErrConflict, status: 409, error: "Conflict"},
		{name: "unexpected", storeErr: errBoom, status: 500, error: "Internal Server Error"},
		{name: "panic", panics: true, status: 500, error: "Internal Server Error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := demoStore()
			store.err, store.panics = c.storeErr, c.panics
			logger, logs := newLogger()
			resp := invoke(t, CancelInterview(logger, defaults, store), request{id: aliceActive, sub: "alice"}.event())
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, c.status)
			}
			body := decodeBody(t, resp)
			if body["error"] != c.error {
				t.Fatalf("error = %v", body["error"])
			}
			if strings.Contains(resp.Body, "secret") || strings.Contains(resp.Body, "arn:") || strings.Contains(resp.Body, "exploded") {
				t.Fatalf("response leaks internals: %s", resp.Body)
			}
			if got := header(resp, "Retry-After") != ""; got != c.retryAfter {
				t.Fatalf("Retry-After present = %v, want %v", got, c.retryAfter)
			}
			var logged bool
			for _, l := range logs.lines(t) {
				if l["level"] == "ERROR" || l["level"] == "WARN" {
					logged = true
				}
			}
			if !logged {
				t.Fatal("failure was not logged")
			}
		})
	}
}

func TestCancelInterviewAuth(t *testing.T) {
	cases := []struct {
		name   string
		sub    string
		id     string
		status int
	}{
		{"no claims", "", aliceActive, 401},
		// sub is compared exactly as issued: a padded or blank one is another subject.
		{"blank sub", " ", aliceActive, 403},
		{"padded owner's sub", " alice", aliceActive, 403},
		{"other owner", "bob", aliceActive, 403},
		{"other owner of a completed session", "bob", aliceCompleted, 403},
		{"owner", "alice", alicePaused, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logger, _ := newLogger()
			resp := invoke(t, CancelInterview(logger, defaults, demoStore()), request{id: c.id, sub: c.sub}.event())
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			if c.status == 401 && header(resp, "WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate: %v", resp.Headers)
			}
		})
	}
}

// TestRequestAndCorrelationIDs: the requestId of error bodies and logs is always API
// Gateway's request id; the caller's X-Correlation-Id, when sane, is kept beside it
// (echoed, logged, and carried to the store), else the request id stands in for it.
func TestRequestAndCorrelationIDs(t *testing.T) {
	cases := []struct{ header, wantCorrelation string }{
		{"abc-123", "abc-123"},
		{"", "apigw-req-1"},
		{"bad value\nwith newline", "apigw-req-1"},
		{strings.Repeat("a", 129), "apigw-req-1"},
		// API Gateway's event carries "abc,def" as one value; it must not be read as "abc".
		{"abc,def", "apigw-req-1"},
	}
	for _, c := range cases {
		logger, logs := newLogger()
		h := map[string]string{}
		if c.header != "" {
			h["x-correlation-id"] = c.header
		}
		store := demoStore()
		resp := invoke(t, CancelInterview(logger, defaults, store), request{id: alicePaused, sub: "bob", headers: h}.event())
		if got := header(resp, "X-Correlation-Id"); got != c.wantCorrelation {
			t.Errorf("header %q: X-Correlation-Id = %q, want %q", c.header, got, c.wantCorrelation)
		}
		if got := decodeBody(t, resp)["requestId"]; got != "apigw-req-1" {
			t.Errorf("header %q: requestId in body = %v, want API Gateway's request id", c.header, got)
		}
		for _, l := range logs.lines(t) {
			if l["requestId"] != "apigw-req-1" || l["correlationId"] != c.wantCorrelation {
				t.Errorf("header %q: log line %v has requestId %v, correlationId %v", c.header, l["msg"], l["requestId"], l["correlationId"])
			}
		}
		if len(store.calls) != 1 || store.calls[0].CorrelationID != c.wantCorrelation {
			t.Errorf("header %q: the store was given correlation ids %+v", c.header, store.calls)
		}
	}
}
