package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/live"
)

// memTickets is an in-process ticket issuer: it records who asked, and their token's expiry.
type memTickets struct {
	mu     sync.Mutex
	issued []lifecycle.Actor
	until  []time.Time
	err    error
}

func (m *memTickets) IssueTicket(_ context.Context, actor lifecycle.Actor, until time.Time) (live.Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return live.Ticket{}, m.err
	}
	m.issued, m.until = append(m.issued, actor), append(m.until, until)
	return live.Ticket{Secret: live.NewTicketSecret(), ExpiresAt: time.Date(2026, 11, 21, 10, 0, 30, 0, time.UTC)}, nil
}

func ticketRequest(path, sub, roles, body string) request {
	return request{method: http.MethodPost, path: path, routeKey: "POST " + path, sub: sub, roles: roles, body: body}
}

func TestLiveTicketIssuesOneTicketToTheCaller(t *testing.T) {
	for _, path := range []string{"/live/tickets", "/api/live/tickets"} {
		store := &memTickets{}
		logger, _ := newLogger()
		ev := ticketRequest(path, "dana", "[Dispatcher]", "").event()
		ev.RequestContext.Authorizer.JWT.Claims["exp"] = "1795273200"
		resp := invoke(t, LiveTicket(logger, defaults, store), ev)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s: status %d: %s", path, resp.StatusCode, resp.Body)
		}
		body := decodeBody(t, resp)
		if tk, _ := body["ticket"].(string); len(tk) != 43 {
			t.Errorf("%s: ticket %q is not a 256-bit base64url secret", path, body["ticket"])
		}
		if body["expiresAt"] != "2026-11-21T10:00:30.000Z" {
			t.Errorf("%s: expiresAt = %v", path, body["expiresAt"])
		}
		if header(resp, "Cache-Control") != "no-store" {
			t.Errorf("%s: a ticket must not be cached", path)
		}
		if len(store.issued) != 1 || store.issued[0].Sub != "dana" || len(store.issued[0].Roles) != 1 || store.issued[0].Roles[0] != "Dispatcher" {
			t.Errorf("%s: issued to %+v, want dana with her roles from the token", path, store.issued)
		}
		if !store.until[0].Equal(time.Unix(1795273200, 0)) {
			t.Errorf("%s: the ticket ends with the token at %v, want its exp", path, store.until[0])
		}
	}
}

func TestLiveTicketRefusals(t *testing.T) {
	cases := []struct {
		name   string
		req    request
		err    error
		status int
		code   string
	}{
		{"no claims", ticketRequest("/live/tickets", "", "", ""), nil, http.StatusUnauthorized, codeUnauthorized},
		{"a body naming someone else", ticketRequest("/live/tickets", "alice", "", `{"sub":"bob"}`), nil, http.StatusBadRequest, codeInvalidRequest},
		{"store throttled", ticketRequest("/api/live/tickets", "alice", "", ""), lifecycle.ErrUnavailable, http.StatusServiceUnavailable, codeUnavailable},
		{"store broken", ticketRequest("/api/live/tickets", "alice", "", ""), errBoom, http.StatusInternalServerError, codeInternal},
		{"the caller's tickets of this minute spent", ticketRequest("/api/live/tickets", "alice", "", ""),
			&lifecycle.RateLimitedError{Limit: "30 live tickets a minute per caller", RetryAfter: 14200 * time.Millisecond}, http.StatusTooManyRequests, codeRateLimited},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := &memTickets{err: c.err}
			logger, _ := newLogger()
			resp := invoke(t, LiveTicket(logger, defaults, store), c.req.event())
			if resp.StatusCode != c.status || decodeBody(t, resp)["code"] != c.code {
				t.Fatalf("status %d body %s, want %d %s", resp.StatusCode, resp.Body, c.status, c.code)
			}
			if c.status == http.StatusTooManyRequests && (resp.Headers["Retry-After"] != "15" || !strings.Contains(decodeBody(t, resp)["details"].(string), "30 live tickets a minute")) {
				t.Errorf("a rate-limited caller is told %q, Retry-After %q; want when to come back", resp.Body, resp.Headers["Retry-After"])
			}
			if c.err == nil && len(store.issued) != 0 {
				t.Errorf("a refused request issued a ticket")
			}
		})
	}
}
