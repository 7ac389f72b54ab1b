package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
)

// TestUndeclaredMethodIsTheGatewaysNotFound: API Gateway HTTP APIs route on method and path
// together, so a method no route declares on a path that exists (HEAD on a GET route too,
// which net/http's mux would serve) is the same 404
// {"message":"Not Found"} as an unknown path: no 405, no Allow header. openapi.yaml says so,
// and tests/apifuzz/schemathesis.toml accepts schemathesis's 405 check failing for it.
func TestUndeclaredMethodIsTheGatewaysNotFound(t *testing.T) {
	h := newTestGateway(t, testCORS)
	for _, m := range []string{http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodTrace, "PROPFIND"} {
		w := serve(h, m, "/things/1", map[string]string{"Authorization": "Bearer x"})
		if w.Code != http.StatusNotFound || w.Body.String() != `{"message":"Not Found"}` || w.Header().Get("Allow") != "" {
			t.Errorf("%s /things/1 = %d %q (Allow %q), want API Gateway's 404", m, w.Code, w.Body.String(), w.Header().Get("Allow"))
		}
	}
	if w := serve(h, http.MethodGet, "/things/1", nil); w.Code != http.StatusOK {
		t.Errorf("GET /things/1 = %d, want the route's answer", w.Code)
	}
}

// TestScopedRoutesAskTheTokenForTheirScope: a route with scopes (AuthorizationScopes in
// template.yaml) takes a token that grants one of them, and answers any other verified
// token with the gateway's own 403, before the function; routes without scopes take any.
func TestScopedRoutesAskTheTokenForTheirScope(t *testing.T) {
	var calls int
	fn := func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		calls++
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "{}"}, nil
	}
	tokens := map[string]map[string]string{
		"service": {"sub": "svc", "scope": "lifecycle/interviews.progress"},
		"several": {"sub": "svc", "scope": "openid lifecycle/interviews.progress"},
		"scp":     {"sub": "svc", "scp": "[lifecycle/interviews.progress]"},
		"user":    {"sub": "alice"},
		"other":   {"sub": "svc", "scope": "lifecycle/other"},
	}
	verify := func(tok string) (map[string]string, error) {
		if c, ok := tokens[tok]; ok {
			return c, nil
		}
		return nil, errors.New("bad token")
	}
	h, err := New([]httpapi.Route{
		{Function: "f", Method: "POST", Path: "/scoped/{id}", Scopes: []string{"lifecycle/interviews.progress"}},
		{Function: "f", Method: "POST", Path: "/open/{id}"},
	}, map[string]Handler{"f": fn}, verify, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, token string
		status      int
		body        string
	}{
		{"/scoped/1", "service", 200, "{}"},
		{"/scoped/1", "several", 200, "{}"},
		{"/scoped/1", "scp", 200, "{}"},
		{"/scoped/1", "user", 403, `{"message":"Forbidden"}`},
		{"/scoped/1", "other", 403, `{"message":"Forbidden"}`},
		{"/open/1", "user", 200, "{}"},
		{"/open/1", "service", 200, "{}"},
	} {
		before := calls
		w := serve(h, http.MethodPost, c.path, map[string]string{"Authorization": "Bearer " + c.token})
		if w.Code != c.status || w.Body.String() != c.body {
			t.Errorf("%s as %s = %d %s, want %d %s", c.path, c.token, w.Code, w.Body.String(), c.status, c.body)
		}
		if reached := calls > before; reached != (c.status == 200) {
			t.Errorf("%s as %s: the function ran %v", c.path, c.token, reached)
		}
	}
}

// TestTheTokenMayComeWithoutBearer: as the JWT authorizer does, the local one takes the
// Authorization header's token alone or prefixed with "Bearer "; another scheme is no token.
func TestTheTokenMayComeWithoutBearer(t *testing.T) {
	var sub string
	fn := func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		sub = ""
		if a := ev.RequestContext.Authorizer; a != nil && a.JWT != nil {
			sub = a.JWT.Claims["sub"]
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "{}"}, nil
	}
	verify := func(tok string) (map[string]string, error) {
		if tok == "alice-token" {
			return map[string]string{"sub": "alice"}, nil
		}
		return nil, errors.New("bad token")
	}
	h, err := New([]httpapi.Route{{Function: "f", Method: "GET", Path: "/things/{id}"}},
		map[string]Handler{"f": fn}, verify, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for header, want := range map[string]string{"Bearer alice-token": "alice", "alice-token": "alice", "Basic alice-token": "", "Bearer ": ""} {
		if w := serve(h, http.MethodGet, "/things/1", map[string]string{"Authorization": header}); w.Code != 200 || sub != want {
			t.Errorf("Authorization %q: %d, claims' sub %q, want %q", header, w.Code, sub, want)
		}
	}
}

// TestEventCarriesTheCallersAddress: sourceIp is the caller's address without its port, an
// IPv6 one too (RemoteAddr brackets it).
func TestEventCarriesTheCallersAddress(t *testing.T) {
	for remote, want := range map[string]string{"127.0.0.1:5123": "127.0.0.1", "[::1]:5123": "::1"} {
		r := httptest.NewRequest(http.MethodGet, "/v1/interviews", nil)
		r.RemoteAddr = remote
		if got := Event(r, "GET /v1/interviews", nil).RequestContext.HTTP.SourceIP; got != want {
			t.Errorf("RemoteAddr %s: sourceIp %q, want %q", remote, got, want)
		}
	}
}
