package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/config"
)

// TestReasonLogging: seed 000 logs the cancel reason when one is given, which stays the
// default; with LogReasons off (the LogCancelReasons parameter) a function logs only the
// reason's length, and the text appears in no log line, while the store still gets it.
func TestReasonLogging(t *testing.T) {
	const reason = "Candidate moved to Zürich"
	body := `{"reason":"` + reason + `"}`
	for _, c := range []struct {
		fn    string
		build func(l *slog.Logger, s config.HTTP, store *memStore) http.Handler
		req   request
	}{
		{FnCancelInterview, func(l *slog.Logger, s config.HTTP, store *memStore) http.Handler { return CancelInterview(l, s, store) }, request{id: aliceActive, sub: "alice", body: body}},
		{FnCancelJob, func(l *slog.Logger, s config.HTTP, _ *memStore) http.Handler { return CancelJob(l, s, demoJobs()) }, jobRequest(jobAssigned, "dana", "[Dispatcher]", body)},
	} {
		for _, logReasons := range []bool{true, false} {
			logger, logs := newLogger()
			settings := defaults
			settings.LogReasons = logReasons
			store := demoStore()
			resp := invoke(t, c.build(logger, settings, store), c.req.event())
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d: %s", c.fn, resp.StatusCode, resp.Body)
			}
			var logged, length any
			for _, l := range logs.lines(t) {
				if v, ok := l["reason"]; ok {
					logged = v
				}
				if v, ok := l["reasonLength"]; ok {
					length = v
				}
			}
			raw := logs.String()
			switch {
			case logReasons && logged != reason:
				t.Errorf("%s, LogReasons on: reason logged as %v, want %q", c.fn, logged, reason)
			case !logReasons && (logged != nil || strings.Contains(raw, "Zürich")):
				t.Errorf("%s, LogReasons off: the reason's text reached the log: %s", c.fn, raw)
			case !logReasons && length != float64(len([]rune(reason))):
				t.Errorf("%s, LogReasons off: reasonLength = %v, want %d", c.fn, length, len([]rune(reason)))
			}
			if c.fn == FnCancelInterview && (len(store.calls) != 1 || store.calls[0].Reason != reason) {
				t.Errorf("%s: the store did not get the reason: %+v", c.fn, store.calls)
			}
		}
	}
}
