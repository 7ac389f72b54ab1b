package eventbus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/lifecycle-api/lifecycle/shared/event"
)

// --- stream record builders, shaped like the items of docs/data-model.md ---

type attrs = map[string]events.DynamoDBAttributeValue

const (
	sessionID = "3f1c2a4e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
	jobID     = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	assignID  = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
	owner     = "user-1"
	createdAt = "2025-03-01T10:00:00.000Z"
	oldAt     = "2025-03-04T05:00:00.000Z"
	// newAt ends in a zero, which the detail's occurredAt keeps: it is the item's updatedAt,
	// string for string (event.Time).
	newAt = "2025-03-04T05:06:07.120Z"
)

var newTime = time.Date(2025, 3, 4, 5, 6, 7, 120e6, time.UTC)

func s(v string) events.DynamoDBAttributeValue { return events.NewStringAttribute(v) }
func n(v string) events.DynamoDBAttributeValue { return events.NewNumberAttribute(v) }

func list(vs ...string) events.DynamoDBAttributeValue {
	l := []events.DynamoDBAttributeValue{}
	for _, v := range vs {
		l = append(l, s(v))
	}
	return events.NewListAttribute(l)
}

func actor(sub string, roles ...string) events.DynamoDBAttributeValue {
	return events.NewMapAttribute(attrs{"sub": s(sub), "roles": list(roles...)})
}

// mod changes a new image.
type mod func(attrs)

func set(name string, v events.DynamoDBAttributeValue) mod { return func(m attrs) { m[name] = v } }
func del(name string) mod                                  { return func(m attrs) { delete(m, name) } }

func sessionItem(id, status string, version int64, updatedAt string) attrs {
	return attrs{
		"pk":          s("INTERVIEW#" + id),
		"sk":          s("INTERVIEW"),
		"type":        s("interview"),
		"id":          s(id),
		"ownerId":     s(owner),
		"ownerStatus": s(owner + "#" + status),
		"status":      s(status),
		"version":     n(strconv.FormatInt(version, 10)),
		"createdAt":   s(createdAt),
		"updatedAt":   s(updatedAt),
		"title":       s("Go interview"),
		"topicIds":    list("t1", "t2"),
		"progress":    n("40"),
		"score":       n("72.5"),
	}
}

func jobItem(id, status string, version int64, updatedAt string) attrs {
	return attrs{
		"pk":        s("JOB#" + id),
		"sk":        s("JOB"),
		"type":      s("job"),
		"id":        s(id),
		"title":     s("Fix the boiler"),
		"status":    s(status),
		"version":   n(strconv.FormatInt(version, 10)),
		"createdAt": s(createdAt),
		"updatedAt": s(updatedAt),
	}
}

// transition returns the new image of old after a transition to status, as the store
// writes it, with mods applied.
func transition(old attrs, to, action string, mods ...mod) attrs {
	nw := maps.Clone(old)
	v, _ := strconv.ParseInt(old["version"].Number(), 10, 64)
	nw["previousStatus"] = old["status"]
	nw["status"] = s(to)
	nw["version"] = n(strconv.FormatInt(v+1, 10))
	nw["updatedAt"] = s(newAt)
	nw["lastAction"] = s(action)
	nw["actor"] = actor(owner, "candidate")
	nw["correlationId"] = s("corr-1")
	if _, ok := old["ownerId"]; ok {
		nw["ownerStatus"] = s(owner + "#" + to)
	}
	for _, m := range mods {
		m(nw)
	}
	return nw
}

func record(name, seq string, old, nw attrs) events.DynamoDBEventRecord {
	r := events.DynamoDBEventRecord{
		AWSRegion:   "eu-west-1",
		EventID:     "stream-" + seq,
		EventName:   name,
		EventSource: "aws:dynamodb",
		Change: events.DynamoDBStreamRecord{
			NewImage:       nw,
			OldImage:       old,
			SequenceNumber: seq,
			StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
	if nw != nil {
		r.Change.Keys = attrs{"pk": nw["pk"], "sk": nw["sk"]}
	} else if old != nil {
		r.Change.Keys = attrs{"pk": old["pk"], "sk": old["sk"]}
	}
	return r
}

// interviewChange is a MODIFY of session sessionID from version 2 to 3.
func interviewChange(from, to string, mods ...mod) events.DynamoDBEventRecord {
	return interviewChangeOf(sessionID, "100", from, to, mods...)
}

func interviewChangeOf(id, seq, from, to string, mods ...mod) events.DynamoDBEventRecord {
	old := sessionItem(id, from, 2, oldAt)
	action := map[string]string{"cancelled": "cancel", "paused": "pause", "active": "resume"}[to]
	return record("MODIFY", seq, old, transition(old, to, action, mods...))
}

// jobChange is a MODIFY of job jobID from version 6 to 7.
func jobChange(from, to string, mods ...mod) events.DynamoDBEventRecord {
	return jobChangeOf(jobID, "200", from, to, mods...)
}

func jobChangeOf(id, seq, from, to string, mods ...mod) events.DynamoDBEventRecord {
	old := jobItem(id, from, 6, oldAt)
	old["assignmentId"] = s(assignID)
	return record("MODIFY", seq, old, transition(old, to, "cancel", mods...))
}

func cancelledAssignment(status string) events.DynamoDBAttributeValue {
	return events.NewMapAttribute(attrs{
		"id":             s(assignID),
		"technicianId":   s("tech-3"),
		"scheduledStart": s("2025-03-05T09:00:00.000Z"),
		"scheduledEnd":   s("2025-03-05T11:30:00.000Z"),
		"status":         s(status),
	})
}

// --- schemas ---

func compileSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for dt := range event.Types {
		path, err := filepath.Abs(filepath.Join("..", "..", "schemas", dt+".json"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(path, doc); err != nil {
			t.Fatal(err)
		}
		if out[dt], err = c.Compile(path); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// --- Derive ---

func derive(t *testing.T, rec events.DynamoDBEventRecord) (e Entry, ok bool, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("Derive panicked: %v", p)
		}
	}()
	return Derive(rec)
}

func TestDerivePublishedTransitions(t *testing.T) {
	sch := compileSchemas(t)
	ivID := func(v int64) string { return event.ID("interview", sessionID, v) }
	jbID := func(v int64) string { return event.ID("job", jobID, v) }
	cases := []struct {
		name       string
		rec        events.DynamoDBEventRecord
		detailType string
		source     string
		eventID    string
		entityID   string
		detail     map[string]any
	}{
		{
			name: "an interview created through the API",
			rec: record("INSERT", "1", nil, func() attrs {
				it := sessionItem(sessionID, "active", 1, newAt)
				it["lastAction"], it["actor"], it["correlationId"] = s("create"), actor(owner, "candidate"), s("corr-1")
				return it
			}()),
			detailType: event.TypeInterviewCreated, source: event.SourceInterviews, eventID: ivID(1), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(1), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{"candidate"}},
				"version": 1.0, "status": "active", "sessionId": sessionID, "ownerId": owner, "title": "Go interview",
			},
		},
		{
			name: "a job created through the API: its title and customer, not its address",
			rec: record("INSERT", "1", nil, func() attrs {
				it := jobItem(jobID, "Unassigned", 1, newAt)
				it["lastAction"], it["actor"], it["correlationId"] = s("create"), actor("dana", "Dispatcher"), s("corr-1")
				it["title"], it["customerId"], it["address"] = s("Boiler service"), s("cust-9"), s("1 Secret Lane")
				return it
			}()),
			detailType: event.TypeJobCreated, source: event.SourceJobs, eventID: event.ID("job", jobID, 1), entityID: jobID,
			detail: map[string]any{
				"eventId": event.ID("job", jobID, 1), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": "dana", "roles": []any{"Dispatcher"}},
				"version": 1.0, "status": "Unassigned", "jobId": jobID, "title": "Boiler service", "customerId": "cust-9",
			},
		},
		{
			name: "a job reassigned: the new booking, and the technician it was taken from",
			rec: func() events.DynamoDBEventRecord {
				old := jobItem(jobID, "Assigned", 6, oldAt)
				return record("MODIFY", "200", old, transition(old, "Assigned", "assign", set("actor", actor("dana", "Dispatcher")),
					set("booked", events.NewMapAttribute(attrs{"id": s("a-9"), "technicianId": s("tom"),
						"scheduledStart": s("2026-12-09T09:00:00.000Z"), "scheduledEnd": s("2026-12-09T11:00:00.000Z")})),
					set("unassignedTechnicianId", s("tech-3"))))
			}(),
			detailType: event.TypeJobAssigned, source: event.SourceJobs, eventID: event.ID("job", jobID, 7), entityID: jobID,
			detail: map[string]any{
				"eventId": event.ID("job", jobID, 7), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": "dana", "roles": []any{"Dispatcher"}},
				"version": 7.0, "previousStatus": "Assigned", "status": "Assigned", "jobId": jobID,
				"booked":                 map[string]any{"id": "a-9", "technicianId": "tom", "scheduledStart": "2026-12-09T09:00:00.000Z", "scheduledEnd": "2026-12-09T11:00:00.000Z"},
				"unassignedTechnicianId": "tech-3",
			},
		},
		{
			name:       "an interview completed through the API, with its final score",
			rec:        interviewChange("active", "completed", set("lastAction", s("complete")), set("score", n("87.5")), set("completedAt", s(newAt))),
			detailType: event.TypeInterviewCompleted, source: event.SourceInterviews, eventID: ivID(3), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(3), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{"candidate"}},
				"version": 3.0, "previousStatus": "active", "status": "completed", "sessionId": sessionID, "ownerId": owner, "score": 87.5,
			},
		},
		{
			name: "an interaction recorded by the conversation service: progress and score, not the message",
			rec: record("MODIFY", "1", sessionItem(sessionID, "active", 2, oldAt), transition(sessionItem(sessionID, "active", 2, oldAt), "active", "record",
				set("actor", actor("conversation-service")), set("progress", n("0.55")), set("score", n("61.5")),
				set("lastMessageId", s("msg-7")), set("recentMessages", s(`[{"id":"msg-7","output":"secret answer"}]`)))),
			detailType: event.TypeInterviewProgressRecorded, source: event.SourceInterviews, eventID: ivID(3), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(3), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": "conversation-service", "roles": []any{}},
				"version": 3.0, "previousStatus": "active", "status": "active", "sessionId": sessionID, "ownerId": owner,
				"progress": 0.55, "score": 61.5, "messageId": "msg-7",
			},
		},
		{
			name:       "interview active to cancelled with a reason",
			rec:        interviewChange("active", "cancelled", set("cancelReason", s("no time")), set("cancelledAt", s(newAt)), set("cancelledBy", s(owner))),
			detailType: event.TypeInterviewCancelled, source: event.SourceInterviews, eventID: ivID(3), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(3), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{"candidate"}},
				"version": 3.0, "previousStatus": "active", "status": "cancelled", "reason": "no time",
				"sessionId": sessionID, "ownerId": owner,
			},
		},
		{
			name:       "interview paused to cancelled without a reason",
			rec:        interviewChange("paused", "cancelled", set("actor", actor("admin-7", "admin", "support"))),
			detailType: event.TypeInterviewCancelled, source: event.SourceInterviews, eventID: ivID(3), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(3), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": "admin-7", "roles": []any{"admin", "support"}},
				"version": 3.0, "previousStatus": "paused", "status": "cancelled",
				"sessionId": sessionID, "ownerId": owner,
			},
		},
		{
			name:       "interview active to paused drops a stale cancelReason",
			rec:        interviewChange("active", "paused", set("cancelReason", s("stale")), set("pausedAt", s(newAt))),
			detailType: event.TypeInterviewPaused, source: event.SourceInterviews, eventID: ivID(3), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(3), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{"candidate"}},
				"version": 3.0, "previousStatus": "active", "status": "paused",
				"sessionId": sessionID, "ownerId": owner,
			},
		},
		{
			name:       "interview paused to active is a resume",
			rec:        interviewChange("paused", "active", set("cancelReason", s("stale")), set("resumedAt", s(newAt))),
			detailType: event.TypeInterviewResumed, source: event.SourceInterviews, eventID: ivID(3), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(3), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{"candidate"}},
				"version": 3.0, "previousStatus": "paused", "status": "active",
				"sessionId": sessionID, "ownerId": owner,
			},
		},
		{
			name:       "roles absent are an empty array",
			rec:        interviewChange("active", "paused", set("actor", events.NewMapAttribute(attrs{"sub": s(owner)}))),
			detailType: event.TypeInterviewPaused, source: event.SourceInterviews, eventID: ivID(3), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(3), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{}},
				"version": 3.0, "previousStatus": "active", "status": "paused",
				"sessionId": sessionID, "ownerId": owner,
			},
		},
		{
			name:       "roles null are an empty array",
			rec:        interviewChange("active", "paused", set("actor", events.NewMapAttribute(attrs{"sub": s(owner), "roles": events.NewNullAttribute()}))),
			detailType: event.TypeInterviewPaused, source: event.SourceInterviews, eventID: ivID(3), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(3), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{}},
				"version": 3.0, "previousStatus": "active", "status": "paused",
				"sessionId": sessionID, "ownerId": owner,
			},
		},
		{
			name:       "roles an empty list are an empty array",
			rec:        interviewChange("active", "paused", set("actor", actor(owner))),
			detailType: event.TypeInterviewPaused, source: event.SourceInterviews, eventID: ivID(3), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(3), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{}},
				"version": 3.0, "previousStatus": "active", "status": "paused",
				"sessionId": sessionID, "ownerId": owner,
			},
		},
		{
			name:       "roles as a string set, no correlationId",
			rec:        interviewChange("paused", "active", del("correlationId"), set("actor", events.NewMapAttribute(attrs{"sub": s(owner), "roles": events.NewStringSetAttribute([]string{"candidate"})}))),
			detailType: event.TypeInterviewResumed, source: event.SourceInterviews, eventID: ivID(3), entityID: sessionID,
			detail: map[string]any{
				"eventId": ivID(3), "occurredAt": newAt,
				"actor":   map[string]any{"sub": owner, "roles": []any{"candidate"}},
				"version": 3.0, "previousStatus": "paused", "status": "active",
				"sessionId": sessionID, "ownerId": owner,
			},
		},
		{
			name: "job cancelled with its assignment",
			rec: jobChange("Assigned", "Cancelled", del("assignmentId"), set("cancelReason", s("customer called")),
				set("actor", actor("dispatcher-9", "dispatcher")), set("cancelledAssignment", cancelledAssignment("Confirmed"))),
			detailType: event.TypeJobCancelled, source: event.SourceJobs, eventID: jbID(7), entityID: jobID,
			detail: map[string]any{
				"eventId": jbID(7), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": "dispatcher-9", "roles": []any{"dispatcher"}},
				"version": 7.0, "previousStatus": "Assigned", "status": "Cancelled", "reason": "customer called",
				"jobId": jobID,
				"assignment": map[string]any{
					"id": assignID, "technicianId": "tech-3",
					"scheduledStart": "2025-03-05T09:00:00.000Z", "scheduledEnd": "2025-03-05T11:30:00.000Z",
					"previousStatus": "Confirmed",
				},
			},
		},
		{
			name:       "job cancelled from InProgress with a pending assignment",
			rec:        jobChange("InProgress", "Cancelled", set("cancelledAssignment", cancelledAssignment("Pending"))),
			detailType: event.TypeJobCancelled, source: event.SourceJobs, eventID: jbID(7), entityID: jobID,
			detail: map[string]any{
				"eventId": jbID(7), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{"candidate"}},
				"version": 7.0, "previousStatus": "InProgress", "status": "Cancelled",
				"jobId": jobID,
				"assignment": map[string]any{
					"id": assignID, "technicianId": "tech-3",
					"scheduledStart": "2025-03-05T09:00:00.000Z", "scheduledEnd": "2025-03-05T11:30:00.000Z",
					"previousStatus": "Pending",
				},
			},
		},
		{
			name:       "job cancelled without an assignment",
			rec:        jobChange("Unassigned", "Cancelled", del("assignmentId")),
			detailType: event.TypeJobCancelled, source: event.SourceJobs, eventID: jbID(7), entityID: jobID,
			detail: map[string]any{
				"eventId": jbID(7), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{"candidate"}},
				"version": 7.0, "previousStatus": "Unassigned", "status": "Cancelled",
				"jobId": jobID,
			},
		},
		{
			name:       "job cancelled with a null cancelledAssignment",
			rec:        jobChange("Unassigned", "Cancelled", set("cancelledAssignment", events.NewNullAttribute())),
			detailType: event.TypeJobCancelled, source: event.SourceJobs, eventID: jbID(7), entityID: jobID,
			detail: map[string]any{
				"eventId": jbID(7), "occurredAt": newAt, "correlationId": "corr-1",
				"actor":   map[string]any{"sub": owner, "roles": []any{"candidate"}},
				"version": 7.0, "previousStatus": "Unassigned", "status": "Cancelled",
				"jobId": jobID,
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, ok, err := derive(t, c.rec)
			if err != nil || !ok {
				t.Fatalf("Derive = ok %v, err %v; want an event", ok, err)
			}
			if e.Source != c.source || e.DetailType != c.detailType || e.EventID != c.eventID || e.EntityID != c.entityID {
				t.Errorf("Derive = Source %q DetailType %q EventID %q EntityID %q; want %q %q %q %q",
					e.Source, e.DetailType, e.EventID, e.EntityID, c.source, c.detailType, c.eventID, c.entityID)
			}
			if !e.Time.Equal(newTime) {
				t.Errorf("Time = %v, want updatedAt %v", e.Time, newTime)
			}
			var got map[string]any
			if err := json.Unmarshal(e.Detail, &got); err != nil {
				t.Fatalf("Detail is not JSON: %v\n%s", err, e.Detail)
			}
			if !reflect.DeepEqual(got, c.detail) {
				t.Errorf("Detail =\n%s\nwant\n%s", e.Detail, mustJSON(c.detail))
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(e.Detail))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch[e.DetailType].Validate(inst); err != nil {
				t.Errorf("Detail does not validate against schemas/%s.json: %v\n%s", e.DetailType, err, e.Detail)
			}
			if _, err := event.Decode(e.DetailType, e.Detail); err != nil {
				t.Errorf("event.Decode: %v", err)
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestDeriveIgnores(t *testing.T) {
	session := sessionItem(sessionID, "active", 2, oldAt)
	assignment := attrs{
		"pk": s("JOB#" + jobID), "sk": s("ASSIGNMENT#" + assignID), "type": s("assignment"), "id": s(assignID),
		"jobId": s(jobID), "technicianId": s("tech-3"), "status": s("Confirmed"), "version": n("2"), "updatedAt": s(oldAt),
	}
	audit := attrs{"pk": s("AUDIT#x"), "sk": s("AUDIT"), "type": s("audit"), "id": s("x"), "status": s("a"), "version": n("1"), "updatedAt": s(oldAt)}
	// A request's record (shared/dynamo/requests.go): put beside the entity by every
	// transition, put again over an expired one, deleted by TTL.
	request := func(version string) attrs {
		return attrs{"pk": s("INTERVIEW#" + sessionID), "sk": s("REQUEST#abc"), "type": s("request"), "request": s("abcdef"),
			"version": n(version), "appliedAt": s(oldAt), "expiresAt": n("1796000000")}
	}
	cases := []struct {
		name string
		rec  events.DynamoDBEventRecord
	}{
		{"interview completed by another writer (no complete action)", interviewChange("active", "completed")},
		{"interview cancelled by another writer (no action recorded)", interviewChange("active", "cancelled", del("lastAction"))},
		{"a pause's action on a change no pause makes", interviewChange("completed", "paused")},
		{"job cancelled by another writer (no action recorded)", jobChange("Assigned", "Cancelled", del("lastAction"))},
		{"interview back to active but not from paused", interviewChange("completed", "active")},
		{"interview unchanged status", record("MODIFY", "1", session, transition(session, "active", "", set("progress", n("50"))))},
		{"another writer's change after a recorded interaction (record's action, version unmoved)", record("MODIFY", "1",
			transition(session, "active", "record"), transition(session, "active", "record", set("progress", n("70"))))},
		{"a pause's action on an unchanged status", record("MODIFY", "1", session, transition(session, "active", "pause"))},
		{"job unchanged status by another writer", func() events.DynamoDBEventRecord {
			old := jobItem(jobID, "Assigned", 6, oldAt)
			return record("MODIFY", "1", old, transition(old, "Assigned", "schedule"))
		}()},
		{"interview insert (loaded, not created through the API)", record("INSERT", "1", nil, sessionItem(sessionID, "active", 1, oldAt))},
		{"job insert without a create action (loaded, not created through the API)", record("INSERT", "1", nil, jobItem(jobID, "Unassigned", 1, oldAt))},
		{"interview insert cancelled", record("INSERT", "1", nil, sessionItem(sessionID, "cancelled", 1, oldAt))},
		{"interview remove", record("REMOVE", "1", sessionItem(sessionID, "cancelled", 3, oldAt), nil)},
		{"job remove", record("REMOVE", "1", jobItem(jobID, "Cancelled", 3, oldAt), nil)},
		{"assignment cancelled", record("MODIFY", "1", assignment, transition(assignment, "Cancelled", "cancel"))},
		{"audit item modified", record("MODIFY", "1", audit, transition(audit, "b", ""))},
		{"a request's record put", record("INSERT", "1", nil, request("3"))},
		{"a request's record put over an expired one", record("MODIFY", "1", request("3"), request("9"))},
		{"a request's record expired (TTL)", record("REMOVE", "1", request("3"), nil)},
		{"job assigned to in progress", jobChange("Assigned", "InProgress")},
		{"job unassigned to assigned", jobChange("Unassigned", "Assigned")},
		{"job completed", jobChange("InProgress", "Completed")},
		{"empty event name", func() events.DynamoDBEventRecord {
			r := interviewChange("active", "cancelled")
			r.EventName = ""
			return r
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, ok, err := derive(t, c.rec)
			if ok || err != nil {
				t.Errorf("Derive = %+v, ok %v, err %v; want ignored (ok false, err nil)", e, ok, err)
			}
		})
	}
}

func TestDeriveErrors(t *testing.T) {
	cases := []struct {
		name string
		rec  events.DynamoDBEventRecord
	}{
		{"new status a number", interviewChange("active", "cancelled", set("status", n("3")))},
		{"old status a number", func() events.DynamoDBEventRecord {
			r := interviewChange("active", "cancelled")
			r.Change.OldImage["status"] = n("1")
			return r
		}()},
		{"type a number", interviewChange("active", "cancelled", set("type", n("1")))},
		{"version a string", interviewChange("active", "cancelled", set("version", s("3")))},
		{"version not an integer", interviewChange("active", "paused", set("version", n("3.5")))},
		{"version missing", interviewChange("active", "cancelled", del("version"))},
		{"version zero", interviewChange("active", "cancelled", set("version", n("0")))},
		{"updatedAt not a timestamp", interviewChange("active", "paused", set("updatedAt", s("yesterday")))},
		{"updatedAt a number", interviewChange("active", "paused", set("updatedAt", n("1741064767")))},
		{"updatedAt missing", interviewChange("paused", "active", del("updatedAt"))},
		{"actor a string", interviewChange("active", "cancelled", set("actor", s(owner)))},
		{"actor missing", interviewChange("active", "cancelled", del("actor"))},
		{"actor without a sub", jobChange("Assigned", "Cancelled", set("actor", events.NewMapAttribute(attrs{"roles": list("Admin")})))},
		{"actor a list", interviewChange("active", "cancelled", set("actor", list(owner)))},
		{"actor sub a number", interviewChange("active", "cancelled", set("actor", events.NewMapAttribute(attrs{"sub": n("1")})))},
		{"roles with a number", interviewChange("active", "cancelled", set("actor", events.NewMapAttribute(attrs{
			"sub": s(owner), "roles": events.NewListAttribute([]events.DynamoDBAttributeValue{s("a"), n("1")}),
		})))},
		{"roles a string", interviewChange("active", "cancelled", set("actor", events.NewMapAttribute(attrs{"sub": s(owner), "roles": s("admin")})))},
		{"id missing", interviewChange("active", "cancelled", del("id"))},
		{"id a number", interviewChange("active", "cancelled", set("id", n("7")))},
		{"ownerId a number", interviewChange("active", "cancelled", set("ownerId", n("7")))},
		{"cancelReason a number", interviewChange("active", "cancelled", set("cancelReason", n("7")))},
		{"correlationId a map", interviewChange("active", "paused", set("correlationId", events.NewMapAttribute(attrs{})))},
		{"job id missing", jobChange("Assigned", "Cancelled", del("id"))},
		{"job version a string", jobChange("Assigned", "Cancelled", set("version", s("7")))},
		{"job cancelledAssignment a string", jobChange("Assigned", "Cancelled", set("cancelledAssignment", s(assignID)))},
		{"job cancelledAssignment bad start", jobChange("Assigned", "Cancelled", set("cancelledAssignment", events.NewMapAttribute(attrs{
			"id": s(assignID), "technicianId": s("tech-3"), "scheduledStart": s("soon"), "scheduledEnd": s("2025-03-05T11:30:00.000Z"), "status": s("Pending"),
		})))},
		{"job cancelledAssignment status a number", jobChange("Assigned", "Cancelled", set("cancelledAssignment", events.NewMapAttribute(attrs{
			"id": s(assignID), "technicianId": s("tech-3"), "scheduledStart": s("2025-03-05T09:00:00.000Z"), "scheduledEnd": s("2025-03-05T11:30:00.000Z"), "status": n("1"),
		})))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, ok, err := derive(t, c.rec)
			if err == nil {
				t.Fatalf("Derive = %+v, ok %v, nil error; want an error", e, ok)
			}
			if ok {
				t.Errorf("Derive returned ok with error %v", err)
			}
		})
	}
}

func TestDeriveEventIDFollowsVersion(t *testing.T) {
	a, _, errA := derive(t, interviewChange("active", "paused"))
	b, _, errB := derive(t, interviewChange("active", "paused"))
	c, _, errC := derive(t, interviewChange("active", "paused", set("version", n("4"))))
	if err := errors.Join(errA, errB, errC); err != nil {
		t.Fatal(err)
	}
	if a.EventID != b.EventID {
		t.Errorf("the same record gives event ids %q and %q", a.EventID, b.EventID)
	}
	if a.EventID == c.EventID {
		t.Errorf("versions 3 and 4 give the same event id %q", a.EventID)
	}
	if c.EventID != event.ID("interview", sessionID, 4) {
		t.Errorf("EventID = %q, want event.ID(interview, %s, 4)", c.EventID, sessionID)
	}
	var d struct {
		EventID string `json:"eventId"`
	}
	if err := json.Unmarshal(c.Detail, &d); err != nil || d.EventID != c.EventID {
		t.Errorf("detail eventId = %q (%v), want %q", d.EventID, err, c.EventID)
	}
}

// --- Publisher ---

const bus = "lifecycle-bus"

// fakeEB records each PutEvents call.
type fakeEB struct {
	calls [][]types.PutEventsRequestEntry
	// errOnCall fails call n (1-based) with an error.
	errOnCall int
	// entryErrors gives, per call, the entry indexes EventBridge rejects.
	entryErrors map[int][]int
	// failedCount overrides FailedEntryCount per call.
	failedCount map[int]int32
	// truncate drops the last result entries per call.
	truncate map[int]int
}

func (f *fakeEB) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.calls = append(f.calls, append([]types.PutEventsRequestEntry(nil), in.Entries...))
	call := len(f.calls)
	if call == f.errOnCall {
		return nil, errors.New("ThrottlingException: rate exceeded")
	}
	out := &eventbridge.PutEventsOutput{}
	for i := range in.Entries {
		r := types.PutEventsResultEntry{EventId: aws.String(fmt.Sprintf("eb-%d-%d", call, i))}
		for _, bad := range f.entryErrors[call] {
			if bad == i {
				r = types.PutEventsResultEntry{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")}
				out.FailedEntryCount++
			}
		}
		out.Entries = append(out.Entries, r)
	}
	if c, ok := f.failedCount[call]; ok {
		out.FailedEntryCount = c
	}
	if k := f.truncate[call]; k > 0 {
		out.Entries = out.Entries[:len(out.Entries)-k]
	}
	return out, nil
}

func (f *fakeEB) sizes() []int {
	var out []int
	for _, c := range f.calls {
		out = append(out, len(c))
	}
	return out
}

func seqOf(i int) string { return fmt.Sprintf("%021d", 1000+i) }

// statusRecords returns count records that each publish an event, cycling through the
// four detail-types, with sequence numbers seqOf(first...).
func statusRecords(first, count int) []events.DynamoDBEventRecord {
	var out []events.DynamoDBEventRecord
	for i := first; i < first+count; i++ {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		seq := seqOf(i)
		var r events.DynamoDBEventRecord
		switch i % 4 {
		case 0:
			r = interviewChangeOf(id, seq, "active", "paused")
		case 1:
			r = interviewChangeOf(id, seq, "paused", "active")
		case 2:
			r = interviewChangeOf(id, seq, "active", "cancelled", set("cancelReason", s("reason "+id)))
		default:
			r = jobChangeOf(id, seq, "Assigned", "Cancelled", set("cancelledAssignment", cancelledAssignment("Pending")))
		}
		// Distinct times, to check each entry's Time is its own record's.
		r.Change.NewImage["updatedAt"] = s(newTime.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000Z"))
		out = append(out, r)
	}
	return out
}

// noise returns records that publish nothing.
func noise(seq string) []events.DynamoDBEventRecord {
	sess := sessionItem(sessionID, "active", 2, oldAt)
	return []events.DynamoDBEventRecord{
		record("INSERT", seq+"a", nil, sessionItem(sessionID, "active", 1, oldAt)),
		record("MODIFY", seq+"b", sess, transition(sess, "active", "", set("progress", n("90")))),
		interviewChangeOf(sessionID, seq+"c", "active", "completed"),
		record("REMOVE", seq+"d", jobItem(jobID, "Cancelled", 9, oldAt), nil),
		jobChangeOf(jobID, seq+"e", "Assigned", "InProgress"),
	}
}

func publisher(f *fakeEB) *Publisher {
	return NewPublisher(f, bus, slog.New(slog.DiscardHandler))
}

func handle(t *testing.T, p *Publisher, recs []events.DynamoDBEventRecord) events.DynamoDBEventResponse {
	t.Helper()
	resp, err := p.Handle(context.Background(), events.DynamoDBEvent{Records: recs})
	if err != nil {
		t.Fatalf("Handle returned error %v; it must report failures in the response only", err)
	}
	return resp
}

// checkCalls asserts the calls carried exactly the events of want, call by call, in order.
func checkCalls(t *testing.T, f *fakeEB, want ...[]events.DynamoDBEventRecord) {
	t.Helper()
	if len(f.calls) != len(want) {
		t.Fatalf("%d PutEvents calls of sizes %v, want %d", len(f.calls), f.sizes(), len(want))
	}
	for c, recs := range want {
		got := f.calls[c]
		if len(got) != len(recs) {
			t.Errorf("call %d has %d entries, want %d", c+1, len(got), len(recs))
			continue
		}
		for i, r := range recs {
			e, ok, err := Derive(r)
			if !ok || err != nil {
				t.Fatalf("test record %s does not derive: %v", r.Change.SequenceNumber, err)
			}
			g := got[i]
			if aws.ToString(g.EventBusName) != bus {
				t.Errorf("call %d entry %d EventBusName = %q, want %q", c+1, i, aws.ToString(g.EventBusName), bus)
			}
			if aws.ToString(g.Source) != e.Source || aws.ToString(g.DetailType) != e.DetailType || aws.ToString(g.Detail) != string(e.Detail) {
				t.Errorf("call %d entry %d = %s %s %s, want record %s: %s %s %s", c+1, i,
					aws.ToString(g.Source), aws.ToString(g.DetailType), aws.ToString(g.Detail),
					r.Change.SequenceNumber, e.Source, e.DetailType, e.Detail)
			}
			if g.Time == nil || !g.Time.Equal(e.Time) {
				t.Errorf("call %d entry %d Time = %v, want occurredAt %v", c+1, i, g.Time, e.Time)
			}
		}
	}
}

func checkFailure(t *testing.T, resp events.DynamoDBEventResponse, seq string) {
	t.Helper()
	if seq == "" {
		if len(resp.BatchItemFailures) != 0 {
			t.Errorf("BatchItemFailures = %+v, want none", resp.BatchItemFailures)
		}
		return
	}
	want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: seq}}
	if !reflect.DeepEqual(resp.BatchItemFailures, want) {
		t.Errorf("BatchItemFailures = %+v, want %+v", resp.BatchItemFailures, want)
	}
}

func TestHandleBatchesInOrder(t *testing.T) {
	recs := statusRecords(0, 25)
	f := &fakeEB{}
	resp := handle(t, publisher(f), recs)
	checkFailure(t, resp, "")
	checkCalls(t, f, recs[0:10], recs[10:20], recs[20:25])
	if !reflect.DeepEqual(f.sizes(), []int{10, 10, 5}) {
		t.Errorf("call sizes = %v, want [10 10 5]", f.sizes())
	}
	// Each entry's Time is its record's updatedAt.
	for i, e := range f.calls[1] {
		want := newTime.Add(time.Duration(10+i) * time.Second)
		if !e.Time.Equal(want) {
			t.Errorf("call 2 entry %d Time = %v, want %v", i, e.Time, want)
		}
	}
}

func TestHandleBatchSizes(t *testing.T) {
	cases := []struct {
		count int
		sizes []int
	}{
		{1, []int{1}},
		{9, []int{9}},
		{10, []int{10}},
		{11, []int{10, 1}},
		{20, []int{10, 10}},
		{21, []int{10, 10, 1}},
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.count), func(t *testing.T) {
			f := &fakeEB{}
			checkFailure(t, handle(t, publisher(f), statusRecords(0, c.count)), "")
			if !reflect.DeepEqual(f.sizes(), c.sizes) {
				t.Errorf("call sizes = %v, want %v", f.sizes(), c.sizes)
			}
		})
	}
}

func TestHandleSkipsNonStatusRecords(t *testing.T) {
	status := statusRecords(0, 25)
	var recs []events.DynamoDBEventRecord
	for i, r := range status {
		recs = append(recs, noise(fmt.Sprintf("n%02d", i))[i%5])
		recs = append(recs, r)
		if i%3 == 0 {
			recs = append(recs, noise(fmt.Sprintf("m%02d", i))...)
		}
	}
	f := &fakeEB{}
	checkFailure(t, handle(t, publisher(f), recs), "")
	checkCalls(t, f, status[0:10], status[10:20], status[20:25])
}

func TestHandleEmpty(t *testing.T) {
	for name, recs := range map[string][]events.DynamoDBEventRecord{
		"nil":        nil,
		"empty":      {},
		"noise only": noise("x"),
	} {
		t.Run(name, func(t *testing.T) {
			f := &fakeEB{}
			resp := handle(t, publisher(f), recs)
			checkFailure(t, resp, "")
			if len(f.calls) != 0 {
				t.Errorf("%d PutEvents calls, want none", len(f.calls))
			}
		})
	}
}

func TestHandleFailures(t *testing.T) {
	recs := statusRecords(0, 25)
	broken := func(i int, m mod) []events.DynamoDBEventRecord {
		out := statusRecords(0, 25)
		m(out[i].Change.NewImage)
		return out
	}
	cases := []struct {
		name    string
		fake    *fakeEB
		recs    []events.DynamoDBEventRecord
		failure string
		calls   [][]events.DynamoDBEventRecord
	}{
		{
			name: "call 2 fails", fake: &fakeEB{errOnCall: 2}, recs: recs,
			failure: seqOf(10), calls: [][]events.DynamoDBEventRecord{recs[0:10], recs[10:20]},
		},
		{
			name: "call 1 fails", fake: &fakeEB{errOnCall: 1}, recs: recs,
			failure: seqOf(0), calls: [][]events.DynamoDBEventRecord{recs[0:10]},
		},
		{
			name: "last, partial call fails", fake: &fakeEB{errOnCall: 3}, recs: recs,
			failure: seqOf(20), calls: [][]events.DynamoDBEventRecord{recs[0:10], recs[10:20], recs[20:25]},
		},
		{
			name: "entry 3 of call 1 rejected", fake: &fakeEB{entryErrors: map[int][]int{1: {3}}}, recs: recs,
			failure: seqOf(3), calls: [][]events.DynamoDBEventRecord{recs[0:10]},
		},
		{
			name: "entries 5 and 2 of call 2 rejected", fake: &fakeEB{entryErrors: map[int][]int{2: {5, 2}}}, recs: recs,
			failure: seqOf(12), calls: [][]events.DynamoDBEventRecord{recs[0:10], recs[10:20]},
		},
		{
			name: "last entry of the last call rejected", fake: &fakeEB{entryErrors: map[int][]int{3: {4}}}, recs: recs,
			failure: seqOf(24), calls: [][]events.DynamoDBEventRecord{recs[0:10], recs[10:20], recs[20:25]},
		},
		{
			name: "FailedEntryCount without error codes", fake: &fakeEB{failedCount: map[int]int32{2: 1}}, recs: recs,
			failure: seqOf(10), calls: [][]events.DynamoDBEventRecord{recs[0:10], recs[10:20]},
		},
		{
			name: "fewer result entries than sent", fake: &fakeEB{truncate: map[int]int{1: 1}}, recs: recs,
			failure: seqOf(0), calls: [][]events.DynamoDBEventRecord{recs[0:10]},
		},
		{
			name: "broken record 5 flushes 0-4 first", fake: &fakeEB{}, recs: broken(5, set("version", s("x"))),
			failure: seqOf(5), calls: [][]events.DynamoDBEventRecord{recs[0:5]},
		},
		{
			name: "broken record 12 after a full call", fake: &fakeEB{}, recs: broken(12, set("updatedAt", s("never"))),
			failure: seqOf(12), calls: [][]events.DynamoDBEventRecord{recs[0:10], recs[10:12]},
		},
		{
			name: "broken record 10 right after a full call", fake: &fakeEB{}, recs: broken(10, set("actor", s(owner))),
			failure: seqOf(10), calls: [][]events.DynamoDBEventRecord{recs[0:10]},
		},
		{
			name: "broken first record", fake: &fakeEB{}, recs: broken(0, del("id")),
			failure: seqOf(0), calls: nil,
		},
		{
			name: "flush before a broken record fails", fake: &fakeEB{errOnCall: 2}, recs: broken(15, set("status", n("2"))),
			failure: seqOf(10), calls: [][]events.DynamoDBEventRecord{recs[0:10], recs[10:15]},
		},
		{
			name: "entry rejected in the flush before a broken record", fake: &fakeEB{entryErrors: map[int][]int{1: {1}}}, recs: broken(4, set("version", s("x"))),
			failure: seqOf(1), calls: [][]events.DynamoDBEventRecord{recs[0:4]},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := handle(t, publisher(c.fake), c.recs)
			checkFailure(t, resp, c.failure)
			checkCalls(t, c.fake, c.calls...)
		})
	}
}

// A failed call's first record is reported even when non-status records precede it in
// the batch.
func TestHandleFailureIgnoresNoise(t *testing.T) {
	status := statusRecords(0, 12)
	var recs []events.DynamoDBEventRecord
	for i, r := range status {
		recs = append(recs, noise(fmt.Sprintf("n%02d", i))...)
		recs = append(recs, r)
	}
	f := &fakeEB{errOnCall: 2}
	checkFailure(t, handle(t, publisher(f), recs), seqOf(10))
	checkCalls(t, f, status[0:10], status[10:12])
}
