package httpapi

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestHandlersServeEveryFunction: Handlers has exactly the functions of the route table,
// each serves its own routes, and each logs as its function.
func TestHandlersServeEveryFunction(t *testing.T) {
	logger, logs := newLogger()
	handlers := Handlers(logger, defaults, Stores{Interviews: demoStore(), Jobs: demoJobs()})
	var fromRoutes []string
	for _, r := range Routes() {
		if !slices.Contains(fromRoutes, r.Function) {
			fromRoutes = append(fromRoutes, r.Function)
		}
	}
	if got := slices.Sorted(maps.Keys(handlers)); !slices.Equal(got, slices.Sorted(slices.Values(fromRoutes))) {
		t.Fatalf("Handlers has %v, the route table %v", got, fromRoutes)
	}
	for _, r := range Routes() {
		path := strings.ReplaceAll(r.Path, "{id}", aliceActive)
		resp := invokeUnchecked(t, handlers[r.Function], request{
			method: r.Method, path: path, routeKey: r.Pattern(), id: aliceActive, sub: "alice",
		}.event())
		if code := decodeBody(t, resp)["code"]; code == codeRouteNotFound {
			t.Errorf("%s: %s answers %d %s", r.Function, r.Pattern(), resp.StatusCode, resp.Body)
		}
		var line map[string]any
		for _, l := range logs.lines(t) {
			if l["msg"] == "request" && l["path"] == path && l["method"] == r.Method {
				line = l
			}
		}
		if line == nil || line["function"] != r.Function {
			t.Errorf("%s: access line %v, want function %s", r.Pattern(), line, r.Function)
		}
	}
	if resp := invokeUnchecked(t, handlers[FnGetJob], request{method: http.MethodGet, path: "/interviews", sub: "alice"}.event()); resp.StatusCode != http.StatusNotFound {
		t.Errorf("get-job served another function's route: %d", resp.StatusCode)
	}
}
