package httpapi

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/job"
)

func TestWithRawField(t *testing.T) {
	for _, c := range []struct{ obj, name, raw, want string }{
		{`{"a":1}`, "b", `[{"x":"y"}]`, `{"a":1,"b":[{"x":"y"}]}`},
		{`{}`, "b", `{"c":[1, 2]}`, `{"b":{"c":[1, 2]}}`},
		{`{"s":"}"}`, "m", `"t"`, `{"s":"}","m":"t"}`},
	} {
		got := withRawField([]byte(c.obj), c.name, []byte(c.raw))
		if string(got) != c.want || !json.Valid(got) {
			t.Errorf("withRawField(%s, %s, %s) = %s, want %s", c.obj, c.name, c.raw, got, c.want)
		}
	}
}

// TestUnpairedSurrogate: only a \u escape of half a surrogate pair without its other half
// counts, wherever it is in a string, and not text that merely looks like one.
func TestUnpairedSurrogate(t *testing.T) {
	for _, c := range []struct {
		json string
		want bool
	}{
		{`{"a":"\ud800"}`, true},
		{`{"a":"\uDBFF"}`, true},
		{`{"a":"\udc00"}`, true},
		{`{"a":"x\ud800y"}`, true},
		{`{"a":"\ud800\u0041"}`, true},
		{`{"a":"\ud800\ud800\udc00"}`, true},
		{`{"a":"\ud800\\udc00"}`, true},
		{`{"\ud800":1}`, true},
		{`{"a":"\ud800`, true},
		{`{"a":"\ud83d\ude80"}`, false},
		{`{"a":"\uD83D\uDE80\ud800\udc00"}`, false},
		{`{"a":"\\ud800"}`, false},
		{`{"a":"\"\\ud800\""}`, false},
		{`{"a":"\u00e9\ud7ff\ue000\uffff"}`, false},
		{`{"a":"\u12"}`, false},
		{`{"a":1}`, false},
	} {
		if got := unpairedSurrogate([]byte(c.json)); got != c.want {
			t.Errorf("unpairedSurrogate(%s) = %v, want %v", c.json, got, c.want)
		}
	}
}

// TestTextThatIsNotUnicodeIsRefused: a body that is not UTF-8, a string with an unpaired
// surrogate escape, and a path that is not UTF-8 once decoded are 400s on every route:
// encoding/json would have read each as U+FFFD, so that "tech-\xff" and "tech-\xfe" were
// one technician with one calendar.
func TestTextThatIsNotUnicodeIsRefused(t *testing.T) {
	logger, _ := newLogger()
	assign := func(tech string) events.APIGatewayV2HTTPRequest {
		return assignRequest(jobUnassigned, "dana", "[Dispatcher]",
			`{"technicianId":"`+tech+`","scheduledStart":"2026-12-09T09:00:00Z","scheduledEnd":"2026-12-09T10:00:00Z"}`).event()
	}
	schedule := func(rawID string) events.APIGatewayV2HTTPRequest {
		ev := request{method: http.MethodGet, path: "/technicians/" + rawID + "/assignments", routeKey: "GET /technicians/{id}/assignments",
			id: rawID, sub: "dana", roles: "[Dispatcher]"}.event()
		ev.RawQueryString = "from=2026-11-02T00:00:00Z&to=2026-11-09T00:00:00Z"
		return ev
	}
	for _, c := range []struct {
		name    string
		h       http.Handler
		ev      events.APIGatewayV2HTTPRequest
		details string
	}{
		{"a technician id that is not UTF-8", JobTransition(logger, defaults, demoJobs(), job.Assign), assign("tech-\xff"), "the body must be UTF-8"},
		{"a technician id with a lone surrogate", JobTransition(logger, defaults, demoJobs(), job.Assign), assign(`tech-\ud800`), "the body must not hold a \\u escape of an unpaired UTF-16 surrogate"},
		{"a customer id that is not UTF-8", CreateJob(logger, defaults, demoJobs(), sequentialIDs()),
			createJobRequest("dana", "[Dispatcher]", "{\"title\":\"t\",\"customerId\":\"cust-\xfe\",\"address\":\"a\"}", nil).event(), "the body must be UTF-8"},
		{"a title with a lone surrogate", CreateInterview(logger, defaults, newMemStore(), sequentialIDs()),
			createRequest("/interviews", "alice", `{"title":"\udfff","topicIds":["t1"],"interviewerId":"aria"}`, nil).event(), "the body must not hold a \\u escape"},
		{"a requested window's nested field", CreateJob(logger, defaults, demoJobs(), sequentialIDs()),
			createJobRequest("dana", "[Dispatcher]", `{"title":"t","customerId":"c","address":"a","requestedWindow":{"start":"2026-12-09T09:00:00Z\ud800","end":"2026-12-09T10:00:00Z"}}`, nil).event(),
			"the body must not hold a \\u escape"},
		{"a technician in the path that is not UTF-8", GetSchedule(logger, defaults, demoJobs()), schedule("%FF"), "the path must be UTF-8"},
		{"a technician in the path, half a character", GetSchedule(logger, defaults, demoJobs()), schedule("tech-%C3"), "the path must be UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) { wantInvalid(t, invoke(t, c.h, c.ev), c.details) })
	}

	// Unicode itself, escaped or not, in the path or the body, is an id like any other.
	store := demoJobs()
	resp := invoke(t, JobTransition(logger, defaults, store, job.Assign), assign(`tëch-\ud83d\ude80`))
	a, _ := decodeBody(t, resp)["assignment"].(map[string]any)
	if resp.StatusCode != http.StatusOK || a["technicianId"] != "tëch-🚀" {
		t.Errorf("a technician id with a surrogate pair: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := invoke(t, GetSchedule(logger, defaults, store), schedule("t%C3%ABch-%F0%9F%9A%80")); resp.StatusCode != http.StatusOK || decodeBody(t, resp)["technicianId"] != "tëch-🚀" {
		t.Errorf("a technician in the path, encoded UTF-8: %d %s", resp.StatusCode, resp.Body)
	}
}
