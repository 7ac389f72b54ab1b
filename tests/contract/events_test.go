package contract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/event"
)

// TestSampleEventsCarryTheirEventIDs: every event detail in events/ (an EventBridge
// envelope's, or one inside an SQS message's body) has the eventId event.ID gives its
// entity and version, as a published one would, so a consumer's deduplication can be tried
// on the samples as they are.
func TestSampleEventsCarryTheirEventIDs(t *testing.T) {
	files, err := filepath.Glob("../../events/*/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	checked := 0
	var walk func(file string, v any)
	walk = func(file string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if id, ok := v["eventId"].(string); ok {
				version, _ := v["version"].(float64)
				kind, entity := "interview", v["sessionId"]
				if j, ok := v["jobId"]; ok {
					kind, entity = "job", j
				}
				if e, ok := entity.(string); ok {
					checked++
					if want := event.ID(kind, e, int64(version)); id != want {
						t.Errorf("%s: eventId %s for %s %s at version %d, want %s", file, id, kind, e, int64(version), want)
					}
				}
			}
			for _, x := range v {
				walk(file, x)
			}
		case []any:
			for _, x := range v {
				walk(file, x)
			}
		case string:
			// An SQS message's body holds its event as JSON text.
			var inner any
			if json.Unmarshal([]byte(v), &inner) == nil {
				if _, ok := inner.(map[string]any); ok {
					walk(file, inner)
				}
			}
		}
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		walk(f, v)
	}
	if checked < 6 {
		t.Errorf("checked %d event ids, want every sample's (at least 6)", checked)
	}
}
