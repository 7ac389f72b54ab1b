package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lifecycle-api/lifecycle/shared/auth"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/live"
)

// TicketIssuer issues live-channel tickets; shared/dynamo's Live implements it.
type TicketIssuer interface {
	// IssueTicket issues a ticket for actor, whose token expires at until (zero: never);
	// the connection it opens ends then.
	IssueTicket(ctx context.Context, actor lifecycle.Actor, until time.Time) (live.Ticket, error)
}

// ticketJSON is a new ticket: the secret to offer as the WebSocket subprotocol
// "ticket.<ticket>" (beside "lifecycle.live.v1"), and when it stops working.
type ticketJSON struct {
	Ticket    string `json:"ticket"`
	ExpiresAt string `json:"expiresAt"`
}

// handleLiveTicket issues a single-use ticket to the caller: the live channel's $connect
// redeems it for a connection that receives the caller's events. A retry simply issues
// another; unused tickets expire.
func handleLiveTicket(store TicketIssuer) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, err := actorFrom(r)
		if err != nil {
			return err
		}
		log := addLogAttrs(r, "sub", actor.Sub)
		if err := decode(r, &emptyBody{}); err != nil {
			return err
		}
		t, err := store.IssueTicket(r.Context(), actor, tokenExpiry(r))
		if err != nil {
			return err
		}
		log.Info("live ticket issued", "expiresAt", t.ExpiresAt)
		encode(w, http.StatusCreated, ticketJSON{Ticket: t.Secret, ExpiresAt: lifecycle.FormatTime(t.ExpiresAt)})
		return nil
	}
}

// tokenExpiry is when the request's verified token expires (zero when it does not say).
func tokenExpiry(r *http.Request) time.Time {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return time.Time{}
	}
	exp, _ := auth.TokenExpiry(rc.Authorizer.JWT.Claims)
	return exp
}
