package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/interview"
)

// handlerFor returns the function's handler from Handlers, on fresh stores holding the
// demo ids.
func handlerFor(fn string, logger *slog.Logger) (http.Handler, bool) {
	h, ok := Handlers(logger, defaults, Stores{Interviews: eventStore(), Jobs: demoJobs(), Tickets: &memTickets{}})[fn]
	return h, ok
}

// sampleEventErrors is every file in events/: its expected status is in its name, and
// this is the "error" text its response must carry ("" for successes).
var sampleEventErrors = map[string]string{
	"create-interview/201-created.json":        "",
	"create-interview/201-minimal.json":        "",
	"create-interview/400-invalid-fields.json": "Invalid request",
	"create-interview/400-unknown-field.json":  "Invalid request",
	"create-interview/401-no-claims.json":      "Unauthorized",

	"cancel-interview/200-cancelled.json":                       "",
	"cancel-interview/200-cancelled-from-paused-seed-path.json": "",
	"cancel-interview/400-already-cancelled.json":               "Interview is already cancelled",
	"cancel-interview/400-completed.json":                       "Cannot cancel a completed interview",
	"cancel-interview/400-bad-id.json":                          "Invalid request",
	"cancel-interview/400-malformed-body.json":                  "Invalid request",
	"cancel-interview/401-no-claims.json":                       "Unauthorized",
	"cancel-interview/403-forbidden.json":                       "Forbidden",
	"cancel-interview/404-not-found.json":                       "Interview session not found",

	"complete-interview/200-completed.json":         "",
	"complete-interview/400-paused.json":            "Cannot complete a paused interview; resume it first",
	"complete-interview/400-already-completed.json": "Interview is already completed",
	"complete-interview/400-cancelled.json":         "Cannot complete a cancelled interview",
	"complete-interview/400-bad-score.json":         "Invalid request",
	"complete-interview/401-no-claims.json":         "Unauthorized",
	"complete-interview/403-forbidden.json":         "Forbidden",
	"complete-interview/404-not-found.json":         "Interview session not found",

	"record-interaction/200-recorded.json":           "",
	"record-interaction/400-paused.json":             "Interview is paused; resume it to record answers",
	"record-interaction/400-completed.json":          "Interview is already completed",
	"record-interaction/400-no-message.json":         "Invalid request",
	"record-interaction/401-no-claims.json":          "Unauthorized",
	"record-interaction/403-user-without-scope.json": "Forbidden",
	"record-interaction/404-not-found.json":          "Interview session not found",

	"pause-interview/200-paused.json":         "",
	"pause-interview/404-not-active.json":     "Failed to pause interview",
	"pause-interview/404-not-found.json":      "Failed to pause interview",
	"pause-interview/403-forbidden.json":      "Forbidden",
	"pause-interview/400-bad-id.json":         "Invalid request",
	"pause-interview/400-malformed-body.json": "Invalid request",
	"pause-interview/401-no-claims.json":      "Unauthorized",

	"resume-interview/200-resumed.json":        "",
	"resume-interview/404-not-paused.json":     "Failed to resume interview",
	"resume-interview/404-not-found.json":      "Failed to resume interview",
	"resume-interview/403-forbidden.json":      "Forbidden",
	"resume-interview/400-bad-id.json":         "Invalid request",
	"resume-interview/400-malformed-body.json": "Invalid request",
	"resume-interview/401-no-claims.json":      "Unauthorized",

	"get-interview/200-found.json":     "",
	"get-interview/404-not-found.json": "Interview session not found",
	"get-interview/403-forbidden.json": "Forbidden",
	"get-interview/400-bad-id.json":    "Invalid request",
	"get-interview/401-no-claims.json": "Unauthorized",

	"list-interviews/200-all.json":        "",
	"list-interviews/200-paused.json":     "",
	"list-interviews/200-first-page.json": "",
	"list-interviews/400-bad-status.json": "Invalid request",
	"list-interviews/400-bad-limit.json":  "Invalid request",
	"list-interviews/400-bad-cursor.json": "Invalid request",
	"list-interviews/401-no-claims.json":  "Unauthorized",

	"cancel-job/200-cancelled-with-assignment.json": "",
	"cancel-job/200-cancelled-unassigned.json":      "",
	"cancel-job/400-completed.json":                 "Cannot cancel a completed job",
	"cancel-job/400-already-cancelled.json":         "Job is already cancelled",
	"cancel-job/404-not-found.json":                 "Job not found",
	"cancel-job/403-technician.json":                "Forbidden",
	"cancel-job/400-bad-id.json":                    "Invalid request",
	"cancel-job/400-malformed-body.json":            "Invalid request",
	"cancel-job/401-no-claims.json":                 "Unauthorized",

	"create-job/201-created.json":        "",
	"create-job/201-minimal.json":        "",
	"create-job/400-invalid-fields.json": "Invalid request",
	"create-job/401-no-claims.json":      "Unauthorized",
	"create-job/403-technician.json":     "Forbidden",

	"assign-job/200-assigned.json":             "",
	"assign-job/400-completed.json":            "Cannot assign a completed job",
	"assign-job/400-off-the-quarter-hour.json": "Invalid request",
	"assign-job/401-no-claims.json":            "Unauthorized",
	"assign-job/403-technician.json":           "Forbidden",
	"assign-job/404-not-found.json":            "Job not found",

	"reschedule-job/200-rescheduled.json": "",
	"reschedule-job/400-unassigned.json":  "The job has no assignment to reschedule",
	"reschedule-job/401-no-claims.json":   "Unauthorized",
	"reschedule-job/403-technician.json":  "Forbidden",
	"reschedule-job/404-not-found.json":   "Job not found",

	"confirm-job/200-confirmed.json":          "",
	"confirm-job/400-already-confirmed.json":  "The assignment is already confirmed",
	"confirm-job/401-no-claims.json":          "Unauthorized",
	"confirm-job/403-another-technician.json": "Forbidden",
	"confirm-job/404-not-found.json":          "Job not found",

	"start-job/200-started.json":       "",
	"start-job/400-not-confirmed.json": "Confirm the assignment before starting the job",
	"start-job/401-no-claims.json":     "Unauthorized",
	"start-job/403-dispatcher.json":    "Forbidden",
	"start-job/404-not-found.json":     "Job not found",

	"complete-job/200-completed.json":          "",
	"complete-job/400-not-started.json":        "The job has not started",
	"complete-job/401-no-claims.json":          "Unauthorized",
	"complete-job/403-another-technician.json": "Forbidden",
	"complete-job/404-not-found.json":          "Job not found",

	"get-schedule/200-dispatcher.json":         "",
	"get-schedule/200-me.json":                 "",
	"get-schedule/400-range-too-long.json":     "Invalid request",
	"get-schedule/400-no-from.json":            "Invalid request",
	"get-schedule/401-no-claims.json":          "Unauthorized",
	"get-schedule/403-another-technician.json": "Forbidden",
	"list-jobs/200-dispatcher.json":            "",
	"list-jobs/200-assigned-this-week.json":    "",
	"list-jobs/400-bad-status.json":            "Invalid request",
	"list-jobs/401-no-claims.json":             "Unauthorized",
	"list-jobs/403-technician.json":            "Forbidden",

	"get-job/200-found.json":      "",
	"get-job/404-not-found.json":  "Job not found",
	"get-job/403-technician.json": "Forbidden",
	"get-job/400-bad-id.json":     "Invalid request",
	"get-job/401-no-claims.json":  "Unauthorized",

	"live-ticket/201-issued.json":         "",
	"live-ticket/400-malformed-body.json": "Invalid request",
	"live-ticket/401-no-claims.json":      "Unauthorized",
}

// eventStore holds the sessions the sample events name (the demo data's ids).
func eventStore() *memStore {
	s := demoStore()
	for _, extra := range []struct {
		id, owner string
		st        interview.Status
	}{
		{"a11ce000-0000-4000-8000-000000000002", "alice", interview.Active},
		{"a11ce000-0000-4000-8000-000000000006", "alice", interview.Active},
		{"a11ce000-0000-4000-8000-000000000007", "alice", interview.Paused},
		{"b0b00000-0000-4000-8000-000000000002", "bob", interview.Paused},
	} {
		s.sessions[extra.id] = session(extra.id, extra.owner, extra.st)
	}
	return s
}

// TestSampleEvents runs every file in events/ through its function's handler via the
// api-proxy, as the Lambda runtime would, and checks status and error text.
func TestSampleEvents(t *testing.T) {
	files, err := filepath.Glob("../../events/*/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		fn := filepath.Base(filepath.Dir(f))
		key := fn + "/" + filepath.Base(f)
		logger, _ := newLogger()
		h, isHTTP := handlerFor(fn, logger)
		if !isHTTP {
			continue // not an HTTP function (tested with its own package)
		}
		seen[key] = true
		t.Run(key, func(t *testing.T) {
			want, ok := sampleEventErrors[key]
			if !ok {
				t.Fatalf("events/%s has no expectation here", key)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatalf("not an HTTP API event: %v", err)
			}
			resp := invoke(t, h, ev)
			wantStatus, _ := strconv.Atoi(strings.SplitN(filepath.Base(f), "-", 2)[0])
			if resp.StatusCode != wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, wantStatus, resp.Body)
			}
			body := decodeBody(t, resp)
			if want != "" && body["error"] != want {
				t.Fatalf("error = %q, want %q", body["error"], want)
			}
			if want == "" && body["error"] != nil {
				t.Fatalf("success with an error field: %s", resp.Body)
			}
		})
	}
	for key := range sampleEventErrors {
		if !seen[key] {
			t.Errorf("expected sample event events/%s is missing", key)
		}
	}
	for _, r := range Routes() {
		if len(filter(seen, r.Function+"/")) == 0 {
			t.Errorf("function %s has no sample events", r.Function)
		}
	}
}

func filter(m map[string]bool, prefix string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}
