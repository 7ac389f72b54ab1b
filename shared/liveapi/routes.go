package liveapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/live"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/metrics"
)

// RouteHandler is a Lambda handler of a WebSocket API route ($connect, $disconnect,
// $default) with the Lambda proxy integration.
type RouteHandler func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)

// Opener is what $connect asks of the store.
type Opener interface {
	// Redeem spends the ticket whose secret is given for connection connectionID, in one
	// conditional write, and returns the caller it was issued to (Sub, Roles, Until). A
	// ticket unknown, forged or spent by another connection is ErrTicketUnknown; one past
	// its expiry is ErrTicketExpired. Spending it again for the same connection (a retry)
	// succeeds.
	Redeem(ctx context.Context, secret, connectionID string) (live.Connection, error)
	// Open records the connection, with its caller and a TTL.
	Open(ctx context.Context, c live.Connection) error
}

// Closer forgets a connection; forgetting one the store does not hold is not an error.
type Closer interface {
	Close(ctx context.Context, connectionID string) error
}

// protocolHeader is the WebSocket handshake header that carries the ticket.
const protocolHeader = "Sec-WebSocket-Protocol"

// Connect is the $connect route: it accepts the connection when the client offers the
// channel's subprotocol with a ticket it can redeem, and records it. Refused: 403 for a page
// of an origin not admitted (before its ticket is touched), 401 (no ticket, or one unknown,
// used or expired; the log says which), 429 when the caller already holds as many
// connections as UserLimits allows (the ticket is spent). A failing store: 503 or 500, and the client
// reconnects with a new ticket.
func Connect(logger *slog.Logger, store Opener, now func() time.Time, origins live.Origins) RouteHandler {
	return serveRoute(logger, now, func(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, string) {
		if origin := header(req, "Origin"); !origins.Admits(origin) {
			log.Warn("handshake from an origin not admitted", "origin", origin)
			return respond(http.StatusForbidden, ""), "originRefused"
		}
		secret, ok := live.TicketFromSubprotocols(headerValues(req, protocolHeader))
		if !ok {
			return respond(http.StatusUnauthorized, ""), "noTicket"
		}
		c, err := store.Redeem(ctx, secret, req.RequestContext.ConnectionID)
		switch {
		case errors.Is(err, live.ErrTicketUnknown):
			return respond(http.StatusUnauthorized, ""), "ticketUnknown"
		case errors.Is(err, live.ErrTicketExpired):
			return respond(http.StatusUnauthorized, ""), "ticketExpired"
		case err != nil:
			log.Error("redeeming a ticket failed", "err", err)
			return respond(storeStatus(err), ""), failure(err)
		}
		c.ID, c.ConnectedAt = req.RequestContext.ConnectionID, now()
		if err := store.Open(ctx, c); errors.Is(err, live.ErrTooManyConnections) {
			log.Warn("connection refused: the caller holds as many as allowed", "sub", c.Sub)
			return respond(http.StatusTooManyRequests, ""), "tooManyConnections"
		} else if err != nil {
			log.Error("recording the connection failed", "sub", c.Sub, "err", err)
			return respond(storeStatus(err), ""), failure(err)
		}
		log.Info("connection opened", "sub", c.Sub, "roles", c.Roles, "until", c.Until)
		resp := respond(http.StatusOK, "")
		resp.Headers = map[string]string{protocolHeader: live.Subprotocol}
		return resp, "connected"
	})
}

// Disconnect is the $disconnect route: it forgets the connection. API Gateway does not
// wait for its answer; a record it fails to delete expires with its TTL, and the notifier
// removes it on its first 410 before that.
func Disconnect(logger *slog.Logger, store Closer, now func() time.Time) RouteHandler {
	return serveRoute(logger, now, func(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, string) {
		if err := store.Close(ctx, req.RequestContext.ConnectionID); err != nil {
			log.Error("forgetting the connection failed", "err", err)
			return respond(storeStatus(err), ""), failure(err)
		}
		return respond(http.StatusOK, ""), "disconnected"
	})
}

// PingRoute is the route key of a client's keep-alive, {"type":"ping"} (the WebSocket API
// selects routes by the body's type). API Gateway answers it with Pong itself, through a
// MOCK integration (template.yaml's LivePingRoute), so a ping invokes no function.
const PingRoute = "ping"

// Pong is the answer to a ping.
const Pong = `{"type":"pong"}`

// Default is the $default route, which receives whatever a client sends other than a ping.
// The channel only sends, so everything here is answered with an error message, and the
// connection stays open.
func Default(logger *slog.Logger, now func() time.Time) RouteHandler {
	return serveRoute(logger, now, func(_ context.Context, _ *slog.Logger, _ events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, string) {
		return respond(http.StatusBadRequest, `{"type":"error","error":"Unknown message: this channel only sends; send {\"type\":\"ping\"} to keep it open"}`), "unknownMessage"
	})
}

// routeFunc serves one route: the response, and the outcome its access line reports.
type routeFunc func(ctx context.Context, log *slog.Logger, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, string)

// The outcomes of a route whose store failed: the HTTP functions' own, so the alarm on
// server errors (FunctionServerErrorsAlarm, which rolls a deploy back) sees the live
// channel's too.
const (
	OutcomeInternal    = "INTERNAL"
	OutcomeUnavailable = "UNAVAILABLE"
)

// failure is the outcome of a route whose store failed with err.
func failure(err error) string {
	if storeStatus(err) == http.StatusServiceUnavailable {
		return OutcomeUnavailable
	}
	return OutcomeInternal
}

// serveRoute wraps a route with what every route does: a logger tagged with the
// connection and request, and one access line per call, which is also its metrics (EMF):
// requests and latency by function and outcome, and by outcome alone (what the server
// errors alarm sums over every function). An event without a connection id is not one
// API Gateway sends, and is refused before anything is called. A route never returns an
// error to Lambda: its status is its answer, and its outcome its failure's signal.
func serveRoute(logger *slog.Logger, now func() time.Time, f routeFunc) RouteHandler {
	emf := metrics.NewEMFSets([][]string{{"function", "outcome"}, {"outcome"}},
		metrics.Metric{Name: "requests", Unit: "Count"}, metrics.Metric{Name: "durationMs", Unit: "Milliseconds"})
	return func(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		start := now()
		lambdaRequestID := ""
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			lambdaRequestID = lc.AwsRequestID
		}
		log := logger.With("connectionId", req.RequestContext.ConnectionID, "correlationId", req.RequestContext.RequestID, "lambdaRequestId", lambdaRequestID)
		resp, outcome := respond(http.StatusBadRequest, ""), "noConnectionId"
		if req.RequestContext.ConnectionID != "" {
			resp, outcome = f(ctx, log, req)
		}
		log.Info("route", "routeKey", req.RequestContext.RouteKey, "status", resp.StatusCode, "outcome", outcome, "requests", 1,
			"durationMs", float64(now().Sub(start).Microseconds())/1000,
			emf.Attr(now()))
		return resp, nil
	}
}

// respond is a route's answer; a refusal's body is API Gateway's own {"message": …}.
func respond(status int, body string) events.APIGatewayProxyResponse {
	if body == "" && status != http.StatusOK {
		body = `{"message":"` + http.StatusText(status) + `"}`
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Body: body}
}

// storeStatus is the status a route answers when its store failed.
func storeStatus(err error) int {
	if errors.Is(err, lifecycle.ErrUnavailable) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// header returns a request header's first value, whatever the case of its name.
func header(req events.APIGatewayWebsocketProxyRequest, name string) string {
	if vs := headerValues(req, name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// headerValues returns a request header's values, however API Gateway delivered them
// (header names arrive as the client sent them).
func headerValues(req events.APIGatewayWebsocketProxyRequest, name string) []string {
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) {
			return vs
		}
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return []string{v}
		}
	}
	return nil
}
