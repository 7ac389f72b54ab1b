// Command smoke is `make smoke`: a short check of a deployed stage (or of `make run`)
// with a real token. Read-only by default: the caller's sessions are listed, a request
// without a token is refused, an unknown session is a 404 carrying API Gateway's request
// id, and with -origin a browser's preflight from that origin is answered. With -session
// it also moves that session once (-transition pause, resume or cancel), with an
// Idempotency-Key and an X-Correlation-Id it checks come back. Each check prints one
// line; any failure exits 1.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/openapicheck"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

func main() {
	fs := flag.NewFlagSet("smoke", flag.ExitOnError)
	var c Config
	fs.StringVar(&c.URL, "url", "", "the API's base URL (the stack's ApiUrl output, or http://127.0.0.1:3000)")
	fs.StringVar(&c.Token, "token", "", "a JWT of a user of the stage's issuer")
	fs.StringVar(&c.Origin, "origin", "", "a frontend origin whose preflight to check (one of CorsAllowedOrigins)")
	fs.StringVar(&c.Session, "session", "", "a session of the token's user to move once")
	fs.StringVar(&c.Transition, "transition", "pause", "what to do to -session: pause, resume or cancel")
	_ = fs.Parse(os.Args[1:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		os.Exit(1)
	}
}

// Config is what to check.
type Config struct {
	URL, Token, Origin, Session, Transition string
	// Client defaults to one with a 10 s timeout.
	Client *http.Client
}

// transitions are the moves -transition offers, with the status each leaves the session in.
var transitions = map[string]string{"pause": "paused", "resume": "active", "cancel": "cancelled"}

// Run runs the checks, printing a line for each to out; it fails if any failed.
func Run(ctx context.Context, c Config, out io.Writer) error {
	if c.URL == "" || c.Token == "" {
		return errors.New("-url and -token are required")
	}
	if _, ok := transitions[c.Transition]; c.Session != "" && !ok {
		return fmt.Errorf("-transition must be pause, resume or cancel, not %q", c.Transition)
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 10 * time.Second}
	}
	spec, err := repo.Path("openapi.yaml")
	if err != nil {
		return err
	}
	contract, err := openapicheck.Load(spec)
	if err != nil {
		return err
	}
	s := &smoke{Config: c, ctx: ctx, contract: contract, base: strings.TrimRight(c.URL, "/"), out: out}
	s.check("list the caller's sessions", s.list)
	s.check("a request without a token is refused", s.noToken)
	s.check("an unknown session is a 404 with API Gateway's request id", s.unknown)
	if c.Origin != "" {
		s.check("a preflight from "+c.Origin+" is answered", s.preflight)
	}
	if c.Session != "" {
		s.check(c.Transition+" session "+c.Session, s.transition)
	}
	if s.failed > 0 {
		return fmt.Errorf("%d of %d checks failed", s.failed, s.ran)
	}
	fmt.Fprintf(out, "all %d checks passed\n", s.ran)
	return nil
}

type smoke struct {
	Config
	ctx         context.Context
	contract    *openapicheck.Validator
	base        string
	out         io.Writer
	ran, failed int
}

func (s *smoke) check(name string, f func(context.Context) (string, error)) {
	s.ran++
	start := time.Now()
	detail, err := f(s.ctx)
	ms := time.Since(start).Milliseconds()
	if err != nil {
		s.failed++
		fmt.Fprintf(s.out, "FAIL %s (%d ms): %v\n", name, ms, err)
		return
	}
	fmt.Fprintf(s.out, "ok   %s (%s, %d ms)\n", name, detail, ms)
}

// response is one exchange's answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (s *smoke) do(ctx context.Context, method, path string, header map[string]string, body string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, strings.NewReader(body)) // "": http.NoBody
	if err != nil {
		return response{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return response{resp.StatusCode, resp.Header, b}, err
}

// call is do for an answer of the API's own: it must have the status given, and the body
// openapi.yaml says.
func (s *smoke) call(ctx context.Context, method, path string, header map[string]string, body string, status int) (response, error) {
	r, err := s.do(ctx, method, path, header, body)
	switch {
	case err != nil:
		return r, err
	case r.status != status:
		return r, fmt.Errorf("%s %s answered %d, want %d: %s", method, path, r.status, status, bytes.TrimSpace(r.body))
	}
	return r, s.contract.Check(method, path, r.status, r.header, r.body)
}

func (s *smoke) auth(extra map[string]string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + s.Token}
	maps.Copy(h, extra)
	return h
}

func (s *smoke) list(ctx context.Context) (string, error) {
	r, err := s.call(ctx, http.MethodGet, "/interviews?limit=5", s.auth(nil), "", http.StatusOK)
	if err != nil {
		return "", err
	}
	var page struct{ Items []json.RawMessage }
	if err := json.Unmarshal(r.body, &page); err != nil {
		return "", err
	}
	return fmt.Sprintf("200, %d sessions", len(page.Items)), nil
}

func (s *smoke) noToken(ctx context.Context) (string, error) {
	r, err := s.do(ctx, http.MethodGet, "/interviews", nil, "")
	if err != nil {
		return "", err
	}
	if r.status != http.StatusUnauthorized {
		return "", fmt.Errorf("answered %d, want 401: %s", r.status, bytes.TrimSpace(r.body))
	}
	return "401", nil
}

func (s *smoke) unknown(ctx context.Context) (string, error) {
	path := "/interviews/" + lifecycle.NewID()
	corr := "smoke-" + lifecycle.NewID()
	r, err := s.call(ctx, http.MethodGet, path, s.auth(map[string]string{"X-Correlation-Id": corr}), "", http.StatusNotFound)
	if err != nil {
		return "", err
	}
	var body struct{ RequestID string }
	if err := json.Unmarshal(r.body, &body); err != nil {
		return "", err
	}
	apigw := r.header.Get("Apigw-Requestid")
	switch {
	case apigw == "" || body.RequestID != apigw:
		return "", fmt.Errorf("requestId %q, apigw-requestid header %q: want API Gateway's request id in both", body.RequestID, apigw)
	case r.header.Get("X-Correlation-Id") != corr:
		return "", fmt.Errorf("X-Correlation-Id came back as %q, want %q", r.header.Get("X-Correlation-Id"), corr)
	}
	return "404, requestId " + body.RequestID, nil
}

func (s *smoke) preflight(ctx context.Context) (string, error) {
	r, err := s.do(ctx, http.MethodOptions, "/interviews", map[string]string{
		"Origin": s.Origin, "Access-Control-Request-Method": http.MethodPost,
		"Access-Control-Request-Headers": "authorization,content-type,idempotency-key,x-correlation-id",
	}, "")
	if err != nil {
		return "", err
	}
	allow := r.header.Get("Access-Control-Allow-Origin")
	if r.status/100 != 2 || (allow != s.Origin && allow != "*") {
		return "", fmt.Errorf("answered %d with Access-Control-Allow-Origin %q, want 2xx and %s "+
			"(the API admits the origins of CorsAllowedOrigins; make run admits those of make run CORS_ORIGINS=%s)", r.status, allow, s.Origin, s.Origin)
	}
	for _, h := range []string{"idempotency-key", "x-correlation-id"} {
		if !strings.Contains(strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), h) {
			return "", fmt.Errorf("Access-Control-Allow-Headers %q lacks %s", r.header.Get("Access-Control-Allow-Headers"), h)
		}
	}
	return fmt.Sprintf("%d, Access-Control-Allow-Origin %s", r.status, allow), nil
}

func (s *smoke) transition(ctx context.Context) (string, error) {
	path := "/interviews/" + s.Session + "/" + s.Transition
	key := "smoke-" + lifecycle.NewID()
	body := "{}"
	if s.Transition == "cancel" {
		body = `{"reason":"smoke test"}`
	}
	header := s.auth(map[string]string{"Content-Type": "application/json", "Idempotency-Key": key, "X-Correlation-Id": key})
	r, err := s.call(ctx, http.MethodPost, path, header, body, http.StatusOK)
	if err != nil {
		return "", err
	}
	var got struct {
		Status  string
		Session struct{ Status string }
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		return "", err
	}
	status := got.Status
	if status == "" {
		status = got.Session.Status // cancel's body carries the session
	}
	switch {
	case status != transitions[s.Transition]:
		return "", fmt.Errorf("the session is %q, want %q", status, transitions[s.Transition])
	case r.header.Get("X-Correlation-Id") != key:
		return "", fmt.Errorf("X-Correlation-Id came back as %q, want %q", r.header.Get("X-Correlation-Id"), key)
	case r.header.Get("ETag") == "":
		return "", errors.New("no ETag")
	}
	return "200, " + status + ", ETag " + r.header.Get("ETag"), nil
}
