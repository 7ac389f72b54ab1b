package perf

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/coder/websocket"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/tools/local/asyncinvoke"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/local/streampoller"
	"github.com/lifecycle-api/lifecycle/tools/measure/capacity"
)

// LiveTarget is the live channel's latency target: a transition on the screens of the
// people it concerns within a second (p50, locally, at 1,000 connections of one user).
const LiveTarget = time.Second

// Live is the live channel at one number of open connections of one user.
type Live struct {
	Connections, Events int
	// P50 and P99 are commit-to-screen: from the transition's 200 to its message read by a
	// connected client, over every (event, connection) pair.
	P50, P99 time.Duration
	// StreamP50 is the median wait from the 200 to the publisher being handed the record:
	// the stream poll's share of P50.
	StreamP50 time.Duration
	// Missed counts (event, connection) pairs never received within liveWait.
	Missed int
	// NotifyP50 is the notifier's median time per event; DynamoDBPerEvent its requests
	// (the audience's Query pages, and deletes of gone connections).
	NotifyP50        time.Duration
	DynamoDBPerEvent float64
}

// liveWait is how long an event may take to reach every connection before it counts as
// missed.
const liveWait = 10 * time.Second

// liveSizes are the measured sizes: connections of one user, and events sent to them.
var liveSizes = []struct{ conns, events int }{{1, 40}, {1000, 20}}

// liveProbe times the pipeline's stages while the live channel is measured.
type liveProbe struct {
	mu       sync.Mutex
	handed   []time.Time            // the publisher was handed a batch with records
	notified []time.Duration        // each notifier invocation
	received map[string][]time.Time // eventId -> when each connection read its message
}

// streamTap wraps the publisher (stack.Handlers.Publisher).
func (p *liveProbe) streamTap(next streampoller.Handler) streampoller.Handler {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if len(ev.Records) > 0 {
			p.mu.Lock()
			p.handed = append(p.handed, time.Now())
			p.mu.Unlock()
		}
		return next(ctx, ev)
	}
}

// notifyTap wraps the notifier (stack.Handlers.Notifier).
func (p *liveProbe) notifyTap(next asyncinvoke.Handler) asyncinvoke.Handler {
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		start := time.Now()
		err := next(ctx, ev)
		p.mu.Lock()
		p.notified = append(p.notified, time.Since(start))
		p.mu.Unlock()
		return err
	}
}

// handedAfter returns when the publisher was first handed records after t.
func (p *liveProbe) handedAfter(t time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.handed {
		if h.After(t) {
			return h, true
		}
	}
	return time.Time{}, false
}

func (p *liveProbe) receive(eventID string) {
	now := time.Now()
	p.mu.Lock()
	p.received[eventID] = append(p.received[eventID], now)
	p.mu.Unlock()
}

// waitFor returns the receive times of eventID once n connections have it, or at the
// deadline. It polls: the times are taken as each message arrives, not when it looks.
func (p *liveProbe) waitFor(eventID string, n int, deadline time.Time) []time.Time {
	for {
		p.mu.Lock()
		got := p.received[eventID]
		p.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(time.Millisecond)
	}
}

// measureLive opens each size's connections for one user on the running stack (through
// the ticket route and the WebSocket, as a browser does), then pauses and resumes one of
// the user's sessions, one transition at a time, with the stream poller running as in
// `make run`, and times each message's arrival on every connection.
func measureLive(ctx context.Context, st *stack.Stack, base string, mint func(string, ...string) string, probe *liveProbe, sent *atomic.Int64, progress func(string, ...any)) ([]Live, error) {
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go st.Poller.Run(pollCtx, stack.PollInterval)

	const sub, session = "live-bench", "be11ce00-0000-4000-8000-000000000001"
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	if _, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Info.Table), Item: dynamo.SessionItem(interview.Session{
		ID: session, OwnerID: sub, Title: "live bench", TopicIDs: []string{"t"}, InterviewerID: "i", Status: interview.Active, Version: 1, CreatedAt: t0, UpdatedAt: t0,
	})}); err != nil {
		return nil, err
	}
	caller := api{&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, base, mint(sub)}
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/live"
	var out []Live
	for _, size := range liveSizes {
		progress("live channel: %d events to %d connections of one user", size.events, size.conns)
		conns, err := openConnections(ctx, size.conns, caller, wsURL, probe)
		if err != nil {
			return nil, err
		}
		r, err := liveRun(ctx, size.events, size.conns, session, caller, probe, sent)
		for _, c := range conns {
			_ = c.Close(websocket.StatusNormalClosure, "")
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// openConnections opens n connections, each with its own ticket, 32 at a time; each
// reports what it receives to probe.
func openConnections(ctx context.Context, n int, caller api, wsURL string, probe *liveProbe) ([]*websocket.Conn, error) {
	var (
		mu    sync.Mutex
		conns []*websocket.Conn
	)
	_, err := parallel(32, make([]string, n), func(string) error {
		answer, _, err := caller.send(ctx, http.MethodPost, "/api/live/tickets", "", false, http.StatusCreated)
		var t struct{ Ticket string }
		if err == nil {
			err = json.Unmarshal(answer, &t)
		}
		if err != nil {
			return fmt.Errorf("ticket: %w", err)
		}
		c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{live.Subprotocol, live.TicketProtocolPrefix + t.Ticket}})
		if err != nil {
			return err
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		go func() {
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				var m live.Message
				if json.Unmarshal(data, &m) == nil && m.EventID != "" {
					probe.receive(m.EventID)
				}
			}
		}()
		return nil
	})
	return conns, err
}

// liveRun makes events transitions of session one after the other and times their arrival.
func liveRun(ctx context.Context, events, conns int, session string, caller api, probe *liveProbe, sent *atomic.Int64) (Live, error) {
	r := Live{Connections: conns, Events: events}
	var screen, stream []time.Duration
	var requests int64
	probe.mu.Lock()
	probe.notified = nil
	probe.mu.Unlock()
	for i := range events {
		action := "pause"
		if i%2 == 1 {
			action = "resume"
		}
		asked := time.Now()
		_, header, err := caller.send(ctx, http.MethodPost, "/interviews/"+session+"/"+action, "", false, http.StatusOK)
		if err != nil {
			return r, err
		}
		committed, before := time.Now(), sent.Load()
		var version int64
		fmt.Sscan(strings.Trim(header.Get("ETag"), `"`), &version)
		got := probe.waitFor(event.ID("interview", session, version), conns, committed.Add(liveWait))
		requests += sent.Load() - before
		r.Missed += conns - len(got)
		for _, at := range got {
			screen = append(screen, at.Sub(committed))
		}
		// The poll may even pick the record up before the 200 is back.
		if h, ok := probe.handedAfter(asked); ok {
			stream = append(stream, max(0, h.Sub(committed)))
		}
		// The next transition waits for the stream poll's phase to move on, as real
		// traffic would not line up with it.
		time.Sleep(time.Duration(37*(i+1)%250) * time.Millisecond)
	}
	r.P50, r.P99, r.StreamP50 = percentile(screen, 0.5), percentile(screen, 0.99), median(stream)
	probe.mu.Lock()
	r.NotifyP50 = median(probe.notified)
	probe.mu.Unlock()
	r.DynamoDBPerEvent = float64(requests) / float64(events)
	return r, nil
}

// Live channel prices (us-east-1, on-demand, list prices; docs/live.md).
const (
	lambdaPerRequest   = 0.20 / 1e6
	lambdaPerMs128ARM  = 0.0000133334 * 0.125 / 1000
	apiGatewayMessage  = 1.00 / 1e6 // per message sent, in 32 KB units
	connectionRowBytes = 100        // a byUser index entry: key, user id, roles
)

// CostPerEvent is the notifier's bill for one event at the measured duration: one
// invocation, its duration at 128 MB arm64, one message per connection, and the
// audience's Query (eventually consistent: half a read unit per 4 KB).
func (l Live) CostPerEvent() float64 {
	rru := capacity.ReadUnitsOf(l.Connections*connectionRowBytes, false)
	ms := float64((l.NotifyP50 + time.Millisecond - 1) / time.Millisecond)
	return lambdaPerRequest + ms*lambdaPerMs128ARM + float64(l.Connections)*apiGatewayMessage + rru*ReadUnitPrice/1e6
}

// liveTable renders the live channel's rows.
func liveTable(b *strings.Builder, rows []Live) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(b, "\n| live channel: connections of one user | events | commit-to-screen p50 (≤ %s at 1,000) | p99 | stream poll p50 (share of p50) | missed (0) | notifier p50 per event | DynamoDB requests per event | notifier cost per event (per million events) |\n|---|---|---|---|---|---|---|---|---|\n", ms(LiveTarget))
	for _, l := range rows {
		p50 := ms(l.P50)
		if l.Connections >= 1000 {
			p50 += " " + ok(l.P50 <= LiveTarget)
		}
		share := 0.0
		if l.P50 > 0 {
			share = 100 * float64(l.StreamP50) / float64(l.P50)
		}
		fmt.Fprintf(b, "| %d | %d | %s | %s | %s (%.0f%%) | %d %s | %s | %.1f | $%.7f ($%.2f) |\n", l.Connections, l.Events, p50, ms(l.P99),
			ms(l.StreamP50), share, l.Missed, ok(l.Missed == 0), ms(l.NotifyP50), l.DynamoDBPerEvent, l.CostPerEvent(), l.CostPerEvent()*1e6)
	}
}
