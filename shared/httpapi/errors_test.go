package httpapi

import (
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRefusalsAreKeyedByFunction: the refusal table is keyed by function name, so a key
// that is not a function of the route table would never be used.
func TestRefusalsAreKeyedByFunction(t *testing.T) {
	functions := map[string]bool{}
	for _, r := range Routes() {
		functions[r.Function] = true
	}
	for fn := range refusals {
		if !functions[fn] {
			t.Errorf("refusals[%q]: no route is served by that function", fn)
		}
	}
}

// linesWithMsg returns the log lines whose message is msg.
func linesWithMsg(t *testing.T, logs *logBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range logs.lines(t) {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// TestRefusalIsLoggedOnceWithTheHandlersFields: the error a handler returns is logged
// exactly once, by the wrapper, with the request-wide fields and the ones the handler
// added (the entity and the caller); the access line keeps only the request-wide ones.
func TestRefusalIsLoggedOnceWithTheHandlersFields(t *testing.T) {
	cases := []struct {
		name      string
		h         func(*slog.Logger) http.Handler
		ev        request
		entityKey string
		entity    string
		code      string
		level     string
	}{
		{
			name:      "interview transition refused",
			h:         func(l *slog.Logger) http.Handler { return CancelInterview(l, defaults, demoStore()) },
			ev:        request{id: aliceCompleted, sub: "alice"},
			entityKey: "sessionId", entity: aliceCompleted, code: codeInvalidTransition, level: "WARN",
		},
		{
			name: "interview read failed",
			h: func(l *slog.Logger) http.Handler {
				s := demoStore()
				s.err = errBoom
				return GetInterview(l, defaults, s)
			},
			ev:        request{method: "GET", id: aliceActive, sub: "alice", path: "/interviews/" + aliceActive, routeKey: "GET /interviews/{id}"},
			entityKey: "sessionId", entity: aliceActive, code: codeInternal, level: "ERROR",
		},
		{
			name:      "job cancel refused",
			h:         func(l *slog.Logger) http.Handler { return CancelJob(l, defaults, demoJobs()) },
			ev:        jobRequest(jobCompleted, "dana", "[Dispatcher]", ""),
			entityKey: "jobId", entity: jobCompleted, code: codeInvalidTransition, level: "WARN",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logger, logs := newLogger()
			invoke(t, c.h(logger), c.ev.event())
			var failures []map[string]any
			for _, l := range logs.lines(t) {
				if l["level"] == "WARN" || l["level"] == "ERROR" {
					failures = append(failures, l)
				}
			}
			if len(failures) != 1 {
				t.Fatalf("the error was logged %d times: %v", len(failures), failures)
			}
			l := failures[0]
			if l["level"] != c.level || l["code"] != c.code || l[c.entityKey] != c.entity || l["sub"] != c.ev.sub {
				t.Errorf("error line %v, want level %s code %s %s %s sub %s", l, c.level, c.code, c.entityKey, c.entity, c.ev.sub)
			}
			if l["correlationId"] != "apigw-req-1" || l["lambdaRequestId"] != "lambda-req-1" {
				t.Errorf("error line without the request ids: %v", l)
			}
			access := linesWithMsg(t, logs, "request")
			if len(access) != 1 || access[0]["outcome"] != c.code {
				t.Fatalf("access lines %v", access)
			}
			if _, ok := access[0][c.entityKey]; ok {
				t.Errorf("the access line gained %s: %v", c.entityKey, access[0])
			}
		})
	}
}

// TestErrorBodiesOutsideHandlers: the answers no handler returns (no route, wrong method,
// a panic, an event the adapter cannot read, a handler that writes nothing) come from the
// same error table, with the exact bodies and headers they have always had.
func TestErrorBodiesOutsideHandlers(t *testing.T) {
	silent := slog.New(slog.DiscardHandler)
	panicking := demoStore()
	panicking.panics = true
	cases := []struct {
		name    string
		h       http.Handler
		ev      request
		status  int
		body    string
		headers map[string]string
	}{
		{
			name: "no route", h: CancelInterview(silent, defaults, demoStore()),
			ev:     request{id: aliceActive, sub: "alice", path: "/nope"},
			status: 404, body: `{"error":"Not Found","code":"ROUTE_NOT_FOUND"}`,
		},
		{
			name: "wrong method", h: CancelInterview(silent, defaults, demoStore()),
			ev:     request{method: "GET", id: aliceActive, sub: "alice"},
			status: 404, body: `{"error":"Not Found","code":"ROUTE_NOT_FOUND"}`,
		},
		{
			name: "panic", h: CancelInterview(silent, defaults, panicking),
			ev:     request{id: aliceActive, sub: "alice"},
			status: 500, body: `{"error":"Internal Server Error","code":"INTERNAL","requestId":"apigw-req-1"}`,
		},
		{
			name: "unreadable event", h: CancelInterview(silent, defaults, demoStore()),
			ev:     request{id: "x", sub: "alice", path: "/interviews/%zz/cancel"},
			status: 400, body: `{"error":"Invalid request","code":"INVALID_REQUEST","details":"the request path or method could not be read","requestId":"apigw-req-1"}`,
		},
		{
			name: "handler that writes nothing", h: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
			ev:     request{id: aliceActive, sub: "alice"},
			status: 500, body: `{"error":"Internal Server Error","code":"INTERNAL","requestId":"apigw-req-1"}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := invokeUnchecked(t, c.h, c.ev.event())
			if resp.StatusCode != c.status || resp.Body != c.body {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, resp.Body, c.status, c.body)
			}
			want := map[string]string{
				"Content-Type": "application/json", "Cache-Control": "no-store",
				"X-Content-Type-Options": "nosniff", "X-Correlation-Id": "apigw-req-1",
			}
			maps.Copy(want, c.headers)
			if !maps.Equal(resp.Headers, want) {
				t.Errorf("headers %v, want %v", resp.Headers, want)
			}
		})
	}
}

// TestUnencodableResponseIsTheTablesInternalError: should a response fail to marshal,
// encode answers with the error table's 500 body.
func TestUnencodableResponseIsTheTablesInternalError(t *testing.T) {
	w := httptest.NewRecorder()
	encode(w, http.StatusOK, map[string]any{"bad": func() {}})
	if w.Code != http.StatusInternalServerError || w.Body.String() != `{"error":"Internal Server Error","code":"INTERNAL"}` {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
}
