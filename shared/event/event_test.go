package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const (
	sessionID = "3f1c2a4e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
	jobID     = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	assignID  = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
)

var uuidV5 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIDIsDeterministic(t *testing.T) {
	cases := []struct {
		kind, id string
		version  int64
	}{
		{"interview", sessionID, 1},
		{"interview", sessionID, 2},
		{"job", jobID, 7},
		{"job", "", 0},
	}
	for _, c := range cases {
		a, b := ID(c.kind, c.id, c.version), ID(c.kind, c.id, c.version)
		if a != b {
			t.Errorf("ID(%q, %q, %d) = %q then %q, want the same", c.kind, c.id, c.version, a, b)
		}
	}
}

// TestIDGolden pins ids computed independently (Python's uuid.uuid5 with the namespace
// 6c696665-6379-636c-652d-6576656e7473 and the name "<kind>/<id>/<version>"): a change
// would give redelivered events of already published transitions new ids.
func TestIDGolden(t *testing.T) {
	cases := []struct {
		kind, id string
		version  int64
		want     string
	}{
		{"interview", sessionID, 2, "af10d477-a59f-5a7f-b196-72755985b922"},
		{"job", jobID, 7, "1a454851-8b38-5fb7-b34b-36a946a88f86"},
	}
	for _, c := range cases {
		if got := ID(c.kind, c.id, c.version); got != c.want {
			t.Errorf("ID(%q, %q, %d) = %q, want %q", c.kind, c.id, c.version, got, c.want)
		}
	}
}

func TestIDDiffersPerInput(t *testing.T) {
	base := ID("interview", sessionID, 3)
	cases := []struct {
		name     string
		kind, id string
		version  int64
	}{
		{"kind", "job", sessionID, 3},
		{"id", "interview", jobID, 3},
		{"version", "interview", sessionID, 4},
		{"version+1 digit", "interview", sessionID, 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ID(c.kind, c.id, c.version); got == base {
				t.Errorf("ID(%q, %q, %d) = %q, same as ID(interview, %s, 3)", c.kind, c.id, c.version, got, sessionID)
			}
		})
	}
}

func TestIDIsUUIDv5(t *testing.T) {
	seen := map[string]bool{}
	for _, kind := range []string{"interview", "job"} {
		for _, id := range []string{sessionID, jobID, "x", ""} {
			for v := int64(0); v < 20; v++ {
				got := ID(kind, id, v)
				if len(got) != 36 {
					t.Fatalf("ID(%q, %q, %d) = %q: %d chars, want 36", kind, id, v, got, len(got))
				}
				if !uuidV5.MatchString(got) {
					t.Fatalf("ID(%q, %q, %d) = %q: not a lower-case RFC 4122 version-5 UUID", kind, id, v, got)
				}
				if seen[got] {
					t.Fatalf("ID(%q, %q, %d) = %q: collides with another input", kind, id, v, got)
				}
				seen[got] = true
			}
		}
	}
}

func TestDecode(t *testing.T) {
	interviewJSON := `{
		"eventId": "af10d477-a59f-5a7f-b196-72755985b922",
		"occurredAt": "2025-03-04T05:06:07.123Z",
		"correlationId": "corr-1",
		"actor": {"sub": "user-1", "roles": ["candidate", "admin"]},
		"version": 2,
		"previousStatus": "active",
		"status": "%s",
		"reason": "no time",
		"sessionId": "` + sessionID + `",
		"ownerId": "user-1",
		"someFutureField": {"nested": [1, 2]}
	}`
	wantTime := time.Date(2025, 3, 4, 5, 6, 7, 123e6, time.UTC)
	for _, c := range []struct{ detailType, status string }{
		{TypeInterviewCancelled, "cancelled"},
		{TypeInterviewPaused, "paused"},
		{TypeInterviewResumed, "active"},
	} {
		t.Run(c.detailType, func(t *testing.T) {
			got, err := Decode(c.detailType, []byte(strings.Replace(interviewJSON, "%s", c.status, 1)))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			iv, ok := got.(*Interview)
			if !ok {
				t.Fatalf("Decode(%s) = %T, want *Interview", c.detailType, got)
			}
			want := Interview{
				Transition: Transition{
					EventID:        "af10d477-a59f-5a7f-b196-72755985b922",
					OccurredAt:     Time{Time: wantTime},
					CorrelationID:  "corr-1",
					Actor:          Actor{Sub: "user-1", Roles: []string{"candidate", "admin"}},
					Version:        2,
					PreviousStatus: "active",
					Status:         c.status,
					Reason:         "no time",
				},
				SessionID: sessionID,
				OwnerID:   "user-1",
			}
			assertInterview(t, *iv, want)
		})
	}

	t.Run(TypeJobCancelled, func(t *testing.T) {
		body := `{
			"eventId": "1a454851-8b38-5fb7-b34b-36a946a88f86",
			"occurredAt": "2025-03-04T05:06:07Z",
			"actor": {"sub": "dispatcher-9", "roles": ["dispatcher"]},
			"version": 7,
			"previousStatus": "Assigned",
			"status": "Cancelled",
			"jobId": "` + jobID + `",
			"assignment": {
				"id": "` + assignID + `",
				"technicianId": "tech-3",
				"scheduledStart": "2025-03-05T09:00:00Z",
				"scheduledEnd": "2025-03-05T11:30:00Z",
				"previousStatus": "Confirmed",
				"unknown": true
			},
			"unknown": "ignored"
		}`
		got, err := Decode(TypeJobCancelled, []byte(body))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		j, ok := got.(*Job)
		if !ok {
			t.Fatalf("Decode(JobCancelled) = %T, want *Job", got)
		}
		if j.EventID != "1a454851-8b38-5fb7-b34b-36a946a88f86" || j.JobID != jobID || j.Version != 7 ||
			j.PreviousStatus != "Assigned" || j.Status != "Cancelled" || j.CorrelationID != "" || j.Reason != "" ||
			j.Actor.Sub != "dispatcher-9" || !slices.Equal(j.Actor.Roles, []string{"dispatcher"}) ||
			!j.OccurredAt.Equal(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)) {
			t.Errorf("decoded job = %+v", *j)
		}
		if j.Assignment == nil {
			t.Fatal("Assignment = nil, want the assignment")
		}
		a := *j.Assignment
		if a.ID != assignID || a.TechnicianID != "tech-3" || a.PreviousStatus != "Confirmed" ||
			!a.ScheduledStart.Equal(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)) ||
			!a.ScheduledEnd.Equal(time.Date(2025, 3, 5, 11, 30, 0, 0, time.UTC)) {
			t.Errorf("decoded assignment = %+v", a)
		}
	})

	t.Run("JobCancelled without assignment", func(t *testing.T) {
		got, err := Decode(TypeJobCancelled, []byte(`{"eventId":"e","jobId":"j","version":1,"status":"Cancelled"}`))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if j := got.(*Job); j.Assignment != nil || j.JobID != "j" {
			t.Errorf("decoded job = %+v, want JobID j and no assignment", *j)
		}
	})
}

func assertInterview(t *testing.T, got, want Interview) {
	t.Helper()
	if !got.OccurredAt.Equal(want.OccurredAt.Time) {
		t.Errorf("OccurredAt = %v, want %v", got.OccurredAt, want.OccurredAt)
	}
	got.OccurredAt, want.OccurredAt = Time{}, Time{}
	if !slices.Equal(got.Actor.Roles, want.Actor.Roles) {
		t.Errorf("Actor.Roles = %q, want %q", got.Actor.Roles, want.Actor.Roles)
	}
	got.Actor.Roles, want.Actor.Roles = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded interview = %+v\nwant %+v", got, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name, detailType, detail string
		unknownType              bool
	}{
		{"unknown type", "InterviewArchived", `{"eventId":"x"}`, true},
		{"empty type", "", `{}`, true},
		{"case matters", "interviewcancelled", `{}`, true},
		{"malformed interview", TypeInterviewCancelled, `{"eventId":`, false},
		{"malformed job", TypeJobCancelled, `not json`, false},
		{"empty detail", TypeInterviewPaused, ``, false},
		{"wrong field type", TypeInterviewResumed, `{"version":"2"}`, false},
		{"array detail", TypeJobCancelled, `[]`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode(c.detailType, []byte(c.detail))
			if err == nil {
				t.Fatalf("Decode(%q, %q) = %+v, nil; want an error", c.detailType, c.detail, got)
			}
			if is := errors.Is(err, ErrUnknownType); is != c.unknownType {
				t.Errorf("errors.Is(%v, ErrUnknownType) = %v, want %v", err, is, c.unknownType)
			}
		})
	}
}

func TestDecodeEnvelope(t *testing.T) {
	detail := `{"eventId":"af10d477-a59f-5a7f-b196-72755985b922","occurredAt":"2025-03-04T05:06:07.123Z",` +
		`"actor":{"sub":"user-1","roles":[]},"version":2,"previousStatus":"active","status":"paused",` +
		`"sessionId":"` + sessionID + `","ownerId":"user-1"}`
	body := `{
		"version": "0",
		"id": "b5c9d1a2-0000-4000-8000-000000000001",
		"detail-type": "InterviewPaused",
		"source": "lifecycle.interviews",
		"account": "123456789012",
		"time": "2025-03-04T05:06:08Z",
		"region": "eu-west-1",
		"resources": ["arn:aws:dynamodb:eu-west-1:123456789012:table/t"],
		"detail": ` + detail + `
	}`
	env, d, err := DecodeEnvelope([]byte(body))
	if err != nil {
		t.Fatalf("DecodeEnvelope: %v", err)
	}
	if env.ID != "b5c9d1a2-0000-4000-8000-000000000001" || env.Source != SourceInterviews ||
		env.DetailType != TypeInterviewPaused || env.Account != "123456789012" || env.Region != "eu-west-1" ||
		!env.Time.Equal(time.Date(2025, 3, 4, 5, 6, 8, 0, time.UTC)) ||
		!slices.Equal(env.Resources, []string{"arn:aws:dynamodb:eu-west-1:123456789012:table/t"}) {
		t.Errorf("envelope = %+v", env)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, env.Detail); err != nil {
		t.Fatalf("envelope Detail is not JSON: %v", err)
	}
	if compact.String() != detail {
		t.Errorf("envelope Detail = %s, want %s", compact.String(), detail)
	}
	iv, ok := d.(*Interview)
	if !ok {
		t.Fatalf("detail = %T, want *Interview", d)
	}
	assertInterview(t, *iv, Interview{
		Transition: Transition{
			EventID:        "af10d477-a59f-5a7f-b196-72755985b922",
			OccurredAt:     Time{Time: time.Date(2025, 3, 4, 5, 6, 7, 123e6, time.UTC)},
			Actor:          Actor{Sub: "user-1", Roles: []string{}},
			Version:        2,
			PreviousStatus: "active",
			Status:         "paused",
		},
		SessionID: sessionID,
		OwnerID:   "user-1",
	})

	t.Run("job", func(t *testing.T) {
		body := `{"id":"e1","source":"lifecycle.jobs","detail-type":"JobCancelled","time":"2025-03-04T05:06:08Z",` +
			`"detail":{"eventId":"x","jobId":"` + jobID + `","version":3}}`
		env, d, err := DecodeEnvelope([]byte(body))
		if err != nil {
			t.Fatalf("DecodeEnvelope: %v", err)
		}
		j, ok := d.(*Job)
		if !ok || j.JobID != jobID || j.Version != 3 || env.Source != SourceJobs {
			t.Errorf("DecodeEnvelope = %+v, %#v", env, d)
		}
	})
}

func TestDecodeEnvelopeErrors(t *testing.T) {
	okDetail := `{"eventId":"x","sessionId":"s","jobId":"j","version":1}`
	cases := []struct {
		name, body  string
		unknownType bool
	}{
		{"interview type from jobs", `{"source":"lifecycle.jobs","detail-type":"InterviewCancelled","detail":` + okDetail + `}`, false},
		{"job type from interviews", `{"source":"lifecycle.interviews","detail-type":"JobCancelled","detail":` + okDetail + `}`, false},
		{"foreign source", `{"source":"aws.ec2","detail-type":"InterviewResumed","detail":` + okDetail + `}`, false},
		{"no source", `{"detail-type":"InterviewPaused","detail":` + okDetail + `}`, false},
		{"unknown type", `{"source":"lifecycle.interviews","detail-type":"InterviewArchived","detail":` + okDetail + `}`, true},
		{"malformed body", `{"source":"lifecycle.interviews","detail-type":`, false},
		{"not an object", `"hello"`, false},
		{"empty body", ``, false},
		{"malformed time", `{"source":"lifecycle.jobs","detail-type":"JobCancelled","time":"yesterday","detail":` + okDetail + `}`, false},
		{"malformed detail", `{"source":"lifecycle.jobs","detail-type":"JobCancelled","detail":{"version":"one"}}`, false},
		{"no detail", `{"source":"lifecycle.jobs","detail-type":"JobCancelled"}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, d, err := DecodeEnvelope([]byte(c.body))
			if err == nil {
				t.Fatalf("DecodeEnvelope(%s) = %#v, nil; want an error", c.body, d)
			}
			if d != nil {
				t.Errorf("detail = %#v with error %v, want nil", d, err)
			}
			if is := errors.Is(err, ErrUnknownType); is != c.unknownType {
				t.Errorf("errors.Is(%v, ErrUnknownType) = %v, want %v", err, is, c.unknownType)
			}
		})
	}
}

// --- schema conformance ---

const schemaDir = "../../schemas"

func compileSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for dt := range Types {
		path, err := filepath.Abs(filepath.Join(schemaDir, dt+".json"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("schema for %s: %v", dt, err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("schema %s: %v", path, err)
		}
		if err := c.AddResource(path, doc); err != nil {
			t.Fatalf("schema %s: %v", path, err)
		}
		if out[dt], err = c.Compile(path); err != nil {
			t.Fatalf("schema %s: %v", path, err)
		}
	}
	return out
}

func validate(t *testing.T, sch *jsonschema.Schema, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("instance %s: %v", b, err)
	}
	return sch.Validate(inst)
}

var (
	occurred = Time{Time: time.Date(2025, 3, 4, 5, 6, 7, 123e6, time.UTC)}
	start    = Time{Time: time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)}
	end      = Time{Time: time.Date(2025, 3, 5, 11, 30, 0, 0, time.UTC)}
)

func interviewDetail(from, to string, full bool) Interview {
	d := Interview{
		Transition: Transition{
			EventID:        ID("interview", sessionID, 4),
			OccurredAt:     occurred,
			Actor:          Actor{Sub: "user-1", Roles: []string{}},
			Version:        4,
			PreviousStatus: from,
			Status:         to,
		},
		SessionID: sessionID,
		OwnerID:   "user-1",
	}
	if full {
		d.CorrelationID = "corr-42"
		d.Actor.Roles = []string{"candidate", "admin"}
		if to == "cancelled" {
			d.Reason = strings.Repeat("r", 500)
		}
	}
	return d
}

// createdDetail is an InterviewCreated detail: version 1, no previous status, a title.
func createdDetail(full bool) Interview {
	d := interviewDetail("", "active", full)
	d.Version, d.EventID, d.Title = 1, ID("interview", sessionID, 1), "System design: URL shortener"
	return d
}

// completedDetail is an InterviewCompleted detail with its final score.
func completedDetail(score float64) Interview {
	d := interviewDetail("active", "completed", true)
	d.Score = &score
	return d
}

func jobDetail(from string, full bool) Job {
	d := Job{
		Transition: Transition{
			EventID:        ID("job", jobID, 9),
			OccurredAt:     occurred,
			Actor:          Actor{Sub: "dispatcher-9", Roles: []string{}},
			Version:        9,
			PreviousStatus: from,
			Status:         "Cancelled",
		},
		JobID: jobID,
	}
	if full {
		d.CorrelationID = "corr-43"
		d.Actor.Roles = []string{"dispatcher"}
		d.Reason = "customer called"
		d.Assignment = &Assignment{ID: assignID, TechnicianID: "tech-3", ScheduledStart: start, ScheduledEnd: end, PreviousStatus: "Pending"}
	}
	return d
}

func TestDetailsConformToSchemas(t *testing.T) {
	sch := compileSchemas(t)
	cases := []struct {
		name, detailType string
		detail           any
	}{
		{"created, full", TypeInterviewCreated, createdDetail(true)},
		{"created, minimal", TypeInterviewCreated, createdDetail(false)},
		{"completed", TypeInterviewCompleted, completedDetail(87.5)},
		{"completed with a score of 0", TypeInterviewCompleted, completedDetail(0)},
		{"cancelled from active, full", TypeInterviewCancelled, interviewDetail("active", "cancelled", true)},
		{"cancelled from paused, full", TypeInterviewCancelled, interviewDetail("paused", "cancelled", true)},
		{"cancelled, minimal", TypeInterviewCancelled, interviewDetail("active", "cancelled", false)},
		{"paused, full", TypeInterviewPaused, interviewDetail("active", "paused", true)},
		{"paused, minimal", TypeInterviewPaused, interviewDetail("active", "paused", false)},
		{"resumed, full", TypeInterviewResumed, interviewDetail("paused", "active", true)},
		{"resumed, minimal", TypeInterviewResumed, interviewDetail("paused", "active", false)},
		{"job from Unassigned, minimal", TypeJobCancelled, jobDetail("Unassigned", false)},
		{"job from Assigned, full", TypeJobCancelled, jobDetail("Assigned", true)},
		{"job from InProgress, full", TypeJobCancelled, jobDetail("InProgress", true)},
		{"job with a confirmed assignment", TypeJobCancelled, func() Job {
			j := jobDetail("Assigned", true)
			j.Assignment.PreviousStatus = "Confirmed"
			return j
		}()},
		{"job with a non-UTC assignment window", TypeJobCancelled, func() Job {
			j := jobDetail("Assigned", true)
			j.Assignment.ScheduledStart = Time{Time: start.In(time.FixedZone("KST", 9*3600))}
			return j
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.detail)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, sch[c.detailType], b); err != nil {
				t.Errorf("%s detail does not validate: %v\n%s", c.detailType, err, b)
			}
			// And it decodes back to what was marshalled.
			got, err := Decode(c.detailType, b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			again, _ := json.Marshal(got)
			if !bytes.Equal(again, b) {
				t.Errorf("round trip:\n got %s\nwant %s", again, b)
			}
		})
	}
}

// mutate marshals d, decodes it into a map, applies f and re-marshals.
func mutate(t *testing.T, d any, f func(m map[string]any)) []byte {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSchemasReject(t *testing.T) {
	sch := compileSchemas(t)
	details := map[string]any{
		TypeInterviewCreated:   createdDetail(true),
		TypeInterviewCompleted: completedDetail(90),
		TypeInterviewCancelled: interviewDetail("active", "cancelled", true),
		TypeInterviewPaused:    interviewDetail("active", "paused", true),
		TypeInterviewResumed:   interviewDetail("paused", "active", true),
		TypeJobCancelled:       jobDetail("Assigned", true),
	}
	type rejection struct {
		name, detailType string
		f                func(m map[string]any)
	}
	var cases []rejection
	for dt := range details {
		cases = append(cases,
			rejection{"missing eventId", dt, func(m map[string]any) { delete(m, "eventId") }},
			rejection{"extra property", dt, func(m map[string]any) { m["unexpected"] = "x" }},
			rejection{"extra actor property", dt, func(m map[string]any) { m["actor"].(map[string]any)["email"] = "a@b" }},
			rejection{"null roles", dt, func(m map[string]any) { m["actor"].(map[string]any)["roles"] = nil }},
			rejection{"eventId not a uuid", dt, func(m map[string]any) { m["eventId"] = "not-a-uuid" }},
			rejection{"occurredAt not a date-time", dt, func(m map[string]any) { m["occurredAt"] = "yesterday" }},
			rejection{"version 0", dt, func(m map[string]any) { m["version"] = 0 }},
			rejection{"missing actor", dt, func(m map[string]any) { delete(m, "actor") }},
		)
	}
	cases = append(cases,
		rejection{"completed from paused", TypeInterviewCompleted, func(m map[string]any) { m["previousStatus"] = "paused" }},
		rejection{"completed without a score", TypeInterviewCompleted, func(m map[string]any) { delete(m, "score") }},
		rejection{"created with a previous status", TypeInterviewCreated, func(m map[string]any) { m["previousStatus"] = "paused" }},
		rejection{"created at version 2", TypeInterviewCreated, func(m map[string]any) { m["version"] = 2 }},
		rejection{"created without a title", TypeInterviewCreated, func(m map[string]any) { delete(m, "title") }},
		rejection{"created paused", TypeInterviewCreated, func(m map[string]any) { m["status"] = "paused" }},
		rejection{"paused with status cancelled", TypeInterviewPaused, func(m map[string]any) { m["status"] = "cancelled" }},
		rejection{"paused with a reason", TypeInterviewPaused, func(m map[string]any) { m["reason"] = "why" }},
		rejection{"resumed from active", TypeInterviewResumed, func(m map[string]any) { m["previousStatus"] = "active" }},
		rejection{"cancelled from completed", TypeInterviewCancelled, func(m map[string]any) { m["previousStatus"] = "completed" }},
		rejection{"cancelled reason too long", TypeInterviewCancelled, func(m map[string]any) { m["reason"] = strings.Repeat("r", 501) }},
		rejection{"interview without ownerId", TypeInterviewCancelled, func(m map[string]any) { delete(m, "ownerId") }},
		rejection{"assignment previousStatus Cancelled", TypeJobCancelled, func(m map[string]any) {
			m["assignment"].(map[string]any)["previousStatus"] = "Cancelled"
		}},
		rejection{"assignment without technicianId", TypeJobCancelled, func(m map[string]any) {
			delete(m["assignment"].(map[string]any), "technicianId")
		}},
		rejection{"job previousStatus Completed", TypeJobCancelled, func(m map[string]any) { m["previousStatus"] = "Completed" }},
		rejection{"job status lower-case", TypeJobCancelled, func(m map[string]any) { m["status"] = "cancelled" }},
		rejection{"job without jobId", TypeJobCancelled, func(m map[string]any) { delete(m, "jobId") }},
	)
	for _, c := range cases {
		t.Run(c.detailType+"/"+c.name, func(t *testing.T) {
			b := mutate(t, details[c.detailType], c.f)
			if err := validate(t, sch[c.detailType], b); err == nil {
				t.Errorf("%s schema accepts %s", c.detailType, b)
			}
		})
	}
}

func TestSchemaFilesMatchTypes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(schemaDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, f := range files {
		dt := strings.TrimSuffix(filepath.Base(f), ".json")
		if dt == "live-message" {
			continue // the live channel's message (shared/live), which wraps a detail
		}
		onDisk[dt] = true
		if _, ok := Types[dt]; !ok {
			t.Errorf("schema %s is not a detail-type of event.Types", f)
		}
	}
	for dt := range Types {
		if !onDisk[dt] {
			t.Errorf("detail-type %s has no schema %s/%s.json", dt, schemaDir, dt)
		}
	}
	if len(onDisk) == 0 {
		t.Fatal("no schema files found")
	}
}

func TestTypesSources(t *testing.T) {
	want := map[string]string{
		TypeInterviewCreated:          SourceInterviews,
		TypeInterviewCancelled:        SourceInterviews,
		TypeInterviewCompleted:        SourceInterviews,
		TypeInterviewPaused:           SourceInterviews,
		TypeInterviewResumed:          SourceInterviews,
		TypeInterviewProgressRecorded: SourceInterviews,
		TypeJobCreated:                SourceJobs,
		TypeJobAssigned:               SourceJobs,
		TypeJobRescheduled:            SourceJobs,
		TypeAssignmentConfirmed:       SourceJobs,
		TypeJobStarted:                SourceJobs,
		TypeJobCompleted:              SourceJobs,
		TypeJobCancelled:              SourceJobs,
	}
	if len(Types) != len(want) {
		t.Errorf("Types has %d entries, want %d", len(Types), len(want))
	}
	for dt, src := range want {
		if Types[dt] != src {
			t.Errorf("Types[%s] = %q, want %q", dt, Types[dt], src)
		}
	}
}

func TestActorWithoutRolesEncodesAnEmptyList(t *testing.T) {
	b, err := json.Marshal(Interview{Transition: Transition{Actor: Actor{Sub: "u"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"actor":{"sub":"u","roles":[]}`) {
		t.Fatalf("actor encoded as %s", b)
	}
}
