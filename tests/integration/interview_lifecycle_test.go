package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/event"
)

// TestCreateInterviewThroughTheAPI (issue 24): a session starts from nothing but the API.
// Created active at version 1 for its caller, who alone may then act on it; a retry with
// the key, even ten at once, gets the same session and never a second; the key with another
// body is a 422; the create is one InterviewCreated event, whatever the retries.
func TestCreateInterviewThroughTheAPI(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	_ = p.received(t, "AuditQueue")
	carol, bob := s.token(t, "carol"), s.token(t, "bob")
	body := `{"title":"Distributed caches","topicIds":["caching"],"interviewerId":"interviewer-aria","difficulty":4}`

	first := s.do(t, "POST", "/api/interviews", carol, body, "Idempotency-Key", "carol-create-1", "X-Correlation-Id", "create-1")
	if first.status != http.StatusCreated {
		t.Fatalf("create: %d %s", first.status, first.raw)
	}
	id, _ := first.body["id"].(string)
	if first.header.Get("Location") != "/api/interviews/"+id || first.body["status"] != "active" || first.header.Get("ETag") != `"1"` {
		t.Fatalf("create answered %v %s", first.header, first.raw)
	}
	if got := s.do(t, "GET", "/interviews/"+id, carol, ""); got.status != http.StatusOK || got.body["title"] != "Distributed caches" {
		t.Fatalf("the new session reads %d %s", got.status, got.raw)
	}
	if got := s.do(t, "GET", "/interviews/"+id, bob, ""); got.status != http.StatusForbidden {
		t.Errorf("another caller read carol's new session: %d", got.status)
	}

	// Ten retries at once, as a client that lost the first answer might send them.
	var wg sync.WaitGroup
	retries := make([]response, 10)
	for i := range retries {
		wg.Go(func() {
			retries[i] = s.do(t, "POST", "/api/interviews", carol, body, "Idempotency-Key", "carol-create-1")
		})
	}
	wg.Wait()
	for i, r := range retries {
		if r.status != http.StatusCreated || r.body["id"] != id || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry %d: %d %v %s", i, r.status, r.header, r.raw)
		}
	}
	if r := s.do(t, "POST", "/api/interviews", carol, `{"title":"Something else","topicIds":[],"interviewerId":"i"}`, "Idempotency-Key", "carol-create-1"); r.status != http.StatusUnprocessableEntity {
		t.Errorf("the key with another body: %d %s", r.status, r.raw)
	}
	// A day later the key's record has expired (DynamoDB's TTL deletes it): a retry still
	// names the session its key made, and gets it, never a second one.
	recs, err := s.db.Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :req)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv("INTERVIEW#" + id), ":req": sv("REQUEST#")}, ConsistentRead: aws.Bool(true),
	})
	if err != nil || len(recs.Items) != 1 {
		t.Fatalf("%v request records beside the new session (%v), want the create's one", len(recs.Items), err)
	}
	if _, err := s.db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: map[string]types.AttributeValue{"pk": recs.Items[0]["pk"], "sk": recs.Items[0]["sk"]}}); err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "POST", "/api/interviews", carol, body, "Idempotency-Key", "carol-create-1"); r.status != http.StatusCreated || r.body["id"] != id || r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("a retry after the record expired: %d %v %s", r.status, r.header, r.raw)
	}
	list := s.do(t, "GET", "/interviews", carol, "")
	if items, _ := list.body["items"].([]any); len(items) != 1 {
		t.Fatalf("carol has %d sessions after a create and its retries, want 1", len(items))
	}
	if r := s.do(t, "POST", "/interviews/"+id+"/pause", carol, ""); r.status != http.StatusOK || r.body["status"] != "paused" {
		t.Errorf("the owner pauses the new session: %d %s", r.status, r.raw)
	}

	p.drain(t)
	created, d := theOneEvent(t, p, event.TypeInterviewCreated)
	if d.SessionID != id || d.OwnerID != "carol" || d.Version != 1 || d.Status != "active" || d.PreviousStatus != "" || d.Title != "Distributed caches" ||
		d.CorrelationID != "create-1" || d.EventID != event.ID("interview", id, 1) || created.Source != event.SourceInterviews {
		t.Errorf("InterviewCreated %+v from %s", d, created.Source)
	}
}

// TestCompleteInterviewThroughTheAPI (issue 24): a session made through the API is
// completed through it, from active only, with its final score; completed is final (seed
// 000's message for a cancel); the completion is one InterviewCompleted event, with the
// score, and a session another writer marks completed is not announced.
func TestCompleteInterviewThroughTheAPI(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	_ = p.received(t, "AuditQueue")
	dave := s.token(t, "dave")
	made := s.do(t, "POST", "/interviews", dave, `{"title":"Final round","topicIds":[],"interviewerId":"interviewer-ben"}`)
	id, _ := made.body["id"].(string)
	if made.status != http.StatusCreated {
		t.Fatalf("create: %d %s", made.status, made.raw)
	}
	if r := s.do(t, "POST", "/interviews/"+id+"/pause", dave, ""); r.status != http.StatusOK {
		t.Fatalf("pause: %d", r.status)
	}
	if r := s.do(t, "POST", "/interviews/"+id+"/complete", dave, `{"score":91}`); r.status != http.StatusBadRequest || r.body["currentStatus"] != "paused" {
		t.Errorf("completing a paused session: %d %s", r.status, r.raw)
	}
	if r := s.do(t, "POST", "/interviews/"+id+"/resume", dave, ""); r.status != http.StatusOK {
		t.Fatalf("resume: %d", r.status)
	}
	done := s.do(t, "POST", "/interviews/"+id+"/complete", dave, `{"score":91}`, "X-Correlation-Id", "complete-1")
	if done.status != http.StatusOK || done.body["status"] != "completed" || done.body["score"] != 91.0 || done.body["completedAt"] == nil || done.header.Get("ETag") != `"4"` {
		t.Fatalf("complete: %d %v %s", done.status, done.header, done.raw)
	}
	if r := s.do(t, "POST", "/interviews/"+id+"/cancel", dave, ""); r.status != http.StatusBadRequest || r.body["error"] != "Cannot cancel a completed interview" {
		t.Errorf("cancelling the completed session: %d %s", r.status, r.raw)
	}
	if r := s.do(t, "GET", "/interviews/"+id, dave, ""); r.body["status"] != "completed" || r.body["completedAt"] != done.body["completedAt"] {
		t.Errorf("the completed session reads %s", r.raw)
	}

	p.drain(t)
	_, d := theOneEvent(t, p, event.TypeInterviewCompleted)
	if d.SessionID != id || d.Version != 4 || d.PreviousStatus != "active" || d.Status != "completed" || d.Score == nil || *d.Score != 91 || d.CorrelationID != "complete-1" {
		t.Errorf("InterviewCompleted %+v", d)
	}
}

// theOneEvent reads what the audit queue received and returns the one event of
// detailType among it, with its interview detail; none or several fail the test.
func theOneEvent(t *testing.T, p *pipeline, detailType string) (event.Envelope, event.Interview) {
	t.Helper()
	var got []event.Envelope
	for _, e := range p.received(t, "AuditQueue") {
		if e.DetailType == detailType {
			got = append(got, e)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d %s events, want exactly 1", len(got), detailType)
	}
	var d event.Interview
	if err := json.Unmarshal(got[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	return got[0], d
}
