package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// TestSmokeAgainstTheLocalAPI runs `make smoke` against the local stack `make run` serves
// (it cannot reach a deployed stage here): every check passes on a healthy API, and each
// fails when what it checks is wrong.
func TestSmokeAgainstTheLocalAPI(t *testing.T) {
	prereq.Need(t, prereq.Moto)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	key := []byte("smoke-test-signing-key-0123456789abcdef")
	const origin = "https://app.example.com"
	st, err := stack.Start(ctx, stack.Options{
		Table: "smoke", AuditTable: "smoke-audit", LogDir: filepath.Join(t.TempDir(), "logs"),
		Logger:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Verify:      func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
		CORSOrigins: []string{origin},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(st.Handler)
	defer srv.Close()
	alice, err := devauth.Mint(key, "alice", nil, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	run := func(c Config) (string, error) {
		var out strings.Builder
		c.URL = srv.URL
		err := Run(ctx, c, &out)
		return out.String(), err
	}

	out, err := run(Config{Token: alice, Origin: origin, Session: demodata.AliceActive2, Transition: "pause"})
	if err != nil || strings.Count(out, "ok   ") != 5 {
		t.Fatalf("smoke on a healthy API: %v\n%s", err, out)
	}
	out, err = run(Config{Token: alice, Session: demodata.AliceActive2, Transition: "resume"})
	if err != nil {
		t.Fatalf("resume after the pause: %v\n%s", err, out)
	}

	for name, c := range map[string]Config{
		"a session that cannot move":       {Token: alice, Session: demodata.AliceCompleted, Transition: "pause"},
		"someone else's session":           {Token: alice, Session: demodata.BobActive, Transition: "pause"},
		"an origin the API does not admit": {Token: alice, Origin: "https://evil.example.net"},
		"a token the issuer did not sign":  {Token: strings.Replace(alice, ".", ".x", 1)},
	} {
		if out, err := run(c); err == nil || !strings.Contains(out, "FAIL ") {
			t.Errorf("%s: smoke passed: %s", name, out)
		}
	}
}
