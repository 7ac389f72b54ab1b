package liveapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/live"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/logcapture"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func clock() time.Time { return t0 }

// memTickets is an in-process store of tickets and connections with the store's rules: a
// ticket redeems once, and not after it expires.
type memTickets struct {
	mu       sync.Mutex
	tickets  map[string]memTicket
	conns    map[string]live.Connection
	redeems  int
	closed   []string
	err      error // returned by every call when set
	openErr  error // returned by Open when set
	closeErr error // returned by Close when set
}

type memTicket struct {
	actor          lifecycle.Actor
	expires, until time.Time
}

func newMemTickets() *memTickets {
	return &memTickets{tickets: map[string]memTicket{}, conns: map[string]live.Connection{}}
}

func (m *memTickets) issue(actor lifecycle.Actor, expires time.Time) string {
	s := live.NewTicketSecret()
	m.tickets[live.TicketKey(s)] = memTicket{actor: actor, expires: expires, until: t0.Add(time.Hour)}
	return s
}

func (m *memTickets) Redeem(_ context.Context, secret, _ string) (live.Connection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.redeems++
	if m.err != nil {
		return live.Connection{}, m.err
	}
	t, ok := m.tickets[live.TicketKey(secret)]
	switch {
	case !ok:
		return live.Connection{}, live.ErrTicketUnknown
	case !t.expires.After(t0):
		return live.Connection{}, live.ErrTicketExpired
	}
	delete(m.tickets, live.TicketKey(secret))
	return live.Connection{Sub: t.actor.Sub, Roles: t.actor.Roles, Until: t.until}, nil
}

func (m *memTickets) Open(_ context.Context, c live.Connection) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.openErr != nil {
		return m.openErr
	}
	m.conns[c.ID] = c
	return nil
}

func (m *memTickets) Close(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = append(m.closed, id)
	if m.closeErr != nil {
		return m.closeErr
	}
	delete(m.conns, id)
	return nil
}

func (m *memTickets) Audience(_ context.Context, a live.Audience) ([]live.Connection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	var out []live.Connection
	for _, c := range m.conns {
		if a.Admits(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func newLogger() (*slog.Logger, *logcapture.Buffer) { return logcapture.New() }

func connectEvent(id string, headers map[string]string) events.APIGatewayWebsocketProxyRequest {
	return events.APIGatewayWebsocketProxyRequest{
		Headers: headers,
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{
			RouteKey: "$connect", EventType: "CONNECT", ConnectionID: id, RequestID: "req-" + id,
		},
	}
}

func TestConnectRedeemsTheTicketOnceAndRecordsTheConnection(t *testing.T) {
	store := newMemTickets()
	secret := store.issue(lifecycle.Actor{Sub: "dana", Roles: []string{"Dispatcher"}}, t0.Add(time.Second))
	logger, logs := newLogger()
	connect := Connect(logger, store, clock, live.Origins{"https://app.example.com"})
	// Header names arrive as the client sent them.
	resp, err := connect(context.Background(), connectEvent("conn-1", map[string]string{"sec-websocket-protocol": live.Subprotocol + ", ticket." + secret}))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("connect: %d %v", resp.StatusCode, err)
	}
	if resp.Headers["Sec-WebSocket-Protocol"] != live.Subprotocol {
		t.Errorf("the handshake must select %q, got headers %v", live.Subprotocol, resp.Headers)
	}
	c := store.conns["conn-1"]
	if c.ID != "conn-1" || c.Sub != "dana" || len(c.Roles) != 1 || c.Roles[0] != "Dispatcher" || !c.ConnectedAt.Equal(t0) || !c.Until.Equal(t0.Add(time.Hour)) {
		t.Errorf("recorded %+v, want dana with the ticket's roles and token expiry", c)
	}
	// The same ticket again, for another connection: refused.
	resp, _ = connect(context.Background(), connectEvent("conn-2", map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket." + secret}))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a reused ticket: %d", resp.StatusCode)
	}
	if _, ok := store.conns["conn-2"]; ok {
		t.Error("a reused ticket opened a connection")
	}
	outcomes := []any{}
	for _, l := range logs.Lines(t) {
		if l["msg"] == "route" {
			outcomes = append(outcomes, l["outcome"])
			if l["connectionId"] == nil || l["_aws"] == nil {
				t.Errorf("the access line lacks the connection or its metrics: %v", l)
			}
		}
	}
	if len(outcomes) != 2 || outcomes[0] != "connected" || outcomes[1] != "ticketUnknown" {
		t.Errorf("outcomes logged %v", outcomes)
	}
}

func TestConnectRefusals(t *testing.T) {
	cases := []struct {
		name    string
		headers func(s *memTickets) map[string]string
		err     error
		openErr error
		status  int
		redeems int
	}{
		{"no protocol header", func(*memTickets) map[string]string { return nil }, nil, nil, http.StatusUnauthorized, 0},
		{"channel without a ticket", func(*memTickets) map[string]string {
			return map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol}
		}, nil, nil, http.StatusUnauthorized, 0},
		{"malformed ticket", func(*memTickets) map[string]string {
			return map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket.abc"}
		}, nil, nil, http.StatusUnauthorized, 0},
		{"forged ticket", func(*memTickets) map[string]string {
			return map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket." + live.NewTicketSecret()}
		}, nil, nil, http.StatusUnauthorized, 1},
		{"expired ticket", func(s *memTickets) map[string]string {
			return map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket." + s.issue(lifecycle.Actor{Sub: "alice"}, t0)}
		}, nil, nil, http.StatusUnauthorized, 1},
		{"store throttled", func(s *memTickets) map[string]string {
			return map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket." + live.NewTicketSecret()}
		}, lifecycle.ErrUnavailable, nil, http.StatusServiceUnavailable, 1},
		{"connection not recorded", func(s *memTickets) map[string]string {
			return map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket." + s.issue(lifecycle.Actor{Sub: "alice"}, t0.Add(time.Minute))}
		}, nil, errors.New("boom"), http.StatusInternalServerError, 1},
		{"the caller holds as many connections as allowed", func(s *memTickets) map[string]string {
			return map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket." + s.issue(lifecycle.Actor{Sub: "alice"}, t0.Add(time.Minute))}
		}, nil, fmt.Errorf("claim: %w", live.ErrTooManyConnections), http.StatusTooManyRequests, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newMemTickets()
			h := c.headers(store)
			store.err, store.openErr = c.err, c.openErr
			logger, _ := newLogger()
			resp, err := Connect(logger, store, clock, live.Origins{"https://app.example.com"})(context.Background(), connectEvent("conn-x", h))
			if err != nil || resp.StatusCode != c.status {
				t.Fatalf("status %d (%v), want %d", resp.StatusCode, err, c.status)
			}
			if resp.Headers["Sec-WebSocket-Protocol"] != "" {
				t.Error("a refused handshake selected a subprotocol")
			}
			if store.redeems != c.redeems {
				t.Errorf("%d redeem calls, want %d", store.redeems, c.redeems)
			}
			if len(store.conns) != 0 {
				t.Error("a refused connection was recorded")
			}
		})
	}
}

// TestAFailingStoreIsAServerError (issue 23): a route whose store fails reports the HTTP
// functions' outcome (INTERNAL, UNAVAILABLE) in a metric dimensioned by outcome alone, the
// one the server errors alarm sums and a deploy rolls back on; a refusal does not.
func TestAFailingStoreIsAServerError(t *testing.T) {
	ticket := func(s *memTickets) map[string]string {
		return map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket." + s.issue(lifecycle.Actor{Sub: "alice"}, t0.Add(time.Minute))}
	}
	for _, c := range []struct {
		name             string
		err, openErr     error
		outcome          string
		serverErrorAlarm bool
	}{
		{"redeem throttled", lifecycle.ErrUnavailable, nil, OutcomeUnavailable, true},
		{"connection not recorded", nil, errors.New("boom"), OutcomeInternal, true},
		{"a refused ticket", nil, nil, "ticketUnknown", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := newMemTickets()
			h := ticket(store)
			if !c.serverErrorAlarm {
				h = map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket." + live.NewTicketSecret()}
			}
			store.err, store.openErr = c.err, c.openErr
			logger, logs := newLogger()
			if _, err := Connect(logger, store, clock, live.Origins{"https://app.example.com"})(context.Background(), connectEvent("conn-x", h)); err != nil {
				t.Fatal(err)
			}
			for _, l := range logs.Lines(t) {
				if l["msg"] != "route" {
					continue
				}
				if l["outcome"] != c.outcome {
					t.Errorf("outcome %v, want %s", l["outcome"], c.outcome)
				}
				raw, _ := json.Marshal(l["_aws"])
				if !strings.Contains(string(raw), `["outcome"]`) {
					t.Errorf("the metrics are not dimensioned by outcome alone: %s", raw)
				}
			}
		})
	}
}

func TestDisconnectForgetsTheConnection(t *testing.T) {
	store := newMemTickets()
	store.conns["conn-1"] = live.Connection{ID: "conn-1", Sub: "alice"}
	logger, _ := newLogger()
	ev := connectEvent("conn-1", nil)
	ev.RequestContext.RouteKey, ev.RequestContext.EventType = "$disconnect", "DISCONNECT"
	resp, err := Disconnect(logger, store, clock)(context.Background(), ev)
	if err != nil || resp.StatusCode != http.StatusOK || len(store.conns) != 0 {
		t.Fatalf("status %d, err %v, left %v", resp.StatusCode, err, store.conns)
	}
	store.closeErr = lifecycle.ErrUnavailable
	resp, _ = Disconnect(logger, store, clock)(context.Background(), ev)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a failed delete answered %d", resp.StatusCode)
	}
}

// TestDefaultAnswersEveryMessageWithAnError: pings never reach $default (API Gateway
// answers them on the ping route), so whatever does is not a message the channel knows.
func TestDefaultAnswersEveryMessageWithAnError(t *testing.T) {
	logger, _ := newLogger()
	h := Default(logger, clock)
	for _, body := range []string{`{"type":"subscribe","to":"jobs"}`, `{"type":"PING"}`, `not json`, ``} {
		ev := connectEvent("conn-1", nil)
		ev.RequestContext.RouteKey, ev.Body = "$default", body
		resp, err := h(context.Background(), ev)
		var m map[string]any
		if err != nil || resp.StatusCode != http.StatusBadRequest || json.Unmarshal([]byte(resp.Body), &m) != nil || m["type"] != "error" {
			t.Errorf("%q: %d %s (%v), want 400 with type error", body, resp.StatusCode, resp.Body, err)
		}
	}
}

func TestRoutesRefuseEventsWithoutAConnection(t *testing.T) {
	store := newMemTickets()
	secret := store.issue(lifecycle.Actor{Sub: "alice"}, t0.Add(time.Minute))
	logger, _ := newLogger()
	ev := connectEvent("", map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket." + secret})
	for name, h := range map[string]RouteHandler{
		"connect": Connect(logger, store, clock, live.Origins{"https://app.example.com"}), "disconnect": Disconnect(logger, store, clock), "default": Default(logger, clock),
	} {
		if resp, _ := h(context.Background(), ev); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	if store.redeems != 0 || len(store.closed) != 0 {
		t.Error("the store was called for an event without a connection")
	}
}

// TestConnectAdmitsTheConfiguredOrigins (issue 23): a page of another site is refused
// before its ticket is touched; a configured origin, and a handshake without one (no
// browser's), go on to the ticket; "*" admits any.
func TestConnectAdmitsTheConfiguredOrigins(t *testing.T) {
	cases := []struct {
		name, origin string
		origins      live.Origins
		status       int
	}{
		{"a frontend's page", "https://app.example.com", live.ParseOrigins("https://app.example.com, https://dispatch.example.com/"), http.StatusOK},
		{"another of the frontends, other case", "HTTPS://Dispatch.Example.com", live.ParseOrigins("https://app.example.com,https://dispatch.example.com"), http.StatusOK},
		{"no origin: no browser", "", live.ParseOrigins("https://app.example.com"), http.StatusOK},
		{"any, configured", "https://elsewhere.example.org", live.ParseOrigins("*"), http.StatusOK},
		{"another site's page", "https://evil.example.org", live.ParseOrigins("https://app.example.com"), http.StatusForbidden},
		{"a lookalike", "https://app.example.com.evil.org", live.ParseOrigins("https://app.example.com"), http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newMemTickets()
			h := map[string]string{"Sec-WebSocket-Protocol": live.Subprotocol + ", ticket." + store.issue(lifecycle.Actor{Sub: "alice"}, t0.Add(time.Minute))}
			if c.origin != "" {
				h["origin"] = c.origin
			}
			logger, _ := newLogger()
			resp, err := Connect(logger, store, clock, c.origins)(context.Background(), connectEvent("conn-o", h))
			if err != nil || resp.StatusCode != c.status {
				t.Fatalf("status %d (%v), want %d", resp.StatusCode, err, c.status)
			}
			if c.status == http.StatusForbidden && store.redeems != 0 {
				t.Error("a refused origin's ticket was redeemed: it could not be used again")
			}
		})
	}
}
