package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// LambdaHandler is a Lambda handler for HTTP API payload 2.0 events.
type LambdaHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Lambda wraps a function's handler for API Gateway with aws-lambda-go-api-proxy. The
// adapter cannot build a request from some events (a path with a bad percent escape or an
// encoded control character); those are the client's mistake and get the documented 400,
// not a failed invocation. Anything else the adapter fails on is logged and answered 500.
func Lambda(logger *slog.Logger, h http.Handler) LambdaHandler {
	adapter := httpadapter.NewV2(h)
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp, err := adapter.ProxyWithContext(context.WithValue(ctx, eventHeadersKey{}, ev.Headers), ev)
		if err == nil {
			return resp, nil
		}
		refusal := err // the error table answers what it does not know with a 500
		if _, rerr := (&core.RequestAccessorV2{}).EventToRequest(ev); rerr != nil {
			refusal = invalid("the request path or method could not be read")
		}
		ids := newRequestIDs(ev.RequestContext.RequestID, headerOf(ev, CorrelationHeader))
		w := core.NewProxyResponseWriterV2()
		w.Header().Set(CorrelationHeader, ids.correlationID)
		status, _ := writeError(w, "", ids.requestID, refusal)
		logger.Warn("request refused before routing", "status", status, "err", err.Error(), "requestId", ids.requestID, "correlationId", ids.correlationID)
		return w.GetProxyResponse()
	}
}

// headerOf returns ev's header name, whatever its case (API Gateway lower-cases them).
func headerOf(ev events.APIGatewayV2HTTPRequest, name string) string {
	v, _ := lookup(ev.Headers, name)
	return v
}

func lookup(headers map[string]string, name string) (string, bool) {
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

type eventHeadersKey struct{}

// clientHeader returns the value of a request header as the client sent it, and how many
// values it has. Behind API Gateway that is the event's own value: the payload 2.0 event
// joins repeated headers with commas, and aws-lambda-go-api-proxy splits every value on
// commas again, which would break a single value that contains one (an Idempotency-Key
// "a,b" would read as two keys). Elsewhere (a plain net/http server) it is the request's.
func clientHeader(r *http.Request, name string) (string, int) {
	if hs, ok := r.Context().Value(eventHeadersKey{}).(map[string]string); ok {
		if v, ok := lookup(hs, name); ok {
			return v, 1
		}
		return "", 0
	}
	vs := r.Header.Values(name)
	if len(vs) == 0 {
		return "", 0
	}
	return vs[0], len(vs)
}
