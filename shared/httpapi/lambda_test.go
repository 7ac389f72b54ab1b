package httpapi

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestLambdaAnswersEventsTheAdapterCannotRead: a path with a bad percent escape or an
// encoded control character is the client's mistake: 400, not a failed invocation.
func TestLambdaAnswersEventsTheAdapterCannotRead(t *testing.T) {
	h := CancelInterview(slog.New(slog.NewJSONHandler(io.Discard, nil)), defaults, demoStore())
	for _, path := range []string{"/interviews/%zz/cancel", "/interviews/a\nb/cancel", "/interviews/%/cancel"} {
		ev := request{id: "x", sub: "alice", path: path}.event()
		resp, err := Lambda(slog.New(slog.NewJSONHandler(io.Discard, nil)), h)(context.Background(), ev)
		if err != nil {
			t.Fatalf("%q: the invocation failed: %v", path, err)
		}
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, `"error":"Invalid request"`) || header(resp, "X-Correlation-Id") != "apigw-req-1" {
			t.Errorf("%q: %d %v %s", path, resp.StatusCode, resp.Headers, resp.Body)
		}
	}
}
