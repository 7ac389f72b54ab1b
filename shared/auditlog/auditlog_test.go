package auditlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/event"
)

const (
	sessionID = "3f1c2a4e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
	jobID     = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	assignID  = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
)

var (
	occurred = time.Date(2025, 3, 4, 5, 6, 7, 123e6, time.UTC)
	received = time.Date(2025, 3, 4, 5, 6, 9, 0, time.UTC)
)

// memStore is an in-memory Store keyed by EventID.
type memStore struct {
	mu      sync.Mutex
	records map[string]Record
	puts    int
	// failIDs makes Put fail for these event ids; failAll for every one.
	failIDs map[string]bool
	failAll bool
}

func newStore() *memStore { return &memStore{records: map[string]Record{}, failIDs: map[string]bool{}} }

func (m *memStore) Put(_ context.Context, r Record) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts++
	if m.failAll || m.failIDs[r.EventID] {
		return false, errors.New("ProvisionedThroughputExceededException")
	}
	if _, ok := m.records[r.EventID]; ok {
		return false, nil
	}
	r.Detail = bytes.Clone(r.Detail)
	m.records[r.EventID] = r
	return true, nil
}

func interviewDetail(v int64, from, to, reason string) event.Interview {
	return event.Interview{
		Transition: event.Transition{
			EventID:        event.ID("interview", sessionID, v),
			OccurredAt:     event.Time{Time: occurred},
			CorrelationID:  fmt.Sprintf("corr-i-%d", v),
			Actor:          event.Actor{Sub: "user-1", Roles: []string{"candidate"}},
			Version:        v,
			PreviousStatus: from,
			Status:         to,
			Reason:         reason,
		},
		SessionID: sessionID,
		OwnerID:   "user-1",
	}
}

func jobDetail(v int64, withAssignment bool) event.Job {
	j := event.Job{
		Transition: event.Transition{
			EventID:        event.ID("job", jobID, v),
			OccurredAt:     event.Time{Time: occurred.Add(time.Minute)},
			Actor:          event.Actor{Sub: "dispatcher-9", Roles: []string{"dispatcher"}},
			Version:        v,
			PreviousStatus: "Assigned",
			Status:         "Cancelled",
		},
		JobID: jobID,
	}
	if withAssignment {
		j.CorrelationID = "corr-j"
		j.Assignment = &event.Assignment{
			ID: assignID, TechnicianID: "tech-3", PreviousStatus: "Confirmed",
			ScheduledStart: event.Time{Time: time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)},
			ScheduledEnd:   event.Time{Time: time.Date(2025, 3, 5, 11, 30, 0, 0, time.UTC)},
		}
	}
	return j
}

// body is an EventBridge envelope as an SQS rule target receives it.
func body(t *testing.T, detailType, source string, detail any) (string, []byte) {
	t.Helper()
	d, err := json.Marshal(detail)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]any{
		"version":     "0",
		"id":          fmt.Sprintf("eb-%x", len(d)),
		"detail-type": detailType,
		"source":      source,
		"account":     "123456789012",
		"time":        "2025-03-04T05:06:08Z",
		"region":      "eu-west-1",
		"resources":   []string{},
		"detail":      json.RawMessage(d),
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), d
}

func msg(id, body string) events.SQSMessage {
	return events.SQSMessage{
		MessageId:      id,
		ReceiptHandle:  "rh-" + id,
		Body:           body,
		EventSource:    "aws:sqs",
		EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:audit",
		AWSRegion:      "eu-west-1",
	}
}

func run(t *testing.T, store Store, msgs ...events.SQSMessage) events.SQSEventResponse {
	t.Helper()
	h := Handler(slog.New(slog.DiscardHandler), store, func() time.Time { return received })
	resp, err := h(context.Background(), events.SQSEvent{Records: msgs})
	if err != nil {
		t.Fatalf("handler returned error %v; failures belong in the response", err)
	}
	return resp
}

func failedIDs(resp events.SQSEventResponse) []string {
	out := []string{}
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

func TestHandlerRecordsEachEvent(t *testing.T) {
	type want struct {
		rec    Record
		detail []byte
	}
	var msgs []events.SQSMessage
	var wants []want
	add := func(detailType, source string, detail any, entity string, tr event.Transition) {
		b, d := body(t, detailType, source, detail)
		msgs = append(msgs, msg(fmt.Sprintf("m%d", len(msgs)+1), b))
		wants = append(wants, want{rec: Record{
			EventID: tr.EventID, DetailType: detailType, Source: source, EntityID: entity,
			OccurredAt: tr.OccurredAt.Time, ReceivedAt: received, CorrelationID: tr.CorrelationID, ActorSub: tr.Actor.Sub,
		}, detail: d})
	}
	cancelled := interviewDetail(2, "active", "cancelled", "no time")
	paused := interviewDetail(3, "active", "paused", "")
	resumed := interviewDetail(4, "paused", "active", "")
	resumed.CorrelationID = ""
	withAssign, without := jobDetail(7, true), jobDetail(8, false)
	add(event.TypeInterviewCancelled, event.SourceInterviews, cancelled, sessionID, cancelled.Transition)
	add(event.TypeInterviewPaused, event.SourceInterviews, paused, sessionID, paused.Transition)
	add(event.TypeInterviewResumed, event.SourceInterviews, resumed, sessionID, resumed.Transition)
	add(event.TypeJobCancelled, event.SourceJobs, withAssign, jobID, withAssign.Transition)
	add(event.TypeJobCancelled, event.SourceJobs, without, jobID, without.Transition)

	store := newStore()
	resp := run(t, store, msgs...)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("BatchItemFailures = %v, want none", failedIDs(resp))
	}
	if store.puts != len(msgs) || len(store.records) != len(msgs) {
		t.Errorf("%d puts, %d records; want %d of each", store.puts, len(store.records), len(msgs))
	}
	for _, w := range wants {
		got, ok := store.records[w.rec.EventID]
		if !ok {
			t.Errorf("event %s (%s) not recorded", w.rec.EventID, w.rec.DetailType)
			continue
		}
		if !bytes.Equal(got.Detail, w.detail) {
			t.Errorf("%s Detail = %s, want the raw detail %s", w.rec.DetailType, got.Detail, w.detail)
		}
		if !got.OccurredAt.Equal(w.rec.OccurredAt) || !got.ReceivedAt.Equal(w.rec.ReceivedAt) {
			t.Errorf("%s OccurredAt %v ReceivedAt %v, want %v %v", w.rec.DetailType, got.OccurredAt, got.ReceivedAt, w.rec.OccurredAt, w.rec.ReceivedAt)
		}
		got.Detail, got.OccurredAt, got.ReceivedAt = nil, time.Time{}, time.Time{}
		w.rec.OccurredAt, w.rec.ReceivedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, w.rec) {
			t.Errorf("record =\n%+v\nwant\n%+v", got, w.rec)
		}
	}
}

func TestHandlerAcknowledgesDuplicates(t *testing.T) {
	d := interviewDetail(2, "active", "cancelled", "")
	b, raw := body(t, event.TypeInterviewCancelled, event.SourceInterviews, d)
	other, _ := body(t, event.TypeJobCancelled, event.SourceJobs, jobDetail(7, true))

	store := newStore()
	t.Run("twice in one batch", func(t *testing.T) {
		resp := run(t, store, msg("a", b), msg("b", other), msg("c", b))
		if len(resp.BatchItemFailures) != 0 {
			t.Errorf("BatchItemFailures = %v, want none", failedIDs(resp))
		}
	})
	t.Run("again in a later batch", func(t *testing.T) {
		resp := run(t, store, msg("d", b))
		if len(resp.BatchItemFailures) != 0 {
			t.Errorf("BatchItemFailures = %v, want none", failedIDs(resp))
		}
	})
	if len(store.records) != 2 {
		t.Errorf("%d records, want 2 (one per event id)", len(store.records))
	}
	if r := store.records[d.EventID]; !bytes.Equal(r.Detail, raw) || r.EntityID != sessionID {
		t.Errorf("record = %+v", r)
	}
}

func TestHandlerFailuresAreIsolated(t *testing.T) {
	first, _ := body(t, event.TypeInterviewPaused, event.SourceInterviews, interviewDetail(3, "active", "paused", ""))
	last, _ := body(t, event.TypeJobCancelled, event.SourceJobs, jobDetail(7, false))
	goodIDs := []string{event.ID("interview", sessionID, 3), event.ID("job", jobID, 7)}

	noID := interviewDetail(5, "active", "cancelled", "")
	noID.EventID = ""
	noIDBody, _ := body(t, event.TypeInterviewCancelled, event.SourceInterviews, noID)
	noIDJob := jobDetail(9, true)
	noIDJob.EventID = ""
	noIDJobBody, _ := body(t, event.TypeJobCancelled, event.SourceJobs, noIDJob)
	unknown, _ := body(t, "InterviewArchived", event.SourceInterviews, interviewDetail(6, "active", "completed", ""))
	wrongSource, _ := body(t, event.TypeJobCancelled, event.SourceInterviews, jobDetail(10, false))
	storeFails := interviewDetail(11, "paused", "active", "")
	storeFailsBody, _ := body(t, event.TypeInterviewResumed, event.SourceInterviews, storeFails)

	cases := []struct {
		name, body string
		failIDs    []string
	}{
		{"malformed body", `{"detail-type":"InterviewPaused","source":`, nil},
		{"not JSON", `hello`, nil},
		{"empty body", ``, nil},
		{"unknown detail-type", unknown, nil},
		{"detail-type from the wrong source", wrongSource, nil},
		{"malformed detail", `{"detail-type":"InterviewPaused","source":"lifecycle.interviews","detail":{"version":"3"}}`, nil},
		{"no detail", `{"detail-type":"InterviewPaused","source":"lifecycle.interviews"}`, nil},
		{"empty eventId", noIDBody, nil},
		{"empty eventId on a job", noIDJobBody, nil},
		{"detail without eventId", `{"detail-type":"JobCancelled","source":"lifecycle.jobs","detail":{"jobId":"` + jobID + `","version":1}}`, nil},
		{"store error", storeFailsBody, []string{storeFails.EventID}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newStore()
			for _, id := range c.failIDs {
				store.failIDs[id] = true
			}
			resp := run(t, store, msg("ok-1", first), msg("bad", c.body), msg("ok-2", last))
			if got := failedIDs(resp); !slices.Equal(got, []string{"bad"}) {
				t.Errorf("BatchItemFailures = %v, want [bad]", got)
			}
			for _, id := range goodIDs {
				if _, ok := store.records[id]; !ok {
					t.Errorf("event %s of a good message not recorded", id)
				}
			}
			if len(store.records) != len(goodIDs) {
				t.Errorf("%d records, want %d", len(store.records), len(goodIDs))
			}
		})
	}
}

func TestHandlerStoreDown(t *testing.T) {
	a, _ := body(t, event.TypeInterviewPaused, event.SourceInterviews, interviewDetail(3, "active", "paused", ""))
	b, _ := body(t, event.TypeJobCancelled, event.SourceJobs, jobDetail(7, false))
	store := newStore()
	store.failAll = true
	resp := run(t, store, msg("m1", a), msg("m2", b), msg("m3", a))
	if got := failedIDs(resp); !slices.Equal(got, []string{"m1", "m2", "m3"}) {
		t.Errorf("BatchItemFailures = %v, want [m1 m2 m3]", got)
	}
}

func TestHandlerEmptyBatch(t *testing.T) {
	store := newStore()
	resp := run(t, store)
	if len(resp.BatchItemFailures) != 0 || store.puts != 0 {
		t.Errorf("empty batch: failures %v, %d puts; want none", failedIDs(resp), store.puts)
	}
}

func TestHandlerUsesInjectedClock(t *testing.T) {
	b1, _ := body(t, event.TypeInterviewPaused, event.SourceInterviews, interviewDetail(3, "active", "paused", ""))
	b2, _ := body(t, event.TypeInterviewResumed, event.SourceInterviews, interviewDetail(4, "paused", "active", ""))
	store := newStore()
	var calls int
	clock := func() time.Time {
		calls++
		return received.Add(time.Duration(calls) * time.Hour)
	}
	h := Handler(slog.New(slog.DiscardHandler), store, clock)
	if _, err := h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg("m1", b1), msg("m2", b2)}}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{3, 4} {
		r := store.records[event.ID("interview", sessionID, v)]
		if r.ReceivedAt.Before(received.Add(time.Hour)) || r.ReceivedAt.After(received.Add(time.Duration(calls)*time.Hour)) {
			t.Errorf("version %d ReceivedAt = %v, not a time the injected clock returned", v, r.ReceivedAt)
		}
		if !r.OccurredAt.Equal(occurred) {
			t.Errorf("version %d OccurredAt = %v, want %v", v, r.OccurredAt, occurred)
		}
	}
}
