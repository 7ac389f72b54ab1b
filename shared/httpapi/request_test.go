package httpapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
)

// TestParseTimestampOffsets: a zone offset is RFC 3339's time-numoffset, hours 00 to 23 and
// minutes 00 to 59, although Go's parser takes up to 24 hours and 60 minutes.
func TestParseTimestampOffsets(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // the time in UTC; "" when refused
	}{
		{"2027-02-01T10:00:00Z", "2027-02-01T10:00:00Z"},
		{"2027-02-01t10:00:00z", "2027-02-01T10:00:00Z"},
		{"2027-02-01T10:00:00+00:00", "2027-02-01T10:00:00Z"},
		{"2027-02-01T10:00:00-00:00", "2027-02-01T10:00:00Z"},
		{"2027-02-01T10:00:00+23:59", "2027-01-31T10:01:00Z"},
		{"2027-02-01T10:00:00-23:59", "2027-02-02T09:59:00Z"},
		{"2027-02-01T10:00:00.5+05:30", "2027-02-01T04:30:00.5Z"},
		{"2027-02-01T10:00:00+24:00", ""},
		{"2027-02-01T10:00:00-24:00", ""},
		{"2027-02-01T10:00:00+24:59", ""},
		{"2027-02-01T10:00:00+23:60", ""},
		{"2027-02-01T10:00:00+05:60", ""},
		{"2027-02-01T10:00:00+99:00", ""},
		{"2027-02-01T10:00:00", ""},
		{"2027-02-01T10:00:00+0100", ""},
		{"1999-12-31T23:59:59Z", ""},
	} {
		got, ok := parseTimestamp(c.in)
		switch {
		case c.want == "" && ok:
			t.Errorf("parseTimestamp(%q) = %v, want it refused", c.in, got)
		case c.want != "" && (!ok || !got.Equal(mustTime(t, c.want)) || got.Location() != time.UTC):
			t.Errorf("parseTimestamp(%q) = %v, %v, want %s", c.in, got, ok, c.want)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTimestampOffsetBeyondRFC3339IsRefused: every route that takes a timestamp answers an
// offset of +24:00 (or of 60 minutes) with its 400 for a malformed timestamp, instead of
// storing or reading the time a day (an hour) off.
func TestTimestampOffsetBeyondRFC3339IsRefused(t *testing.T) {
	logger, _ := newLogger()
	query := func(ev events.APIGatewayV2HTTPRequest, q string) events.APIGatewayV2HTTPRequest {
		ev.RawQueryString = q
		return ev
	}
	window := func(start, end string) string {
		return `{"title":"t","customerId":"c","address":"a","requestedWindow":{"start":"` + start + `","end":"` + end + `"}}`
	}
	for _, c := range []struct {
		name    string
		h       http.Handler
		ev      events.APIGatewayV2HTTPRequest
		details string
	}{
		{"a requested window's start", CreateJob(logger, defaults, demoJobs(), sequentialIDs()),
			createJobRequest("dana", "[Dispatcher]", window("2027-02-01T10:00:00+24:00", "2027-02-01T12:00:00Z"), nil).event(),
			"requestedWindow.start must be an RFC 3339 timestamp"},
		{"a requested window's end, 60 minutes", CreateJob(logger, defaults, demoJobs(), sequentialIDs()),
			createJobRequest("dana", "[Dispatcher]", window("2027-02-01T10:00:00Z", "2027-02-01T18:00:00+05:60"), nil).event(),
			"requestedWindow.end must be an RFC 3339 timestamp"},
		{"an assignment's start", JobTransition(logger, defaults, demoJobs(), job.Assign),
			assignRequest(jobUnassigned, "dana", "[Dispatcher]", `{"technicianId":"tom","scheduledStart":"2027-02-02T09:00:00+24:00","scheduledEnd":"2027-02-01T10:00:00Z"}`).event(),
			"scheduledStart must be an RFC 3339 timestamp"},
		{"an assignment's end", JobTransition(logger, defaults, demoJobs(), job.Assign),
			assignRequest(jobUnassigned, "dana", "[Dispatcher]", `{"technicianId":"tom","scheduledStart":"2027-02-01T09:00:00Z","scheduledEnd":"2027-01-31T10:00:00-24:00"}`).event(),
			"scheduledEnd must be an RFC 3339 timestamp"},
		{"a reschedule's start", JobTransition(logger, defaults, demoJobs(), job.Reschedule),
			request{path: "/jobs/" + jobConfirmed + "/reschedule", routeKey: "POST /jobs/{id}/reschedule", id: jobConfirmed, sub: "dana", roles: "[Dispatcher]",
				body: `{"scheduledStart":"2027-02-02T09:00:00+24:00","scheduledEnd":"2027-02-01T10:00:00Z"}`}.event(),
			"scheduledStart must be an RFC 3339 timestamp"},
		{"the board's from", ListJobs(logger, defaults, demoJobs()),
			query(request{method: http.MethodGet, path: "/jobs", routeKey: "GET /jobs", sub: "dana", roles: "[Dispatcher]"}.event(), "from=2026-11-02T00:00:00%2B24:00"),
			"from must be an RFC 3339 timestamp"},
		{"a schedule's to", GetSchedule(logger, defaults, demoJobs()),
			query(request{method: http.MethodGet, path: "/technicians/tech-12/assignments", routeKey: "GET /technicians/{id}/assignments", id: "tech-12", sub: "dana", roles: "[Dispatcher]"}.event(),
				"from=2026-11-02T00:00:00Z&to=2026-11-09T00:00:00%2B24:00"),
			"to must be an RFC 3339 timestamp"},
		{"a pause's resumeAt", PauseInterview(logger, defaults, newMemStore(session(aliceActive, "alice", interview.Active))),
			request{path: "/interviews/" + aliceActive + "/pause", routeKey: "POST /interviews/{id}/pause", id: aliceActive, sub: "alice",
				body: `{"resumeAt":"2099-02-02T10:00:00+24:00"}`}.event(),
			"resumeAt must be an RFC 3339 timestamp"},
	} {
		t.Run(c.name, func(t *testing.T) { wantInvalid(t, invoke(t, c.h, c.ev), c.details) })
	}
}
