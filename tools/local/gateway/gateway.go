// Package gateway stands in for API Gateway's HTTP API on a developer's machine: it turns
// each HTTP request into the payload 2.0 event API Gateway would send (route key, path
// parameters, JWT claims from a verified bearer token, request id) and invokes the
// function's Lambda handler with it, as `sam local start-api` does. The functions run
// exactly the code they run in AWS, api-proxy included.
package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lifecycle-api/lifecycle/shared/auth"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Handler is a Lambda handler for HTTP API payload 2.0 events.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Verifier checks a bearer token and returns its claims, flattened as API Gateway does.
type Verifier func(token string) (map[string]string, error)

const (
	maxPayload      = 10 << 20         // API Gateway's request payload limit
	functionTimeout = 10 * time.Second // the functions' Timeout in template.yaml
	bodyReadTimeout = 10 * time.Second // how long a request body may take to arrive
)

// gatewayError writes one of API Gateway's own answers: {"message": …}.
func gatewayError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": message})
	w.Write(b)
}

// New returns the local gateway. Unknown routes get API Gateway's own 404. A missing or
// invalid token reaches the function with no claims, so the function's own 401 answers
// (in AWS the authorizer answers first, with {"message":"Unauthorized"}). With cors, it
// answers preflights and sets CORS headers as API Gateway does (see CORS).
func New(routes []httpapi.Route, fns map[string]Handler, verify Verifier, cors *CORS, logger *slog.Logger) (http.Handler, error) {
	mux := http.NewServeMux()
	for _, rt := range routes {
		fn, ok := fns[rt.Function]
		if !ok {
			return nil, fmt.Errorf("no handler for function %q", rt.Function)
		}
		mux.Handle(rt.Pattern(), invoke(rt, fn, verify, logger))
	}
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gatewayError(w, http.StatusNotFound, "Not Found")
	})
	mux.Handle("/", notFound)
	declaresHead := slices.ContainsFunc(routes, func(rt httpapi.Route) bool { return rt.Method == http.MethodHead })
	return withCORS(cors, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A route matches the path as sent. net/http's mux would clean "//a/../b" and
		// route it; API Gateway matches no route for it, and neither do we. (Encoded
		// characters stay encoded here and reach the function, which validates them.)
		if p := r.URL.EscapedPath(); p == "" || path.Clean(p) != p {
			notFound(w, r)
			return
		}
		// net/http's mux serves HEAD on a GET route; API Gateway routes HEAD only to a
		// route that declares it.
		if r.Method == http.MethodHead && !declaresHead {
			notFound(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})), nil
}

var paramName = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

func invoke(rt httpapi.Route, fn Handler, verify Verifier, logger *slog.Logger) http.Handler {
	routeKey := rt.Pattern()
	params := paramName.FindAllStringSubmatch(rt.Path, -1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A body that stops short of its Content-Length must not hold the connection (and a
		// goroutine) for ever: it has bodyReadTimeout to arrive.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyReadTimeout))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayload))
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			gatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		if err != nil {
			w.Header().Set("Connection", "close")
			gatewayError(w, http.StatusRequestTimeout, "Request Timeout")
			return
		}
		ev := Event(r, routeKey, body)
		for _, p := range params {
			if ev.PathParameters == nil {
				ev.PathParameters = map[string]string{}
			}
			ev.PathParameters[p[1]] = r.PathValue(p[1])
		}
		// The token alone, or prefixed with "Bearer ", as the JWT authorizer takes it.
		if tok := strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); tok != "" && verify != nil {
			claims, err := verify(tok)
			if err != nil {
				logger.Info("local authorizer rejected the token", "err", err.Error(), "route", routeKey)
			} else {
				// A route with scopes takes only a token that grants one of them, as API
				// Gateway's JWT authorizer does (AuthorizationScopes): its own 403, before
				// the function.
				granted := auth.ParseScopes(claims)
				if len(rt.Scopes) > 0 && !slices.ContainsFunc(rt.Scopes, func(s string) bool { return slices.Contains(granted, s) }) {
					logger.Info("local authorizer: the token lacks the route's scope", "route", routeKey, "scopes", rt.Scopes)
					gatewayError(w, http.StatusForbidden, "Forbidden")
					return
				}
				ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
					JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: granted},
				}
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), functionTimeout)
		defer cancel()
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
			AwsRequestID:       lifecycle.NewID(),
			InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:" + rt.Function,
		})
		// API Gateway names its request id in every response's apigw-requestid header.
		w.Header().Set("Apigw-Requestid", ev.RequestContext.RequestID)
		resp, err := fn(ctx, ev)
		if err != nil {
			logger.Error("function returned an error", "function", rt.Function, "err", err)
			gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		WriteResponse(w, resp)
	})
}

// Event builds the payload 2.0 event API Gateway sends for r on routeKey, without path
// parameters or authorizer claims.
func Event(r *http.Request, routeKey string, body []byte) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.String())
	}
	now := time.Now().UTC()
	// RemoteAddr is host:port, the host in brackets when it is IPv6.
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    lifecycle.NewID(),
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// WriteResponse writes a function's payload 2.0 response as API Gateway would.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(body)
}
