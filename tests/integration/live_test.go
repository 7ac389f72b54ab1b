package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/coder/websocket"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/live/push"
	"github.com/lifecycle-api/lifecycle/shared/liveapi"
	"github.com/lifecycle-api/lifecycle/tools/local/asyncinvoke"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/livegateway"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/schemacheck"
)

// liveChannel is a stack's live channel as `make run` serves it: the WebSocket API
// stand-in over the real route handlers, its @connections endpoint, and the notifier fed
// by the template's rule (a stand-in queue in moto) with Lambda's retries.
type liveChannel struct {
	wsURL       string
	connections string
	gateway     *livegateway.Gateway
	notifier    *asyncinvoke.Invoker
}

// liveOption adjusts the channel's wiring (its clock, its @connections endpoint).
type liveOption func(c *wiring.Config, connections *string)

func newLiveChannel(t *testing.T, s *stack, p *pipeline, opts ...liveOption) *liveChannel {
	t.Helper()
	cfg, override := s.cfg, ""
	for _, o := range opts {
		o(&cfg, &override)
	}
	l := &liveChannel{gateway: livegateway.New(wiring.LiveRoutes(cfg), discardLogger())}
	mgmt := httptest.NewServer(l.gateway.Management())
	ws := httptest.NewServer(l.gateway)
	t.Cleanup(func() { l.gateway.Close(); ws.Close(); mgmt.Close() })
	l.wsURL, l.connections = "ws"+strings.TrimPrefix(ws.URL, "http")+"/live", mgmt.URL
	if override != "" {
		l.connections = override
	}
	awsCfg, err := config.AWS()
	if err != nil {
		t.Fatal(err)
	}
	client := push.NewClient(awsCfg, liveapi.DefaultLimits().Concurrency, func(o *apigatewaymanagementapi.Options) { o.BaseEndpoint = aws.String(l.connections) })
	target, ok := p.es.Functions["LiveNotifyFunction"]
	if !ok {
		t.Fatal("template.yaml's LiveNotifyRule has no function target")
	}
	l.notifier = &asyncinvoke.Invoker{
		SQS: p.sqs, Queue: target.Queue, Function: live.FnNotify, MaxRetries: target.MaxRetries,
		Handler:   wiring.Notifier(cfg, client, liveapi.Limits{Concurrency: 16, Attempts: 2, Backoff: time.Millisecond}).Handle,
		OnFailure: p.es.Queues[target.OnFailure], Timeout: 30 * time.Second, Logger: discardLogger(),
	}
	return l
}

// deliver runs the event pipeline once: the stream's records published on the bus, then
// the live rule's events through the notifier; it returns how many events the notifier took.
func (l *liveChannel) deliver(t *testing.T, p *pipeline) int {
	t.Helper()
	p.drain(t)
	n, err := l.notifier.Drain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ticket asks the HTTP route for a ticket with sub's token.
func (s *stack) ticket(t *testing.T, path, sub string, roles ...string) string {
	t.Helper()
	r := s.do(t, "POST", path, s.token(t, sub, roles...), "")
	if r.status != http.StatusCreated {
		t.Fatalf("POST %s as %s = %d: %s", path, sub, r.status, r.raw)
	}
	return r.body["ticket"].(string)
}

// liveClient is an open WebSocket connection of one caller.
type liveClient struct {
	sub  string
	conn *websocket.Conn
}

// dialWith opens a connection offering protocols; a refused handshake returns its status.
func (l *liveChannel) dialWith(protocols ...string) (*websocket.Conn, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, l.wsURL, &websocket.DialOptions{Subprotocols: protocols})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, status, err
	}
	return c, http.StatusSwitchingProtocols, nil
}

// connect opens a connection as sub, with a fresh ticket.
func (l *liveChannel) connect(t *testing.T, s *stack, sub string, roles ...string) *liveClient {
	t.Helper()
	c, status, err := l.dialWith(live.Subprotocol, live.TicketProtocolPrefix+s.ticket(t, "/api/live/tickets", sub, roles...))
	if err != nil {
		t.Fatalf("%s: connect: %d %v", sub, status, err)
	}
	if c.Subprotocol() != live.Subprotocol {
		t.Fatalf("%s: the server selected subprotocol %q", sub, c.Subprotocol())
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &liveClient{sub: sub, conn: c}
}

// received reads what the connection received up to the pong answering a ping sent now:
// the connection is ordered, so everything sent to it before the ping is there.
func (c *liveClient) received(t *testing.T) []live.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatalf("%s: ping: %v", c.sub, err)
	}
	var out []live.Message
	for {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			t.Fatalf("%s: read: %v", c.sub, err)
		}
		if string(data) == `{"type":"pong"}` {
			return out
		}
		var m live.Message
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: not a live message: %s", c.sub, data)
		}
		out = append(out, m)
	}
}

// connectionRecords counts the live table's connection items.
func (s *stack) connectionRecords(t *testing.T) int {
	t.Helper()
	out, err := s.db.Scan(context.Background(), &dynamodb.ScanInput{
		TableName: aws.String(s.liveTable), ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("begins_with(pk, :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: "CONN#"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

// TestLiveEndToEnd: from an HTTP transition to the WebSocket clients entitled to it,
// through the real stream, publisher, bus rule, notifier and @connections endpoint.
func TestLiveEndToEnd(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	l := newLiveChannel(t, s, p)
	alice1, alice2 := l.connect(t, s, "alice"), l.connect(t, s, "alice")
	bob, tom := l.connect(t, s, "bob"), l.connect(t, s, "tom", "Technician")
	dana, adam := l.connect(t, s, "dana", "Dispatcher"), l.connect(t, s, "adam", "Admin")
	if n := s.connectionRecords(t); n != 6 {
		t.Fatalf("%d connection records, want 6", n)
	}
	// A record of alice's whose connection is gone (its $disconnect never came).
	if err := wiring.LiveStore(s.cfg).Open(context.Background(), live.Connection{ID: "gone-connection", Sub: "alice", ConnectedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sch, err := schemacheck.Load(filepath.Join(repoRoot(t), "schemas"))
	if err != nil {
		t.Fatal(err)
	}

	r := s.do(t, "POST", "/interviews/"+demodata.AliceActive2+"/pause", s.token(t, "alice"), "")
	if r.status != http.StatusOK {
		t.Fatalf("pause: %d %s", r.status, r.raw)
	}
	version, _ := strconv.ParseInt(strings.Trim(r.header.Get("ETag"), `"`), 10, 64)
	if n := l.deliver(t, p); n != 1 {
		t.Fatalf("the notifier took %d events, want 1", n)
	}
	for _, c := range []*liveClient{alice1, alice2} {
		got := c.received(t)
		if len(got) != 1 {
			t.Fatalf("%s received %d messages, want 1", c.sub, len(got))
		}
		m := got[0]
		if m.Type != event.TypeInterviewPaused || m.Entity != live.EntityInterview || m.EntityID != demodata.AliceActive2 ||
			m.Version != version || m.EventID != event.ID("interview", demodata.AliceActive2, version) {
			t.Errorf("%s received %+v, want InterviewPaused of %s at version %d", c.sub, m, demodata.AliceActive2, version)
		}
		validateLive(t, sch, m)
	}
	for _, c := range []*liveClient{bob, tom, dana, adam} {
		if got := c.received(t); len(got) != 0 {
			t.Errorf("%s received alice's event: %+v", c.sub, got)
		}
	}
	if n := s.connectionRecords(t); n != 6 {
		t.Errorf("%d connection records after the event, want 6 (the gone one forgotten)", n)
	}

	r = s.do(t, "POST", "/jobs/"+demodata.JobAssignedConfirmed+"/cancel", s.token(t, "adam", "Admin"), `{"reason":"Customer cancelled"}`)
	if r.status != http.StatusOK {
		t.Fatalf("cancel job: %d %s", r.status, r.raw)
	}
	l.deliver(t, p)
	for _, c := range []*liveClient{dana, adam} {
		got := c.received(t)
		if len(got) != 1 || got[0].Type != event.TypeJobCancelled || got[0].EntityID != demodata.JobAssignedConfirmed {
			t.Fatalf("%s received %+v, want the JobCancelled", c.sub, got)
		}
		validateLive(t, sch, got[0])
	}
	for _, c := range []*liveClient{alice1, alice2, bob, tom} {
		if got := c.received(t); len(got) != 0 {
			t.Errorf("%s received a job event: %+v", c.sub, got)
		}
	}

	// A closed connection is forgotten by its $disconnect.
	_ = bob.conn.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(10 * time.Second)
	for s.connectionRecords(t) != 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.connectionRecords(t); n != 5 {
		t.Errorf("%d connection records after bob closed his, want 5", n)
	}
}

// TestLiveTickets: a ticket opens exactly one connection, within its 30 seconds; a forged,
// malformed, reused or expired ticket, or none, is refused at the handshake.
func TestLiveTickets(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	l := newLiveChannel(t, s, p)
	offer := func(ticket string) []string { return []string{live.Subprotocol, live.TicketProtocolPrefix + ticket} }
	refused := func(name string, protocols ...string) {
		t.Helper()
		c, status, err := l.dialWith(protocols...)
		if err == nil {
			_ = c.CloseNow()
			t.Errorf("%s: the handshake was accepted", name)
		} else if status != http.StatusUnauthorized {
			t.Errorf("%s: refused with %d (%v), want 401", name, status, err)
		}
	}

	// Bare and /api paths both issue tickets; each opens one connection.
	for _, path := range []string{"/live/tickets", "/api/live/tickets"} {
		tk := s.ticket(t, path, "alice")
		c, status, err := l.dialWith(offer(tk)...)
		if err != nil {
			t.Fatalf("%s: a fresh ticket was refused: %d %v", path, status, err)
		}
		defer c.CloseNow()
		refused(path+": the same ticket again", offer(tk)...)
	}

	// Racing clients with one ticket: exactly one connects.
	tk := s.ticket(t, "/api/live/tickets", "bob")
	var wg sync.WaitGroup
	var mu sync.Mutex
	opened := 0
	for range 8 {
		wg.Go(func() {
			if c, _, err := l.dialWith(offer(tk)...); err == nil {
				mu.Lock()
				opened++
				mu.Unlock()
				defer c.CloseNow()
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	if opened != 1 {
		t.Errorf("one ticket opened %d connections, want 1", opened)
	}

	refused("no subprotocol")
	refused("no ticket", live.Subprotocol)
	refused("a ticket without the channel's protocol", live.TicketProtocolPrefix+s.ticket(t, "/api/live/tickets", "alice"))
	refused("a forged ticket", offer(live.NewTicketSecret())...)
	refused("a malformed ticket", offer("not-a-ticket")...)
	refused("the expired sample ticket", offer(demodata.SampleExpiredTicket)...)

	// A ticket redeemed 31 seconds after it was issued has expired.
	late := newLiveChannel(t, s, p, func(c *wiring.Config, _ *string) {
		c.Now = func() time.Time { return time.Now().Add(live.TicketTTL + time.Second) }
	})
	if c, status, err := late.dialWith(offer(s.ticket(t, "/api/live/tickets", "alice"))...); err == nil {
		_ = c.CloseNow()
		t.Error("an expired ticket opened a connection")
	} else if status != http.StatusUnauthorized {
		t.Errorf("an expired ticket: %d, want 401", status)
	}
	// The route needs a verified token.
	if r := s.do(t, "POST", "/api/live/tickets", "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("a ticket without a token: %d", r.status)
	}
}

// TestLiveConnectionEndsWithItsToken: a connection opened with a short-lived token gets no
// event once the token has expired; the notifier closes it (so its client must come back
// with a fresh token) and forgets it.
func TestLiveConnectionEndsWithItsToken(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	l := newLiveChannel(t, s, p)
	short, err := devauth.Mint(s.key, "dana", []string{"Dispatcher"}, 2*time.Second, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := s.do(t, "POST", "/api/live/tickets", short, "")
	if r.status != http.StatusCreated {
		t.Fatalf("ticket: %d", r.status)
	}
	c, status, err := l.dialWith(live.Subprotocol, live.TicketProtocolPrefix+r.body["ticket"].(string))
	if err != nil {
		t.Fatalf("connect: %d %v", status, err)
	}
	defer c.CloseNow()
	adam := l.connect(t, s, "adam", "Admin")
	time.Sleep(2100 * time.Millisecond) // dana's token expires

	if r := s.do(t, "POST", "/jobs/"+demodata.JobUnassigned+"/cancel", s.token(t, "adam", "Admin"), ""); r.status != http.StatusOK {
		t.Fatalf("cancel: %d", r.status)
	}
	l.deliver(t, p)
	if got := adam.received(t); len(got) != 1 {
		t.Fatalf("adam received %d messages, want 1", len(got))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err == nil {
		t.Fatalf("the expired connection received %s", data)
	}
	if websocket.CloseStatus(err) == -1 {
		t.Errorf("the expired connection was not closed by the server: %v", err)
	}
	if n := s.connectionRecords(t); n != 1 {
		t.Errorf("%d connection records, want only adam's", n)
	}
}

// TestLiveUnreachableEventsReachTheDLQ: when an entitled connection cannot be reached, the
// notifier fails the invocation; after Lambda's retries the event is in the notifier's
// on-failure queue, with its invocation record.
func TestLiveUnreachableEventsReachTheDLQ(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "InternalServerErrorException")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"message":"Internal server error"}`))
	}))
	defer broken.Close()
	l := newLiveChannel(t, s, p, func(_ *wiring.Config, connections *string) { *connections = broken.URL })
	l.notifier.Delays = []time.Duration{time.Millisecond}
	l.connect(t, s, "alice")
	if r := s.do(t, "POST", "/interviews/"+demodata.AliceActive2+"/pause", s.token(t, "alice"), ""); r.status != http.StatusOK {
		t.Fatalf("pause: %d", r.status)
	}
	l.deliver(t, p)
	msgs := p.rawMessages(t, "LiveNotifyDLQ")
	if len(msgs) != 1 {
		t.Fatalf("%d messages in LiveNotifyDLQ, want 1", len(msgs))
	}
	var record struct {
		RequestContext struct {
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		RequestPayload event.Envelope `json:"requestPayload"`
	}
	if err := json.Unmarshal([]byte(msgs[0]), &record); err != nil {
		t.Fatal(err)
	}
	if record.RequestContext.Condition != "RetriesExhausted" || record.RequestContext.ApproximateInvokeCount != 3 ||
		record.RequestPayload.DetailType != event.TypeInterviewPaused {
		t.Errorf("on-failure record %s", msgs[0])
	}
}

func validateLive(t *testing.T, sch *schemacheck.Schemas, m live.Message) {
	t.Helper()
	if err := sch.Validate(schemacheck.LiveMessageID, m); err != nil {
		t.Errorf("message does not validate against schemas/live-message.json: %v\n%+v", err, m)
	}
}

// rawMessages reads every message from a queue (deleting them), undecoded.
func (p *pipeline) rawMessages(t *testing.T, queue string) []string {
	t.Helper()
	var out []string
	url := p.es.Queues[queue]
	for empty := 0; empty < 2; {
		r, err := p.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range r.Messages {
			out = append(out, aws.ToString(m.Body))
			if _, err := p.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// TestTomHearsOfHisJob (issue 25, part 7): job events reach the technician they concern,
// end to end on moto: booked, tom's screen learns it with what he may do (confirm); when
// the job is cancelled, his screen learns that too. Another technician hears nothing.
func TestTomHearsOfHisJob(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	l := newLiveChannel(t, s, p)
	tom, tess, dana := l.connect(t, s, "tom", "Technician"), l.connect(t, s, "tess", "Technician"), l.connect(t, s, "dana", "Dispatcher")
	sch, err := schemacheck.Load(filepath.Join(repoRoot(t), "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	danaToken := s.token(t, "dana", "Dispatcher")
	made := s.do(t, "POST", "/jobs", danaToken, `{"title":"Boiler","customerId":"cust-3","address":"3 Lane"}`)
	id, _ := made.body["id"].(string)
	if r := s.do(t, "POST", "/jobs/"+id+"/assign", danaToken, `{"technicianId":"tom","scheduledStart":"2026-12-12T09:00:00Z","scheduledEnd":"2026-12-12T10:00:00Z"}`); r.status != http.StatusOK {
		t.Fatalf("book tom: %d %s", r.status, r.raw)
	}
	l.deliver(t, p)
	got := tom.received(t)
	if len(got) != 1 || got[0].Type != event.TypeJobAssigned || got[0].EntityID != id || strings.Join(got[0].AllowedActions, ",") != "confirm" {
		t.Fatalf("tom received %+v, want his booking with [confirm]", got)
	}
	validateLive(t, sch, got[0])
	if got := dana.received(t); len(got) != 2 { // JobCreated, JobAssigned
		t.Errorf("dana received %d messages, want 2", len(got))
	}
	if r := s.do(t, "POST", "/jobs/"+id+"/cancel", danaToken, `{"reason":"Customer away"}`); r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.raw)
	}
	l.deliver(t, p)
	got = tom.received(t)
	if len(got) != 1 || got[0].Type != event.TypeJobCancelled || got[0].EntityID != id || len(got[0].AllowedActions) != 0 {
		t.Fatalf("tom received %+v, want the cancel of his job", got)
	}
	validateLive(t, sch, got[0])
	if got := tess.received(t); len(got) != 0 {
		t.Errorf("tess received %+v", got)
	}
}
