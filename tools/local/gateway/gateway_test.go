package gateway

import (
	"net/http"
	"testing"
)

// TestUndeclaredMethodIsTheGatewaysNotFound: API Gateway HTTP APIs route on method and path
// together, so a method no route declares on a path that exists is the same 404
// {"message":"Not Found"} as an unknown path: no 405, no Allow header. openapi.yaml says so,
// and tests/apifuzz/schemathesis.toml accepts schemathesis's 405 check failing for it.
func TestUndeclaredMethodIsTheGatewaysNotFound(t *testing.T) {
	h := newTestGateway(t, testCORS)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodTrace, "PROPFIND"} {
		w := serve(h, m, "/things/1", map[string]string{"Authorization": "Bearer x"})
		if w.Code != http.StatusNotFound || w.Body.String() != `{"message":"Not Found"}` || w.Header().Get("Allow") != "" {
			t.Errorf("%s /things/1 = %d %q (Allow %q), want API Gateway's 404", m, w.Code, w.Body.String(), w.Header().Get("Allow"))
		}
	}
	if w := serve(h, http.MethodGet, "/things/1", nil); w.Code != http.StatusOK {
		t.Errorf("GET /things/1 = %d, want the route's answer", w.Code)
	}
}
