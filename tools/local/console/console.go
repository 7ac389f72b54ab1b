// Package console serves the web console on the local server (`make run`): the built
// TypeScript app at /console, embedded from dist (which `make console` fills), and the
// local-only endpoints it needs: POST /_local/token signs a dev token for a demo user, GET
// /_local/demo lists the demo users and jobs, POST /_local/reset puts the demo data back.
// local-api.yaml documents those endpoints (the console's client is typed from it, and the
// tests hold every answer to it). Nothing here is deployed.
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Assets is the built console: index.html and assets/. It holds only a placeholder until
// `make console` has run (make run and make test run it).
func Assets() fs.FS {
	sub, _ := fs.Sub(dist, "dist") // "dist" is a valid path, so this cannot fail
	return sub
}

// User is a demo caller the sign-in page offers.
type User struct {
	Sub   string   `json:"sub"`
	Roles []string `json:"roles"`
	About string   `json:"about"`
}

// Job is a demo job the jobs page offers to look up.
type Job struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Config is what the console needs from the local server.
type Config struct {
	Assets fs.FS
	// Mint signs a dev token valid for ttl from now, as `make token` does.
	Mint   func(sub string, roles []string, ttl time.Duration, now time.Time) (string, error)
	Now    func() time.Time
	Users  []User
	Jobs   []Job
	Logger *slog.Logger
	// Reset, when set, puts the demo data back (POST /_local/reset).
	Reset func(context.Context) error
}

// Limits of the token endpoint.
const (
	DefaultTTL = 12 * time.Hour
	MaxTTL     = 12 * time.Hour
	maxBody    = 4 << 10
)

// Mount adds the console's routes to mux.
func Mount(mux *http.ServeMux, c Config) {
	page := handlePage(c.Assets)
	mux.Handle("GET /console", page)
	mux.Handle("GET /console/{$}", page)
	mux.Handle("GET /console/assets/", handleAssets(c.Assets))
	mux.Handle("POST /_local/token", localOnly(handleToken(c)))
	mux.Handle("GET /_local/demo", handleDemo(c))
	if c.Reset != nil {
		mux.Handle("POST /_local/reset", localOnly(handleReset(c)))
	}
}

// handleReset puts the demo data back; the console and `make reset` call it.
func handleReset(c Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.Reset(r.Context()); err != nil {
			c.Logger.Error("reset the demo data", "err", err)
			writeError(w, http.StatusInternalServerError, "the demo data could not be reset; see the server's log")
			return
		}
		c.Logger.Info("demo data reset")
		writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
	})
}

// csp allows the console's own script, styles and API calls, and nothing else.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func handlePage(assets fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		index, err := fs.ReadFile(assets, "index.html")
		if err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "The console is not built: run `make console` (make run and make test build it), then restart the server.\n")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		_, _ = w.Write(index)
	})
}

// handleAssets serves the hashed bundles, cacheable for good; no directory listings.
func handleAssets(assets fs.FS) http.Handler {
	files := http.StripPrefix("/console/", http.FileServerFS(assets))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// localOnly refuses requests addressed to anything but this machine's loopback (a page
// elsewhere that rebinds its name to 127.0.0.1 sends its own Host) and cross-origin posts.
func localOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			writeError(w, http.StatusForbidden, "local-only endpoint: address the server as 127.0.0.1 or localhost")
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			writeError(w, http.StatusForbidden, "local-only endpoint: cross-origin requests are refused")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host).IsLoopback() // a nil IP is no loopback
}

var (
	subPattern  = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)
	rolePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

type tokenRequest struct {
	Sub        string   `json:"sub"`
	Roles      []string `json:"roles"`
	TTLSeconds int      `json:"ttlSeconds"`
}

type tokenResponse struct {
	Token     string    `json:"token"`
	Sub       string    `json:"sub"`
	Roles     []string  `json:"roles"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// decodeTokenRequest validates a token request; the error is the message for the caller.
func decodeTokenRequest(r *http.Request) (tokenRequest, int, error) {
	var req tokenRequest
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return req, http.StatusUnsupportedMediaType, errors.New("send the request as application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, http.StatusBadRequest, errors.New(`body must be {"sub": "...", "roles": [...], "ttlSeconds": n}`)
	}
	if dec.More() {
		return req, http.StatusBadRequest, errors.New("body must be one JSON object")
	}
	switch {
	case !subPattern.MatchString(req.Sub):
		return req, http.StatusBadRequest, errors.New("sub must be 1-64 characters of A-Z a-z 0-9 . _ @ -")
	case len(req.Roles) > 10:
		return req, http.StatusBadRequest, errors.New("at most 10 roles")
	case req.TTLSeconds < 0 || time.Duration(req.TTLSeconds)*time.Second > MaxTTL:
		return req, http.StatusBadRequest, errors.New("ttlSeconds must be between 1 and 43200 (0 means 12 hours)")
	}
	for _, role := range req.Roles {
		if !rolePattern.MatchString(role) {
			return req, http.StatusBadRequest, errors.New("each role must be 1-64 characters of A-Z a-z 0-9 _ -")
		}
	}
	return req, 0, nil
}

func handleToken(c Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, status, err := decodeTokenRequest(r)
		if err != nil {
			writeError(w, status, err.Error())
			return
		}
		ttl := DefaultTTL
		if req.TTLSeconds > 0 {
			ttl = time.Duration(req.TTLSeconds) * time.Second
		}
		if req.Roles == nil {
			req.Roles = []string{}
		}
		now := c.Now()
		tok, err := c.Mint(req.Sub, req.Roles, ttl, now)
		if err != nil {
			c.Logger.Error("cannot mint a dev token", "err", err)
			writeError(w, http.StatusInternalServerError, "cannot sign a token")
			return
		}
		// The token's exp is in whole seconds.
		exp := time.Unix(now.Add(ttl).Unix(), 0).UTC()
		writeJSON(w, http.StatusOK, tokenResponse{Token: tok, Sub: req.Sub, Roles: req.Roles, ExpiresAt: exp})
	})
}

func handleDemo(c Config) http.Handler {
	body := struct {
		Users []User `json:"users"`
		Jobs  []Job  `json:"jobs"`
	}{Users: c.Users, Jobs: c.Jobs}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, body)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
