package console

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
)

var (
	testKey = []byte("console-test-key-0123456789abcdef")
	t0      = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
)

// errFailure is what Mint and Reset fail with when told to; no answer may show it.
var errFailure = errors.New("key file unreadable: /secret/path")

// server mounts the console on assets with every local endpoint; mint and reset fail when
// fails is set.
func server(assets fstest.MapFS, fails bool) *http.ServeMux {
	mux := http.NewServeMux()
	Mount(mux, Config{
		Assets: assets,
		Mint: func(sub string, roles []string, ttl time.Duration, now time.Time) (string, error) {
			if fails {
				return "", errFailure
			}
			return devauth.Mint(testKey, sub, roles, ttl, now)
		},
		Now:    func() time.Time { return t0 },
		Users:  []User{{Sub: "alice", Roles: []string{}, About: "candidate"}, {Sub: "dana", Roles: []string{"Dispatcher"}, About: "dispatcher"}},
		Jobs:   []Job{{ID: "0b000000-0000-4000-8000-000000000003", Title: "Install smart thermostat"}},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Reset: func(context.Context) error {
			if fails {
				return errFailure
			}
			return nil
		},
	})
	return mux
}

var built = fstest.MapFS{
	"index.html":          {Data: []byte(`<!doctype html><script type="module" src="/console/assets/index-abc.js"></script>`)},
	"assets/index-abc.js": {Data: []byte(`console.log("hi")`)},
	".gitkeep":            {Data: nil},
}

func do(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPage(t *testing.T) {
	mux := server(built, false)
	for _, path := range []string{"/console", "/console/"} {
		w := do(mux, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 || !strings.Contains(w.Body.String(), "/console/assets/index-abc.js") {
			t.Fatalf("GET %s: %d %q", path, w.Code, w.Body.String())
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
	}
}

func TestPageNotBuilt(t *testing.T) {
	w := do(server(fstest.MapFS{".gitkeep": {}}, false), httptest.NewRequest("GET", "/console", nil))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "make console") {
		t.Fatalf("got %d %q, want 503 naming make console", w.Code, w.Body.String())
	}
}

func TestAssets(t *testing.T) {
	mux := server(built, false)
	w := do(mux, httptest.NewRequest("GET", "/console/assets/index-abc.js", nil))
	if w.Code != 200 || w.Body.String() != `console.log("hi")` {
		t.Fatalf("asset: %d %q", w.Code, w.Body.String())
	}
	if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q, want immutable (the names are content hashes)", cc)
	}
	for _, path := range []string{"/console/assets/", "/console/assets/missing.js", "/console/assets/../index.html"} {
		// A 404, or the mux's redirect to the cleaned path: never the file.
		if w := do(mux, httptest.NewRequest("GET", path, nil)); w.Code == http.StatusOK || strings.Contains(w.Body.String(), "<script") {
			t.Errorf("GET %s: %d %q, want no listing and nothing outside assets", path, w.Code, w.Body.String())
		}
	}
}

// TestTokenSignsWhatWasAskedFor: the token verifies with the sub and roles asked for, until
// the ttl asked for (12 hours when none is) and no longer, and the answer says when.
func TestTokenSignsWhatWasAskedFor(t *testing.T) {
	for _, c := range []struct {
		body, sub, groups string
		ttl               time.Duration
	}{
		{`{"sub":"dana","roles":["Dispatcher"],"ttlSeconds":60}`, "dana", "[Dispatcher]", time.Minute},
		{`{"sub":"alice"}`, "alice", "", DefaultTTL},
	} {
		r := httptest.NewRequest("POST", "/_local/token", strings.NewReader(c.body))
		r.Host = "localhost:3000"
		r.Header.Set("Content-Type", "application/json")
		w := do(server(built, false), r)
		var resp tokenResponse
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != 200 {
			t.Fatalf("%s: %d %s %v", c.body, w.Code, w.Body.String(), err)
		}
		if !resp.ExpiresAt.Equal(t0.Add(c.ttl)) || resp.Sub != c.sub || resp.Roles == nil {
			t.Errorf("%s: response %+v, want %s with roles expiring at %v", c.body, resp, c.sub, t0.Add(c.ttl))
		}
		claims, err := devauth.Verify(testKey, resp.Token, t0.Add(c.ttl-time.Second))
		if err != nil || claims["sub"] != c.sub || claims["cognito:groups"] != c.groups {
			t.Errorf("%s: claims %v, %v", c.body, claims, err)
		}
		if _, err := devauth.Verify(testKey, resp.Token, t0.Add(c.ttl+time.Second)); err == nil {
			t.Errorf("%s: token still valid after its ttl", c.body)
		}
	}
}

func TestDemo(t *testing.T) {
	w := do(server(built, false), httptest.NewRequest("GET", "/_local/demo", nil))
	var body struct {
		Users []User
		Jobs  []Job
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 200 {
		t.Fatalf("%d %s %v", w.Code, w.Body.String(), err)
	}
	if len(body.Users) != 2 || body.Users[1].Roles[0] != "Dispatcher" || len(body.Jobs) != 1 {
		t.Errorf("got %+v", body)
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:3000": true, "localhost:3000": true, "LOCALHOST": true, "[::1]:3000": true, "127.0.0.2": true,
		"192.168.1.10:3000": false, "evil.example": false, "localhost.evil.example:3000": false, "": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
