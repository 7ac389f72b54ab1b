package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/httpapi"
)

var testCORS = &CORS{
	AllowOrigins:  []string{"https://app.example.com"},
	AllowHeaders:  []string{"Authorization", "Content-Type", "Idempotency-Key", "X-Correlation-Id"},
	AllowMethods:  []string{"GET", "POST"},
	ExposeHeaders: []string{"ETag", "X-Correlation-Id"},
	MaxAge:        600,
}

// newTestGateway serves one route whose function answers 200 with its own CORS header
// (which API Gateway ignores when CORS is configured).
func newTestGateway(t *testing.T, cors *CORS) http.Handler {
	t.Helper()
	fn := func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"ETag": `"1"`, "Access-Control-Allow-Origin": "*"}, Body: "{}"}, nil
	}
	h, err := New([]httpapi.Route{{Function: "f", Method: "GET", Path: "/things/{id}"}}, map[string]Handler{"f": fn}, nil, cors, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func serve(h http.Handler, method, path string, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestPreflightsAreAnsweredAsAPIGatewayDoes: with a CorsConfiguration, API Gateway answers
// every preflight itself (no route, no authorizer): 204 with the configuration for an
// allowed origin, 204 without CORS headers for another (the browser then refuses).
// Without one, a preflight finds no route: 404.
func TestPreflightsAreAnsweredAsAPIGatewayDoes(t *testing.T) {
	h := newTestGateway(t, testCORS)
	preflight := map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,idempotency-key"}
	for _, path := range []string{"/things/1", "/no/such/route"} {
		w := serve(h, http.MethodOptions, path, preflight)
		if w.Code != http.StatusNoContent {
			t.Fatalf("%s: preflight status %d", path, w.Code)
		}
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin":  "https://app.example.com",
			"Access-Control-Allow-Methods": "GET,POST",
			"Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key,X-Correlation-Id",
			"Access-Control-Max-Age":       "600",
		} {
			if got := w.Header().Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
	w := serve(h, http.MethodOptions, "/things/1", map[string]string{"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"})
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin's preflight: %d %v", w.Code, w.Header())
	}
	if w := serve(newTestGateway(t, nil), http.MethodOptions, "/things/1", preflight); w.Code != http.StatusNotFound {
		t.Errorf("preflight without CORS: %d", w.Code)
	}
}

func TestResponsesCarryTheConfiguredCORSHeadersOnly(t *testing.T) {
	h := newTestGateway(t, testCORS)
	w := serve(h, http.MethodGet, "/things/1", map[string]string{"Origin": "https://app.example.com"})
	if w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" || w.Header().Get("Access-Control-Expose-Headers") != "ETag,X-Correlation-Id" {
		t.Errorf("allowed origin: headers %v", w.Header())
	}
	w = serve(h, http.MethodGet, "/things/1", map[string]string{"Origin": "https://evil.example.net"})
	if v := w.Header().Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("another origin got Access-Control-Allow-Origin %q (the function's own header must be dropped)", v)
	}
	if w.Code != http.StatusOK || w.Header().Get("Apigw-Requestid") == "" {
		t.Errorf("the request itself is served as before: %d %v", w.Code, w.Header())
	}
}

func TestOriginWildcards(t *testing.T) {
	for _, c := range []struct {
		allow  []string
		origin string
		ok     bool
	}{
		{[]string{"*"}, "http://127.0.0.1:5173", true},
		{[]string{"https://*"}, "https://app.example.com", true},
		{[]string{"https://*"}, "http://app.example.com", false},
		{[]string{"https://app.example.com"}, "https://app.example.com.evil.net", false},
		{[]string{"https://app.example.com"}, "", false},
	} {
		if got := (&CORS{AllowOrigins: c.allow}).allows(c.origin); got != c.ok {
			t.Errorf("%v allows %q = %v", c.allow, c.origin, got)
		}
	}
}
