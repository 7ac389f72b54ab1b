package httpapi

import (
	"fmt"
	"testing"
)

// TestRequestLineIsAnEMFDocument: the access log line carries the request's metrics in
// CloudWatch's Embedded Metric Format, by function and outcome, and by outcome alone (the
// deployment's rollback alarm on 5xx watches that set, over every function).
func TestRequestLineIsAnEMFDocument(t *testing.T) {
	cases := []struct {
		id, outcome string
	}{
		{aliceActive, "OK"},
		{aliceCompleted, "INVALID_TRANSITION"},
		{missing, "NOT_FOUND"},
		{"bad", "INVALID_REQUEST"},
	}
	for _, c := range cases {
		logger, logs := newLogger()
		invoke(t, CancelInterview(logger.With("function", FnCancelInterview), defaults, demoStore()), request{id: c.id, sub: "alice", path: "/interviews/" + c.id + "/cancel"}.event())
		var line map[string]any
		for _, l := range logs.lines(t) {
			if l["msg"] == "request" {
				line = l
			}
		}
		if line == nil {
			t.Fatalf("%s: no request line", c.id)
		}
		if line["function"] != FnCancelInterview || line["outcome"] != c.outcome || line["requests"] != float64(1) {
			t.Errorf("%s: fields %v", c.id, line)
		}
		if _, ok := line["durationMs"].(float64); !ok {
			t.Errorf("%s: no durationMs", c.id)
		}
		aws, _ := line["_aws"].(map[string]any)
		cwm, _ := aws["CloudWatchMetrics"].([]any)
		if aws == nil || aws["Timestamp"] == nil || len(cwm) != 1 {
			t.Fatalf("%s: _aws = %v", c.id, line["_aws"])
		}
		def := cwm[0].(map[string]any)
		sets := def["Dimensions"].([]any)
		if def["Namespace"] != "Lifecycle" || fmt.Sprint(sets) != "[[function outcome] [outcome]]" {
			t.Errorf("%s: metric definition %v", c.id, def)
		}
		for _, m := range def["Metrics"].([]any) {
			name := m.(map[string]any)["Name"].(string)
			if _, ok := line[name]; !ok {
				t.Errorf("%s: metric %s declared but not on the line", c.id, name)
			}
		}
	}
}
