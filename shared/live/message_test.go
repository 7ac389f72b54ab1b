package live

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/event"
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

// statuses are the statuses each interview detail-type leaves and enters.
var statuses = map[string][2]string{
	event.TypeInterviewPaused:    {"active", "paused"},
	event.TypeInterviewResumed:   {"paused", "active"},
	event.TypeInterviewCancelled: {"paused", "cancelled"},
}

func interviewEvent(dt, owner string, version int64) json.RawMessage {
	d := event.Interview{
		Transition: event.Transition{
			EventID: event.ID("interview", "a11ce000-0000-4000-8000-000000000002", version), OccurredAt: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
			Actor: event.Actor{Sub: owner}, Version: version, PreviousStatus: statuses[dt][0], Status: statuses[dt][1],
		},
		SessionID: "a11ce000-0000-4000-8000-000000000002", OwnerID: owner,
	}
	b, _ := json.Marshal(d)
	return b
}

func jobEvent(version int64) json.RawMessage {
	d := event.Job{
		Transition: event.Transition{
			EventID: event.ID("job", "0b000000-0000-4000-8000-000000000003", version), OccurredAt: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
			Actor: event.Actor{Sub: "adam", Roles: []string{"Admin"}}, Version: version, PreviousStatus: "Assigned", Status: "Cancelled",
		},
		JobID: "0b000000-0000-4000-8000-000000000003",
	}
	b, _ := json.Marshal(d)
	return b
}

func TestRouteAddressesAndShapesEachType(t *testing.T) {
	sch := liveSchemas(t)
	cases := []struct {
		dt       string
		detail   json.RawMessage
		audience Audience
		entity   string
	}{
		{event.TypeInterviewPaused, interviewEvent(event.TypeInterviewPaused, "alice", 2), Audience{Owner: "alice"}, EntityInterview},
		{event.TypeInterviewResumed, interviewEvent(event.TypeInterviewResumed, "bob", 3), Audience{Owner: "bob"}, EntityInterview},
		{event.TypeInterviewCancelled, interviewEvent(event.TypeInterviewCancelled, "alice", 4), Audience{Owner: "alice"}, EntityInterview},
		{event.TypeJobCancelled, jobEvent(3), Audience{JobReaders: true}, EntityJob},
	}
	for _, c := range cases {
		t.Run(c.dt, func(t *testing.T) {
			a, m, err := Route(c.dt, c.detail)
			if err != nil {
				t.Fatal(err)
			}
			if a != c.audience || m.Type != c.dt || m.Entity != c.entity || !bytes.Equal(m.Detail, c.detail) {
				t.Fatalf("audience %+v, message %+v", a, m)
			}
			var d struct {
				EventID string `json:"eventId"`
				Version int64  `json:"version"`
			}
			_ = json.Unmarshal(c.detail, &d)
			if m.EventID != d.EventID || m.Version != d.Version {
				t.Errorf("message carries eventId %s v%d, detail %s v%d", m.EventID, m.Version, d.EventID, d.Version)
			}
			if err := sch.Validate(schemacheck.LiveMessageID, m); err != nil {
				t.Errorf("message does not validate against schemas/live-message.json: %v\n%+v", err, m)
			}
		})
	}
}

func TestLiveMessageSchemaRefusesAMismatchedDetail(t *testing.T) {
	_, m, err := Route(event.TypeJobCancelled, jobEvent(2))
	if err != nil {
		t.Fatal(err)
	}
	m.Type = event.TypeInterviewPaused // a job's detail under an interview's type
	if liveSchemas(t).Validate(schemacheck.LiveMessageID, m) == nil {
		t.Fatal("the schema accepted a JobCancelled detail as InterviewPaused")
	}
}

func TestRouteRefusesWhatItCannotAddress(t *testing.T) {
	if _, _, err := Route("InterviewArchived", interviewEvent(event.TypeInterviewPaused, "alice", 2)); !errors.Is(err, event.ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	if _, _, err := Route(event.TypeInterviewPaused, interviewEvent(event.TypeInterviewPaused, "", 2)); err == nil {
		t.Error("an interview event without an owner was routed")
	}
	if _, _, err := Route(event.TypeJobCancelled, json.RawMessage(`{"jobId":"0b000000-0000-4000-8000-000000000003"}`)); err == nil {
		t.Error("an event without an eventId was routed")
	}
	if _, _, err := Route(event.TypeJobCancelled, json.RawMessage(`not json`)); err == nil {
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
