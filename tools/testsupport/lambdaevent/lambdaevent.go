// Package lambdaevent builds the event API Gateway's HTTP API hands a function (payload
// 2.0), for the tests that invoke handlers as Lambda does: the handlers' own tests and
// their benchmarks.
package lambdaevent

import "github.com/aws/aws-lambda-go/events"

// HTTP is one request as the HTTP API hands it to a function.
type HTTP struct {
	Method, Path, RouteKey string
	// ID, when set, is the route's {id} path parameter.
	ID string
	// Headers have lower-case names, as API Gateway gives them.
	Headers map[string]string
	Body    string
	// Claims are what the JWT authorizer verified (Claims builds them); nil: no token.
	Claims map[string]string
	// RequestID is API Gateway's id of the request.
	RequestID string
}

// Event is the payload 2.0 event of the request.
func (h HTTP) Event() events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: h.RouteKey, RawPath: h.Path, Headers: h.Headers, Body: h.Body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: h.RequestID, RouteKey: h.RouteKey, Stage: "$default", DomainName: "example.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: h.Method, Path: h.Path},
		},
	}
	if h.ID != "" {
		ev.PathParameters = map[string]string{"id": h.ID}
	}
	if h.Claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: h.Claims},
		}
	}
	return ev
}

// Claims are a token's claims as the authorizer hands them on: sub, and, when set, the
// roles (the cognito:groups claim, as the authorizer flattens an array: "[a b]") and a
// service's scope.
func Claims(sub, roles, scope string) map[string]string {
	c := map[string]string{"sub": sub}
	if roles != "" {
		c["cognito:groups"] = roles
	}
	if scope != "" {
		c["scope"] = scope
	}
	return c
}
