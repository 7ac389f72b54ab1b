// Package livegateway stands in for the API Gateway WebSocket API of the live channel on a
// developer's machine. It serves the WebSocket: each handshake becomes the $connect event
// API Gateway would send (headers included, so the ticket offered as a subprotocol), and
// the connection is accepted only when the live-connect handler answers 200, with the
// subprotocol it selected; each message a client sends becomes a $default event, whose
// answer goes back to the client; a closed connection becomes a $disconnect event. And it
// serves the @connections management API the notifier's SDK client calls (POST and DELETE
// /@connections/{connectionId}, SigV4-signed, 410 GoneException for a connection it does
// not hold). The functions run exactly the code they run in AWS.
package livegateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/coder/websocket"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/liveapi"
)

// Functions are the route handlers, wired as in functions/live-*/main.go.
type Functions struct {
	Connect, Disconnect, Default liveapi.RouteHandler
}

// API Gateway's WebSocket limits that matter here.
const (
	// maxMessage is the largest message a client or the management API may send.
	maxMessage = 128 << 10
	// functionTimeout mirrors the route functions' Timeout in template.yaml.
	functionTimeout = 10 * time.Second
	// stage is the local stage's name, as in the events.
	stage = "local"
)

// Gateway is a running local WebSocket API.
type Gateway struct {
	fns    Functions
	logger *slog.Logger

	mu    sync.Mutex
	conns map[string]*websocket.Conn
	wg    sync.WaitGroup
}

// New returns a gateway invoking fns.
func New(fns Functions, logger *slog.Logger) *Gateway {
	return &Gateway{fns: fns, logger: logger, conns: map[string]*websocket.Conn{}}
}

// Close closes every connection at once (each gets its $disconnect) and waits for them.
func (g *Gateway) Close() {
	g.mu.Lock()
	for _, ws := range g.conns {
		go func() { _ = ws.Close(websocket.StatusGoingAway, "server shutting down") }()
	}
	g.mu.Unlock()
	g.wg.Wait()
}

// ServeHTTP serves the WebSocket endpoint (wss://<api>.execute-api.<region>.amazonaws.com/<stage>
// in AWS): the handshake through $connect, then messages through $default until either
// side closes; a ping is answered without a function, as the template's MOCK integration
// answers it.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, `{"message":"Forbidden"}`, http.StatusForbidden)
		return
	}
	id := newConnectionID()
	now := time.Now()
	resp, err := g.invoke(r.Context(), g.fns.Connect, g.event(r, id, "$connect", "CONNECT", now))
	if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		status := resp.StatusCode
		if err != nil || status == 0 {
			status = http.StatusInternalServerError
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp.Body)
		return
	}
	opts := &websocket.AcceptOptions{
		// API Gateway checks no Origin: the ticket, not a cookie, authenticates.
		InsecureSkipVerify: true,
	}
	if p := resp.Headers["Sec-WebSocket-Protocol"]; p != "" {
		opts.Subprotocols = []string{p}
	}
	ws, err := websocket.Accept(w, r, opts)
	if err != nil {
		g.logger.Warn("websocket handshake failed after $connect accepted it", "connectionId", id, "err", err)
		g.disconnect(id, r, now, websocket.StatusAbnormalClosure, err.Error())
		return
	}
	ws.SetReadLimit(maxMessage)
	g.mu.Lock()
	g.conns[id] = ws
	g.wg.Add(1)
	g.mu.Unlock()
	defer g.wg.Done()
	g.serve(id, r, ws, now)
}

// serve reads the connection's messages until it closes, then sends $disconnect.
func (g *Gateway) serve(id string, r *http.Request, ws *websocket.Conn, connectedAt time.Time) {
	ctx := context.WithoutCancel(r.Context())
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			g.mu.Lock()
			delete(g.conns, id)
			g.mu.Unlock()
			code := websocket.CloseStatus(err)
			if code == -1 {
				code = websocket.StatusAbnormalClosure
			}
			g.disconnect(id, r, connectedAt, code, err.Error())
			_ = ws.CloseNow()
			return
		}
		if isPing(typ, data) {
			_ = write(ctx, ws, []byte(liveapi.Pong))
			continue
		}
		ev := g.event(r, id, "$default", "MESSAGE", connectedAt)
		ev.RequestContext.MessageID = lifecycle.NewID()
		ev.Headers, ev.MultiValueHeaders = nil, nil
		if typ == websocket.MessageBinary || !utf8.Valid(data) {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(data), true
		} else {
			ev.Body = string(data)
		}
		resp, err := g.invoke(ctx, g.fns.Default, ev)
		if err != nil {
			// API Gateway answers the client with an error message and keeps the connection.
			resp.Body = `{"message": "Internal server error", "connectionId":"` + id + `"}`
		}
		if resp.Body != "" {
			_ = write(ctx, ws, []byte(resp.Body))
		}
	}
}

// write sends a message to the client.
func write(ctx context.Context, ws *websocket.Conn, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return ws.Write(ctx, websocket.MessageText, msg)
}

// isPing reports whether a client's message selects the ping route, as the API's route
// selection expression $request.body.type does: a JSON object whose type is that route's
// key. Every other message selects $default.
func isPing(typ websocket.MessageType, data []byte) bool {
	var m struct {
		Type string `json:"type"`
	}
	return typ == websocket.MessageText && json.Unmarshal(data, &m) == nil && m.Type == liveapi.PingRoute
}

func (g *Gateway) disconnect(id string, r *http.Request, connectedAt time.Time, code websocket.StatusCode, reason string) {
	ev := g.event(r, id, "$disconnect", "DISCONNECT", connectedAt)
	ev.RequestContext.DisconnectStatusCode = int64(code)
	ev.RequestContext.DisconnectReason = &reason
	ctx := context.WithoutCancel(r.Context())
	if _, err := g.invoke(ctx, g.fns.Disconnect, ev); err != nil {
		g.logger.Warn("$disconnect failed", "connectionId", id, "err", err)
	}
}

// invoke calls a route function as Lambda would: with a deadline and a Lambda context.
func (g *Gateway) invoke(ctx context.Context, fn liveapi.RouteHandler, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, functionTimeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       lifecycle.NewID(),
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:" + ev.RequestContext.RouteKey,
	})
	resp, err := fn(ctx, ev)
	if err != nil {
		g.logger.Error("route function returned an error", "routeKey", ev.RequestContext.RouteKey, "connectionId", ev.RequestContext.ConnectionID, "err", err)
	}
	return resp, err
}

// event builds the event API Gateway sends a route's Lambda proxy integration.
func (g *Gateway) event(r *http.Request, id, routeKey, eventType string, connectedAt time.Time) events.APIGatewayWebsocketProxyRequest {
	now := time.Now().UTC()
	// RemoteAddr is host:port, the host in brackets when it is IPv6.
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := events.APIGatewayWebsocketProxyRequest{
		Headers:           map[string]string{},
		MultiValueHeaders: map[string][]string{},
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{
			RouteKey:          routeKey,
			EventType:         eventType,
			ExtendedRequestID: lifecycle.NewID(),
			RequestTime:       now.Format("02/Jan/2006:15:04:05 -0700"),
			MessageDirection:  "IN",
			Stage:             stage,
			ConnectedAt:       connectedAt.UnixMilli(),
			RequestTimeEpoch:  now.UnixMilli(),
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
			RequestID:    lifecycle.NewID(),
			DomainName:   r.Host,
			ConnectionID: id,
			APIID:        "local",
		},
	}
	for k, vs := range r.Header {
		// API Gateway passes the handshake's headers through, as the client named them.
		ev.Headers[k] = strings.Join(vs, ",")
		ev.MultiValueHeaders[k] = vs
	}
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters, ev.MultiValueQueryStringParameters = map[string]string{}, map[string][]string{}
		for k, vs := range q {
			ev.QueryStringParameters[k] = vs[len(vs)-1]
			ev.MultiValueQueryStringParameters[k] = vs
		}
	}
	return ev
}

// newConnectionID returns an id shaped like API Gateway's (16 characters).
func newConnectionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Management is the @connections management API, as the SDK's apigatewaymanagementapi
// client calls it with its endpoint set to this handler's URL.
func (g *Gateway) Management() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /@connections/{id}", g.post)
	mux.HandleFunc("DELETE /@connections/{id}", g.delete)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The management API takes only SigV4-signed calls (IAM authorizes them in AWS).
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
			apiError(w, http.StatusForbidden, "ForbiddenException", "Missing Authentication Token")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (g *Gateway) lookup(w http.ResponseWriter, r *http.Request) (string, *websocket.Conn) {
	id := r.PathValue("id")
	g.mu.Lock()
	ws := g.conns[id]
	g.mu.Unlock()
	if ws == nil {
		apiError(w, http.StatusGone, "GoneException", nil)
	}
	return id, ws
}

func (g *Gateway) post(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMessage))
	if err != nil {
		apiError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException", "Message too long")
		return
	}
	id, ws := g.lookup(w, r)
	if ws == nil {
		return
	}
	if err := write(r.Context(), ws, data); err != nil {
		// The connection broke under the write: it is gone, as API Gateway would say.
		g.logger.Info("write to a connection failed; it is gone", "connectionId", id, "err", err)
		_ = ws.CloseNow()
		apiError(w, http.StatusGone, "GoneException", nil)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (g *Gateway) delete(w http.ResponseWriter, r *http.Request) {
	_, ws := g.lookup(w, r)
	if ws == nil {
		return
	}
	_ = ws.Close(websocket.StatusNormalClosure, "")
	w.WriteHeader(http.StatusNoContent)
}

// apiError answers as the management API does: the error type in X-Amzn-ErrorType.
// A GoneException's message is null.
func apiError(w http.ResponseWriter, status int, typ string, message any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"message": message})
	_, _ = w.Write(b)
}
