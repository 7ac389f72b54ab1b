package console

import (
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

func server(t *testing.T, assets fstest.MapFS) *http.ServeMux {
	t.Helper()
	mux := http.NewServeMux()
	Mount(mux, Config{
		Assets: assets,
		Mint: func(sub string, roles []string, ttl time.Duration, now time.Time) (string, error) {
			return devauth.Mint(testKey, sub, roles, ttl, now)
		},
		Now:    func() time.Time { return t0 },
		Users:  []User{{Sub: "alice", Roles: []string{}, About: "candidate"}, {Sub: "dana", Roles: []string{"Dispatcher"}, About: "dispatcher"}},
		Jobs:   []Job{{ID: "0b000000-0000-4000-8000-000000000003", Title: "Install smart thermostat"}},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
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
	mux := server(t, built)
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
	w := do(server(t, fstest.MapFS{".gitkeep": {}}), httptest.NewRequest("GET", "/console", nil))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "make console") {
		t.Fatalf("got %d %q, want 503 naming make console", w.Code, w.Body.String())
	}
}

func TestAssets(t *testing.T) {
	mux := server(t, built)
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

func tokenRequestTo(host, body string, header map[string]string) *http.Request {
	r := httptest.NewRequest("POST", "/_local/token", strings.NewReader(body))
	r.Host = host
	r.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

func TestTokenSignsWhatWasAskedFor(t *testing.T) {
	mux := server(t, built)
	w := do(mux, tokenRequestTo("127.0.0.1:3000", `{"sub":"dana","roles":["Dispatcher"],"ttlSeconds":60}`, nil))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	var resp tokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if !resp.ExpiresAt.Equal(t0.Add(time.Minute)) || resp.Sub != "dana" {
		t.Errorf("response %+v, want dana expiring at %v", resp, t0.Add(time.Minute))
	}
	claims, err := devauth.Verify(testKey, resp.Token, t0.Add(59*time.Second))
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	if claims["sub"] != "dana" || claims["cognito:groups"] != "[Dispatcher]" {
		t.Errorf("claims %v", claims)
	}
	if _, err := devauth.Verify(testKey, resp.Token, t0.Add(61*time.Second)); err == nil {
		t.Error("token still valid after its ttl")
	}
}

func TestTokenDefaultTTL(t *testing.T) {
	w := do(server(t, built), tokenRequestTo("localhost:3000", `{"sub":"alice"}`, nil))
	var resp tokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != 200 {
		t.Fatalf("%d %s %v", w.Code, w.Body.String(), err)
	}
	if !resp.ExpiresAt.Equal(t0.Add(DefaultTTL)) || resp.Roles == nil {
		t.Errorf("got %+v, want 12h and roles []", resp)
	}
}

func TestTokenRefusals(t *testing.T) {
	mux := server(t, built)
	cases := []struct {
		name, host, body string
		header           map[string]string
		want             int
	}{
		{"not JSON", "127.0.0.1:3000", `sub=alice`, nil, 400},
		{"unknown field", "127.0.0.1:3000", `{"sub":"alice","admin":true}`, nil, 400},
		{"two objects", "127.0.0.1:3000", `{"sub":"alice"}{"sub":"bob"}`, nil, 400},
		{"no sub", "127.0.0.1:3000", `{"roles":["Admin"]}`, nil, 400},
		{"bad sub", "127.0.0.1:3000", `{"sub":"alice bob"}`, nil, 400},
		{"bad role", "127.0.0.1:3000", `{"sub":"alice","roles":["a b"]}`, nil, 400},
		{"too long", "127.0.0.1:3000", `{"sub":"alice","ttlSeconds":43201}`, nil, 400},
		{"negative ttl", "127.0.0.1:3000", `{"sub":"alice","ttlSeconds":-5}`, nil, 400},
		{"huge body", "127.0.0.1:3000", `{"sub":"` + strings.Repeat("a", 5000) + `"}`, nil, 400},
		{"text/plain", "127.0.0.1:3000", `{"sub":"alice"}`, map[string]string{"Content-Type": "text/plain"}, 415},
		{"rebinding host", "evil.example:3000", `{"sub":"alice"}`, nil, 403},
		{"cross origin", "127.0.0.1:3000", `{"sub":"alice"}`, map[string]string{"Origin": "http://evil.example"}, 403},
	}
	for _, c := range cases {
		w := do(mux, tokenRequestTo(c.host, c.body, c.header))
		var body map[string]string
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != c.want || body["error"] == "" || strings.Contains(w.Body.String(), "token\"") {
			t.Errorf("%s: %d %s, want %d with an error and no token", c.name, w.Code, w.Body.String(), c.want)
		}
	}
}

func TestTokenMintFailureIsA500WithoutDetails(t *testing.T) {
	mux := http.NewServeMux()
	Mount(mux, Config{
		Assets: built,
		Mint: func(string, []string, time.Duration, time.Time) (string, error) {
			return "", errors.New("key file unreadable: /secret/path")
		},
		Now:    func() time.Time { return t0 },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	w := do(mux, tokenRequestTo("[::1]:3000", `{"sub":"alice"}`, nil))
	if w.Code != 500 || strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
}

func TestDemo(t *testing.T) {
	w := do(server(t, built), httptest.NewRequest("GET", "/_local/demo", nil))
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
