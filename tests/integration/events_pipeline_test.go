package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/lifecycle-api/lifecycle/shared/auditlog"
	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/eventbus"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/eventplumbing"
	"github.com/lifecycle-api/lifecycle/tools/local/streampoller"
)

// pipeline is a stack's event path: its table stream, the publisher, the bus and queues.
type pipeline struct {
	es      *eventplumbing.Stack
	sqs     *sqs.Client
	poller  *streampoller.Poller
	mu      sync.Mutex
	handler streampoller.Handler // swapped by fault tests
	gaveUp  []events.DynamoDBEventRecord
}

func newPipeline(t *testing.T, s *stack) *pipeline {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.AWS()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := cfntemplate.Load(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{sqs: sqs.NewFromConfig(cfg)}
	p.es, err = eventplumbing.Setup(ctx, tpl, eventbridge.NewFromConfig(cfg), p.sqs, randomName("it")+"-")
	if err != nil {
		t.Fatal(err)
	}
	p.handler = eventbus.NewPublisher(eventbridge.NewFromConfig(cfg), p.es.BusName, discardLogger()).Handle
	desc, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if err != nil {
		t.Fatal(err)
	}
	p.poller = &streampoller.Poller{
		Streams:    dynamodbstreams.NewFromConfig(cfg),
		StreamARN:  aws.ToString(desc.Table.LatestStreamArn),
		BatchSize:  25,
		MaxRetries: 3,
		Logger:     discardLogger(),
		Handler: func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			p.mu.Lock()
			h := p.handler
			p.mu.Unlock()
			return h(ctx, ev)
		},
		OnFailure: func(_ context.Context, recs []events.DynamoDBEventRecord) {
			p.mu.Lock()
			p.gaveUp = append(p.gaveUp, recs...)
			p.mu.Unlock()
		},
	}
	return p
}

// drain runs the poller until the stream has nothing more to hand out.
func (p *pipeline) drain(t *testing.T) {
	t.Helper()
	for range 50 {
		n, err := p.poller.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the stream never ran dry")
}

// received reads every message from a queue (deleting them) and decodes the events.
func (p *pipeline) received(t *testing.T, queue string) []event.Envelope {
	t.Helper()
	var out []event.Envelope
	url := p.es.Queues[queue]
	for empty := 0; empty < 2; {
		r, err := p.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			empty++
			time.Sleep(50 * time.Millisecond)
			continue
		}
		for _, m := range r.Messages {
			env, _, err := event.DecodeEnvelope([]byte(aws.ToString(m.Body)))
			if err != nil {
				t.Fatalf("undecodable event on %s: %v: %s", queue, err, aws.ToString(m.Body))
			}
			out = append(out, env)
			if _, err := p.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// schemas compiles schemas/<DetailType>.json.
func schemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for dt := range event.Types {
		path := filepath.Join(repoRoot(t), "schemas", dt+".json")
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("no schema for %s: %v", dt, err)
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
			t.Fatalf("schema %s: %v", dt, err)
		}
	}
	return out
}

// expected is an event a test made happen, with the item it must describe.
type expected struct {
	detailType, kind, id, corr, reason string
	roles                              []string
	item                               map[string]types.AttributeValue // as the transition left it
}

// snapshot is the item e describes, read right after its transition.
func (s *stack) snapshot(t *testing.T, e *expected) {
	if e.kind == "interview" {
		e.item = s.session(t, e.id)
	} else {
		e.item = s.job(t, e.id)
	}
}

func TestEventsEndToEnd(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t) // loading the demo data publishes nothing
	if got := p.received(t, "AuditQueue"); len(got) != 0 {
		t.Fatalf("loading data published %d events", len(got))
	}

	alice, dana := s.token(t, "alice"), s.token(t, "dana", "Dispatcher")
	var want []expected
	do := func(method, path, tok, body, corr string, status int, exp *expected) {
		t.Helper()
		r := s.do(t, method, path, tok, body, "X-Correlation-Id", corr)
		if r.status != status {
			t.Fatalf("%s %s = %d: %s", method, path, r.status, r.raw)
		}
		if exp != nil {
			exp.corr = corr
			s.snapshot(t, exp)
			want = append(want, *exp)
		}
	}
	do("POST", "/interviews/"+demodata.AliceActive+"/cancel", alice, `{"reason":"Candidate asked to stop"}`, "ev-1", 200,
		&expected{detailType: event.TypeInterviewCancelled, kind: "interview", id: demodata.AliceActive, reason: "Candidate asked to stop"})
	do("POST", "/interviews/"+demodata.AliceActive2+"/pause", alice, "", "ev-2", 200,
		&expected{detailType: event.TypeInterviewPaused, kind: "interview", id: demodata.AliceActive2})
	do("POST", "/interviews/"+demodata.AlicePaused+"/resume", alice, "", "ev-3", 200,
		&expected{detailType: event.TypeInterviewResumed, kind: "interview", id: demodata.AlicePaused})
	do("POST", "/interviews/"+demodata.AliceActive2+"/resume", alice, "", "ev-4", 200,
		&expected{detailType: event.TypeInterviewResumed, kind: "interview", id: demodata.AliceActive2})
	do("POST", "/jobs/"+demodata.JobAssignedConfirmed+"/cancel", dana, `{"reason":"Customer cancelled"}`, "ev-5", 200,
		&expected{detailType: event.TypeJobCancelled, kind: "job", id: demodata.JobAssignedConfirmed, reason: "Customer cancelled", roles: []string{"Dispatcher"}})
	do("POST", "/jobs/"+demodata.JobUnassigned+"/cancel", dana, "", "ev-6", 200,
		&expected{detailType: event.TypeJobCancelled, kind: "job", id: demodata.JobUnassigned, roles: []string{"Dispatcher"}})
	// Refused requests write nothing, so they publish nothing.
	do("POST", "/interviews/"+demodata.AliceCompleted+"/cancel", alice, "", "ev-x1", 400, nil)
	do("POST", "/interviews/"+demodata.BobActive+"/pause", alice, "", "ev-x2", 403, nil)
	do("POST", "/jobs/"+demodata.JobCompleted+"/cancel", dana, "", "ev-x3", 400, nil)
	// A write that does not change a status publishes nothing.
	if _, err := s.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key("INTERVIEW#"+demodata.BobPaused, "INTERVIEW"),
		UpdateExpression: aws.String("SET title = :t"), ExpressionAttributeValues: map[string]types.AttributeValue{":t": sv("Renamed")},
	}); err != nil {
		t.Fatal(err)
	}
	// A function that dies right after its write never answers, but its write is committed,
	// so its event is published all the same.
	if _, _, err := dynamo.NewInterviews(s.db, s.table, time.Now, lifecycle.NewID).Apply(context.Background(), interview.Cancel,
		interview.Request{Request: lifecycle.Request{ID: demodata.BobActive, Actor: lifecycle.Actor{Sub: "bob"}, CorrelationID: "ev-crash"}}); err != nil {
		t.Fatal(err)
	}
	crashed := expected{detailType: event.TypeInterviewCancelled, kind: "interview", id: demodata.BobActive, corr: "ev-crash"}
	s.snapshot(t, &crashed)
	want = append(want, crashed)

	p.drain(t)
	byQueue := map[string][]event.Envelope{
		"InterviewEventsQueue": p.received(t, "InterviewEventsQueue"),
		"JobEventsQueue":       p.received(t, "JobEventsQueue"),
		"AuditQueue":           p.received(t, "AuditQueue"),
	}
	if n := len(byQueue["InterviewEventsQueue"]); n != 5 {
		t.Errorf("interview queue has %d events, want 5", n)
	}
	if n := len(byQueue["JobEventsQueue"]); n != 2 {
		t.Errorf("job queue has %d events, want 2", n)
	}
	audit := byQueue["AuditQueue"]
	if len(audit) != len(want) {
		t.Fatalf("audit queue has %d events, want %d (one per committed transition)", len(audit), len(want))
	}

	sch := schemas(t)
	seen := map[string]bool{}
	for _, env := range audit {
		var d map[string]any
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			t.Fatal(err)
		}
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(env.Detail))
		if err := sch[env.DetailType].Validate(inst); err != nil {
			t.Errorf("%s does not validate against its schema: %v\n%s", env.DetailType, err, env.Detail)
		}
		corr, _ := d["correlationId"].(string)
		i := slices.IndexFunc(want, func(e expected) bool { return e.corr == corr })
		if i < 0 {
			t.Errorf("an event nobody caused: %s", env.Detail)
			continue
		}
		w := want[i]
		if seen[corr] {
			t.Errorf("event for %s delivered twice", corr)
		}
		seen[corr] = true
		checkEvent(t, s, w, env, d)
	}
	for _, w := range want {
		if !seen[w.corr] {
			t.Errorf("no event for %s %s (%s)", w.detailType, w.id, w.corr)
		}
	}
	if len(p.gaveUp) != 0 {
		t.Errorf("%d records given up on", len(p.gaveUp))
	}
}

// checkEvent compares an event with the item it was derived from, field by field.
func checkEvent(t *testing.T, s *stack, w expected, env event.Envelope, d map[string]any) {
	t.Helper()
	it := w.item
	version, _ := strconv.ParseInt(str(it, "version"), 10, 64)
	if env.DetailType != w.detailType || env.Source != event.Types[w.detailType] {
		t.Errorf("%s: detail-type %s source %s", w.corr, env.DetailType, env.Source)
	}
	checks := map[string]any{
		"eventId":        event.ID(w.kind, w.id, version),
		"occurredAt":     str(it, "updatedAt"),
		"correlationId":  w.corr,
		"version":        float64(version),
		"previousStatus": str(it, "previousStatus"),
		"status":         str(it, "status"),
	}
	if w.kind == "interview" {
		checks["sessionId"], checks["ownerId"] = w.id, str(it, "ownerId")
	} else {
		checks["jobId"] = w.id
	}
	for k, v := range checks {
		got := d[k]
		if k == "occurredAt" {
			gt, _ := time.Parse(time.RFC3339Nano, got.(string))
			wt, _ := time.Parse(time.RFC3339Nano, v.(string))
			if !gt.Equal(wt) {
				t.Errorf("%s: occurredAt %v, the write's updatedAt %v", w.corr, got, v)
			}
			continue
		}
		if got != v {
			t.Errorf("%s: %s = %v, want %v", w.corr, k, got, v)
		}
	}
	if got, _ := d["reason"].(string); got != w.reason {
		t.Errorf("%s: reason %q, want %q", w.corr, got, w.reason)
	}
	actor, _ := d["actor"].(map[string]any)
	wantSub := "alice"
	if w.kind == "job" {
		wantSub = "dana"
	}
	if w.id == demodata.BobActive {
		wantSub = "bob"
	}
	if actor["sub"] != wantSub {
		t.Errorf("%s: actor %v", w.corr, actor)
	}
	roles, _ := actor["roles"].([]any)
	if len(roles) != len(w.roles) || (len(w.roles) > 0 && roles[0] != w.roles[0]) {
		t.Errorf("%s: actor roles %v, want %v", w.corr, roles, w.roles)
	}
	if w.detailType == event.TypeJobCancelled {
		a, _ := d["assignment"].(map[string]any)
		if w.id == demodata.JobUnassigned {
			if a != nil {
				t.Errorf("%s: assignment %v on a job that had none", w.corr, a)
			}
			return
		}
		aid := demodata.AssignmentID(w.id, 1)
		stored := s.assignment(t, w.id, aid)
		if a == nil || a["id"] != aid || a["technicianId"] != str(stored, "technicianId") || a["previousStatus"] != "Confirmed" {
			t.Errorf("%s: assignment %v, stored %v", w.corr, a, stored)
			return
		}
		for _, k := range []string{"scheduledStart", "scheduledEnd"} {
			gt, _ := time.Parse(time.RFC3339Nano, a[k].(string))
			wt, _ := time.Parse(time.RFC3339Nano, str(stored, k))
			if !gt.Equal(wt) {
				t.Errorf("%s: assignment %s %v, stored %v", w.corr, k, a[k], str(stored, k))
			}
		}
	}
}

// TestEventsSurviveAnEventBridgeOutage publishes while EventBridge is unreachable: every
// record is reported as a failure, nothing is delivered, nothing is skipped; when
// EventBridge is back the retry delivers each event once, with the id it always had.
func TestEventsSurviveAnEventBridgeOutage(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.poller.MaxRetries = 1000 // the outage outlasts a few polls; nothing must be given up
	p.drain(t)
	cfg, _ := config.AWS()
	down := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) {
		o.BaseEndpoint, o.Retryer = aws.String("http://127.0.0.1:1"), aws.NopRetryer{}
	})
	working := p.handler
	var failures int
	p.handler = func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		resp, err := eventbus.NewPublisher(down, p.es.BusName, discardLogger()).Handle(ctx, ev)
		failures += len(resp.BatchItemFailures)
		return resp, err
	}

	alice := s.token(t, "alice")
	ids := []string{demodata.AliceActive, demodata.AliceActive2, demodata.AliceActive3}
	for _, id := range ids {
		if r := s.do(t, http.MethodPost, "/interviews/"+id+"/pause", alice, ""); r.status != 200 {
			t.Fatalf("pause %s: %d", id, r.status)
		}
	}
	for range 3 {
		if _, err := p.poller.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if failures == 0 {
		t.Fatal("the publisher reported no failure while EventBridge was down")
	}
	if got := p.received(t, "InterviewEventsQueue"); len(got) != 0 {
		t.Fatalf("%d events delivered during the outage", len(got))
	}

	p.mu.Lock()
	p.handler = working
	p.mu.Unlock()
	p.drain(t)
	got := p.received(t, "InterviewEventsQueue")
	if len(got) != len(ids) {
		t.Fatalf("%d events after the outage, want %d", len(got), len(ids))
	}
	for _, env := range got {
		var d event.Interview
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.EventID != event.ID("interview", d.SessionID, 2) || !slices.Contains(ids, d.SessionID) || env.DetailType != event.TypeInterviewPaused {
			t.Errorf("unexpected event after the outage: %s", env.Detail)
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return id == d.SessionID })
	}
	if len(ids) != 0 || len(p.gaveUp) != 0 {
		t.Errorf("missing %v, gave up on %d", ids, len(p.gaveUp))
	}
}

// TestRecordsThatKeepFailingGoToTheFailureDestination: after the retries, records the
// publisher cannot publish go to the on-failure destination; the shard moves on.
func TestRecordsThatKeepFailingGoToTheFailureDestination(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	p.poller.MaxRetries = 2
	cfg, _ := config.AWS()
	down := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) {
		o.BaseEndpoint, o.Retryer = aws.String("http://127.0.0.1:1"), aws.NopRetryer{}
	})
	p.handler = eventbus.NewPublisher(down, p.es.BusName, discardLogger()).Handle
	if r := s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/cancel", s.token(t, "alice"), ""); r.status != 200 {
		t.Fatal(r.raw)
	}
	for range 5 {
		if _, err := p.poller.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// The session's transition, and the insert of its request's record beside it (the
	// shard's records from the failed one on; the record is no event).
	var transitions []string
	for _, r := range p.gaveUp {
		switch typ := r.Change.NewImage["type"].String(); {
		case r.EventName == "MODIFY":
			transitions = append(transitions, r.Change.NewImage["id"].String())
		case typ != "request":
			t.Errorf("given up on a %s %s record", r.EventName, typ)
		}
	}
	if len(transitions) != 1 || transitions[0] != demodata.AliceActive {
		t.Fatalf("transitions given up on: %v (of %d records)", transitions, len(p.gaveUp))
	}
}

// TestAuditConsumerRecordsEachEventOnce runs the example consumer on the audit queue's
// messages twice: one audit item per event id, duplicates acknowledged, garbage retried.
func TestAuditConsumerRecordsEachEventOnce(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	ctx := context.Background()
	auditTable := newAuditTable(t, s.db)
	alice := s.token(t, "alice")
	s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/pause", alice, "")
	s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/resume", alice, "")
	s.do(t, http.MethodPost, "/jobs/"+demodata.JobInProgress+"/cancel", s.token(t, "adam", "Admin"), "")
	p.drain(t)

	r, err := p.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.es.Queues["AuditQueue"]), MaxNumberOfMessages: 10})
	if err != nil || len(r.Messages) != 3 {
		t.Fatalf("audit queue: %d messages, %v", len(r.Messages), err)
	}
	var sqsEvent events.SQSEvent
	for _, m := range r.Messages {
		sqsEvent.Records = append(sqsEvent.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)})
	}
	sqsEvent.Records = append(sqsEvent.Records, events.SQSMessage{MessageId: "garbage", Body: `{"detail-type":"Nope"}`})
	handler := auditlog.Handler(discardLogger(), dynamo.NewAuditLog(s.db, auditTable, 0), time.Now)
	for round := range 2 {
		resp, err := handler(ctx, sqsEvent)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "garbage" {
			t.Fatalf("round %d: failures %v, want only the garbage message", round, resp.BatchItemFailures)
		}
		scan, err := s.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(auditTable)})
		if err != nil {
			t.Fatal(err)
		}
		if len(scan.Items) != 3 {
			t.Fatalf("round %d: %d audit items, want 3", round, len(scan.Items))
		}
	}
}
