// Package live holds the rules of the real-time channel, by which every committed
// transition reaches the open screens of the people it concerns. An API Gateway WebSocket
// API carries it; the functions' handlers are in shared/liveapi, the stores in
// shared/dynamo. The rules:
//
//   - tickets: a browser cannot send Authorization on a WebSocket, so it first asks the
//     authenticated HTTP route POST /live/tickets (shared/httpapi) for a short-lived,
//     single-use ticket and offers it as a WebSocket subprotocol (TicketFromSubprotocols);
//     $connect redeems it with one conditional write and records the connection;
//   - entitlement (Audience): an interview event goes to its owner's connections only,
//     a job event to the connections of callers who may read jobs, and each technician it
//     concerns gets a message of their own (Address returns theirs too);
//   - the message a client receives (Address, Message): the event's detail, the fields
//     MessageFields lists, with its eventId, type and entity version;
//   - what one caller may take of the channel (UserLimits), and the page origins that
//     may open it (Origins).
//
// docs/live.md describes the channel and its protocol; schemas/live-message.json is the
// message's JSON Schema.
package live

import (
	"errors"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Function names, as in functions/<name> and template.yaml. The ticket route is an HTTP
// function (httpapi.FnLiveTicket).
const (
	FnConnect    = "live-connect"
	FnDisconnect = "live-disconnect"
	FnDefault    = "live-default"
	FnNotify     = "live-notify"
)

// Subprotocol is the channel's WebSocket subprotocol. A client offers it together with its
// ticket, as TicketProtocolPrefix+ticket, and the server selects it:
//
//	new WebSocket(url, ["lifecycle.live.v1", "ticket." + ticket])
//
// so the ticket travels in the Sec-WebSocket-Protocol header, never in a URL.
const Subprotocol = "lifecycle.live.v1"

// TicketProtocolPrefix marks the offered subprotocol that carries the ticket.
const TicketProtocolPrefix = "ticket."

// TicketTTL is how long a ticket may wait to be redeemed.
const TicketTTL = 30 * time.Second

// ConnectionLife is how long API Gateway keeps a WebSocket connection open, at most.
const ConnectionLife = 2 * time.Hour

// Ticket is an issued ticket: the secret the client presents, and when it stops working.
type Ticket struct {
	Secret    string
	ExpiresAt time.Time
}

// Connection is an open WebSocket connection and the caller who opened it (from the
// ticket it redeemed, so from the caller's verified token).
type Connection struct {
	ID          string
	Sub         string
	Roles       []string
	ConnectedAt time.Time
	// Until is when the token that got the ticket expires (zero when it had no expiry): a
	// connection never outlives its token, so a caller whose roles or access changed since
	// gets nothing more on it than a new token would give them.
	Until time.Time
}

// Expired reports whether the connection's token has expired at now.
func (c Connection) Expired(now time.Time) bool { return !c.Until.IsZero() && !now.Before(c.Until) }

// End is when the connection is over at the latest: API Gateway's limit, or its token's
// expiry when that comes first.
func (c Connection) End() time.Time {
	end := c.ConnectedAt.Add(ConnectionLife)
	if !c.Until.IsZero() && c.Until.Before(end) {
		return c.Until
	}
	return end
}

// Actor is the connection's caller.
func (c Connection) Actor() lifecycle.Actor { return lifecycle.Actor{Sub: c.Sub, Roles: c.Roles} }

var (
	// ErrTicketUnknown: no such ticket: never issued, forged, or already redeemed.
	ErrTicketUnknown = errors.New("ticket unknown or already used")
	// ErrTicketExpired: the ticket was issued but not redeemed in time.
	ErrTicketExpired = errors.New("ticket expired")
	// ErrGone: the connection no longer exists (API Gateway's 410 GoneException).
	ErrGone = errors.New("connection gone")
	// ErrTooManyConnections: the caller already holds UserLimits.Connections open
	// connections; $connect refuses another.
	ErrTooManyConnections = errors.New("the caller holds as many connections as allowed")
)

// UserLimits are what one caller may take of the channel, so that no one user can use up
// a route's limit or make every event fan out to thousands of their connections. The
// store enforces both with conditional writes, so concurrent requests cannot exceed them.
type UserLimits struct {
	// Connections is how many connections one caller may hold open at once.
	Connections int
	// TicketsPerMinute is how many tickets one caller may get in a calendar minute (UTC).
	TicketsPerMinute int
}

// DefaultUserLimits: ten open tabs or devices, and tickets for three reconnects a minute
// of each of them.
func DefaultUserLimits() UserLimits { return UserLimits{Connections: 10, TicketsPerMinute: 30} }
