package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/live/livetest"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/schemacheck"
)

func liveSchemas(t *testing.T) *schemacheck.Schemas {
	t.Helper()
	sch, err := schemacheck.Load("../../schemas")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestAddressNamesTheAudienceAndShapesEachType(t *testing.T) {
	sch := liveSchemas(t)
	cases := []struct {
		dt       string
		detail   json.RawMessage
		audience Audience
		entity   string
	}{
		{event.TypeInterviewPaused, livetest.InterviewEvent(event.TypeInterviewPaused, "alice", 2), Audience{Owner: "alice"}, EntityInterview},
		{event.TypeInterviewResumed, livetest.InterviewEvent(event.TypeInterviewResumed, "bob", 3), Audience{Owner: "bob"}, EntityInterview},
		{event.TypeInterviewCancelled, livetest.InterviewEvent(event.TypeInterviewCancelled, "alice", 4), Audience{Owner: "alice"}, EntityInterview},
		{event.TypeJobCancelled, livetest.JobEvent(3), Audience{JobReaders: true}, EntityJob},
	}
	for _, c := range cases {
		t.Run(c.dt, func(t *testing.T) {
			a, m, _, err := Address(c.dt, c.detail)
			if err != nil {
				t.Fatal(err)
			}
			if a != c.audience || m.Type != c.dt || m.Entity != c.entity {
				t.Fatalf("audience %+v, message %+v", a, m)
			}
			// The message carries exactly the listed fields the detail has, as it has them.
			got, full := flatten(t, m.Detail), flatten(t, c.detail)
			for _, f := range MessageFields[c.dt] {
				if v, ok := full[f]; ok && got[f] != v {
					t.Errorf("%s: message has %v, detail %v", f, got[f], v)
				}
			}
			for f := range got {
				if !slices.Contains(MessageFields[c.dt], f) {
					t.Errorf("the message carries %s, which MessageFields does not list", f)
				}
			}
			var d struct {
				EventID string `json:"eventId"`
				Version int64  `json:"version"`
			}
			_ = json.Unmarshal(c.detail, &d)
			if m.EventID != d.EventID || m.Version != d.Version {
				t.Errorf("message carries eventId %s v%d, detail %s v%d", m.EventID, m.Version, d.EventID, d.Version)
			}
			wantActions := map[string][]string{event.TypeInterviewPaused: {"cancel", "resume"}, event.TypeInterviewResumed: {"cancel", "pause", "complete"},
				event.TypeInterviewCancelled: {}, event.TypeJobCancelled: {}}[c.dt]
			if !slices.Equal(m.AllowedActions, wantActions) || m.AllowedActions == nil {
				t.Errorf("the message allows %v, want %v", m.AllowedActions, wantActions)
			}
			if err := sch.Validate(schemacheck.LiveMessageID, m); err != nil {
				t.Errorf("message does not validate against schemas/live-message.json: %v\n%+v", err, m)
			}
		})
	}
}

// flatten reads a JSON object as its leaf fields by dotted name.
func flatten(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
			} else {
				out[prefix+k] = fmt.Sprint(v)
			}
		}
	}
	walk("", m)
	return out
}

// TestMessagesCarryOnlyTheListedFields (issue 23): what an event's detail gains later, or
// carries for its consumers on the bus (the actor's roles, the correlation id), does not
// reach browsers until it is listed.
func TestMessagesCarryOnlyTheListedFields(t *testing.T) {
	for dt, detail := range map[string]json.RawMessage{
		event.TypeInterviewPaused: livetest.InterviewEvent(event.TypeInterviewPaused, "alice", 2),
		event.TypeJobCancelled:    livetest.JobEvent(3),
	} {
		var m map[string]any
		if err := json.Unmarshal(detail, &m); err != nil {
			t.Fatal(err)
		}
		m["internalNote"] = "for the bus only"
		m["actor"].(map[string]any)["ip"] = "203.0.113.7"
		if a, ok := m["assignment"].(map[string]any); ok {
			a["customerPhone"] = "+44 20 7946 0000"
		}
		raw, _ := json.Marshal(m)
		_, msg, _, err := Address(dt, raw)
		if err != nil {
			t.Fatal(err)
		}
		got := flatten(t, msg.Detail)
		for _, f := range []string{"internalNote", "actor.ip", "actor.roles", "correlationId", "assignment.customerPhone"} {
			if _, ok := got[f]; ok {
				t.Errorf("%s: the message carries %s", dt, f)
			}
		}
		if got["actor.sub"] == nil || got["eventId"] == nil {
			t.Errorf("%s: the message lost listed fields: %v", dt, got)
		}
	}
}

// TestLiveMessageSchemaListsTheMessageFields: schemas/live-message.json documents, per
// type, exactly the fields MessageFields sends.
func TestLiveMessageSchemaListsTheMessageFields(t *testing.T) {
	raw, err := os.ReadFile("../../schemas/live-message.json")
	if err != nil {
		t.Fatal(err)
	}
	type schema struct {
		Properties map[string]*schema `json:"properties"`
		If         *schema            `json:"if"`
		Then       *schema            `json:"then"`
		Const      string             `json:"const"`
	}
	var doc struct {
		AllOf []schema `json:"allOf"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var names func(prefix string, s *schema) []string
	names = func(prefix string, s *schema) []string {
		var out []string
		for k, p := range s.Properties {
			if len(p.Properties) > 0 {
				out = append(out, names(prefix+k+".", p)...)
			} else {
				out = append(out, prefix+k)
			}
		}
		return out
	}
	seen := map[string]bool{}
	for _, branch := range doc.AllOf {
		dt := branch.If.Properties["type"].Const
		seen[dt] = true
		got, want := names("", branch.Then.Properties["detail"]), slices.Clone(MessageFields[dt])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: schemas/live-message.json lists %v, MessageFields %v", dt, got, want)
		}
	}
	for dt := range event.Types {
		if !seen[dt] {
			t.Errorf("schemas/live-message.json has no branch for %s", dt)
		}
	}
}

func TestLiveMessageSchemaRefusesAMismatchedDetail(t *testing.T) {
	_, m, _, err := Address(event.TypeJobCancelled, livetest.JobEvent(2))
	if err != nil {
		t.Fatal(err)
	}
	m.Type = event.TypeInterviewPaused // a job's detail under an interview's type
	if liveSchemas(t).Validate(schemacheck.LiveMessageID, m) == nil {
		t.Fatal("the schema accepted a JobCancelled detail as InterviewPaused")
	}
}

func TestRouteRefusesWhatItCannotAddress(t *testing.T) {
	if _, _, _, err := Address("InterviewArchived", livetest.InterviewEvent(event.TypeInterviewPaused, "alice", 2)); !errors.Is(err, event.ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	if _, _, _, err := Address(event.TypeInterviewPaused, livetest.InterviewEvent(event.TypeInterviewPaused, "", 2)); err == nil {
		t.Error("an interview event without an owner was routed")
	}
	if _, _, _, err := Address(event.TypeJobCancelled, json.RawMessage(`{"jobId":"0b000000-0000-4000-8000-000000000003"}`)); err == nil {
		t.Error("an event without an eventId was routed")
	}
	if _, _, _, err := Address(event.TypeJobCancelled, json.RawMessage(`not json`)); err == nil {
		t.Error("an unreadable detail was routed")
	}
}

func TestAudienceAdmits(t *testing.T) {
	conn := func(sub string, roles ...string) Connection {
		return Connection{ID: "c-" + sub, Sub: sub, Roles: roles}
	}
	cases := []struct {
		a    Audience
		c    Connection
		want bool
	}{
		{Audience{Owner: "alice"}, conn("alice"), true},
		{Audience{Owner: "alice"}, conn("bob"), false},
		{Audience{Owner: "alice"}, conn("adam", "Admin"), false}, // interview events go to the owner only
		{Audience{JobReaders: true}, conn("dana", "Dispatcher"), true},
		{Audience{JobReaders: true}, conn("adam", "Admin"), true},
		{Audience{JobReaders: true}, conn("tom", "Technician"), false},
		{Audience{JobReaders: true}, conn("alice"), false},
		{Audience{}, conn("alice"), false},
	}
	for _, c := range cases {
		if got := c.a.Admits(c.c); got != c.want {
			t.Errorf("%+v admits %+v = %v, want %v", c.a, c.c, got, c.want)
		}
	}
}
