// Package browser runs the browser tests in web/tests (node's test runner, playwright-core
// driving a headless Chrome or Chromium, as prereq.BrowserPath finds it) against the real
// local stack: moto (DynamoDB, EventBridge, SQS), every function behind the local API
// Gateway stand-in, the docs page and the console. The browser, playwright-core, the built
// console and moto are required: under `make test` or CI a missing one fails the test; a
// plain `go test ./...` skips it with one line saying so.
package browser

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
	"github.com/lifecycle-api/lifecycle/tools/repo"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

func TestBrowser(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	prereq.Need(t, prereq.Moto, prereq.Browser, prereq.Console)
	chromium := prereq.BrowserPath()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	key := []byte("browser-test-signing-key-0123456789")
	// A second loopback origin for web/tests/cors.test.mjs: the API admits it, as the
	// CorsAllowedOrigins parameter admits a frontend's origin; the same page under
	// localhost is an origin it does not admit.
	crossOrigin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>a frontend on another origin</title>")
	}))
	defer crossOrigin.Close()
	corsToken, err := devauth.Mint(key, "alice", nil, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The conversation service's token (client credentials, the progress scope), for the
	// live test that records an interaction: the console signs in only users.
	serviceToken, err := devauth.MintService(key, "conversation-service", []string{interview.ScopeProgress}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, err := stack.Start(ctx, stack.Options{
		CORSOrigins: []string{crossOrigin.URL},
		Table:       "browser",
		AuditTable:  "browser-audit",
		LogDir:      filepath.Join(root, "test-output", "browser"),
		Logger:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Verify:      func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
		Docs:        true,
		// web/tests/resume.test.mjs pauses for seconds, not the product's minute.
		Wiring: func(c *wiring.Config) { c.ResumeMinLead = 2 * time.Second },
		Mint: func(sub string, roles []string, ttl time.Duration, now time.Time) (string, error) {
			return devauth.Mint(key, sub, roles, ttl, now)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(st.Handler)
	defer srv.Close()

	// The routes as openapi.yaml lists them: the /api server prefix removed.
	var routes []string
	for _, r := range httpapi.Routes() {
		p := r.Method + " " + strings.TrimPrefix(r.Path, "/api")
		if !slices.Contains(routes, p) {
			routes = append(routes, p)
		}
	}
	routesJSON, _ := json.Marshal(routes)

	// One file at a time: the files share the demo users, and a live test's events would
	// reach another file's pages of the same user.
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-concurrency=1", "--test-reporter=spec", "tests/")
	cmd.Dir = filepath.Join(root, "web")
	cmd.Env = append(os.Environ(),
		"BASE_URL="+srv.URL,
		"OUTPUT_DIR="+filepath.Join(root, "test-output", "browser"),
		"CHROMIUM="+chromium,
		"ROUTES="+string(routesJSON),
		"CORS_PAGE_URL="+crossOrigin.URL,
		"CORS_OTHER_URL="+strings.Replace(crossOrigin.URL, "127.0.0.1", "localhost", 1),
		"CORS_TOKEN="+corsToken,
		"LIFECYCLE_SERVICE_TOKEN="+serviceToken,
		"CORS_SESSION="+demodata.AliceCompleted,
		"CORS_MISSING="+demodata.MissingSession,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("browser tests:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}
