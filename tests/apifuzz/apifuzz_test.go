// Package apifuzz runs schemathesis, an outside property-based API fuzzer, against the
// local API (the same stack `make run` serves: the real handlers behind the API Gateway
// stand-in, moto) from openapi.yaml alone: its examples, its coverage of
// every schema edge, random fuzzing, and stateful sequences along the document's links,
// with every check on, as each demo identity (alice and bob own sessions, dana is a
// Dispatcher, adam an Admin). Every difference between the document and the behaviour we
// accept is listed in schemathesis.toml with its reason; anything else fails the test.
//
// It runs for LIFECYCLE_FUZZ_API_SECONDS: `make test` runs it as a step of its own for 120 s,
// `make fuzz-api` for 900 s (SECONDS=… to choose).
package apifuzz

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/repo"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// identities are the demo callers schemathesis may act as, in the order it tries them.
var identities = []struct {
	name  string
	roles []string
}{
	{"alice", nil},
	{"dana", []string{"Dispatcher"}},
	{"adam", []string{"Admin"}},
	{"bob", nil},
}

func TestSchemathesis(t *testing.T) {
	seconds := os.Getenv("LIFECYCLE_FUZZ_API_SECONDS")
	if seconds == "" {
		// Not beside the other suites: on two cores its load would slow their local DynamoDB
		// into timeouts. make test runs it as a step of its own, after them.
		t.Skip("run by `make fuzz-api` (make test runs it as its own step): set LIFECYCLE_FUZZ_API_SECONDS to run it here")
	}
	prereq.Need(t, prereq.Moto, prereq.Schemathesis)
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "test-output", "apifuzz")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	key := []byte("apifuzz-signing-key-0123456789abcdef")
	st, err := stack.Start(context.Background(), stack.Options{
		Table: "apifuzz", AuditTable: "apifuzz-audit", LogDir: filepath.Join(out, "logs"),
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Verify: func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(st.Handler)
	defer srv.Close()

	// The identities as a Web Fuzzing Commons auth document: schemathesis tries them in
	// order per operation, and replays alice's reads as bob (object-level authorization).
	var wfc strings.Builder
	wfc.WriteString("auth:\n")
	for _, id := range identities {
		tok, err := devauth.Mint(key, id.name, id.roles, 2*time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&wfc, "  - name: %s\n    fixedHeaders:\n      - name: Authorization\n        value: Bearer %s\n", id.name, tok)
	}
	auth := filepath.Join(t.TempDir(), "auth.yaml")
	if err := os.WriteFile(auth, []byte(wfc.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	args := []string{
		"--config-file", filepath.Join(root, "tests", "apifuzz", "schemathesis.toml"),
		"run", filepath.Join(root, "openapi.yaml"),
		"--url", srv.URL,
		"--phases", "examples,coverage,fuzzing,stateful",
		// Every check runs (schemathesis 4's default); the ones we turn off are in the
		// config file with their reasons. "--checks all" here would override the file.
		"--max-time", seconds,
		// One worker: CPython 3.11's ast.parse is not safe to call from several threads at
		// once, and hypothesis calls it to describe strategies.
		"--workers", "1",
		"--report", "junit", "--report-dir", out,
		"--no-color",
	}
	if seed := os.Getenv("LIFECYCLE_FUZZ_API_SEED"); seed != "" {
		args = append(args, "--seed", seed)
	}
	cmd := exec.Command(filepath.Join(root, ".tools", "venv", "bin", "schemathesis"), args...)
	cmd.Dir = out // its cache (.schemathesis/) stays in test-output
	cmd.Env = append(os.Environ(), "SCHEMATHESIS_TELEMETRY=false", "NO_COLOR=1", "LIFECYCLE_FUZZ_API_AUTH="+auth)
	log, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(out, "schemathesis.txt"), log, 0o644)
	if err != nil {
		t.Fatalf("schemathesis found differences between openapi.yaml and the API (%v); each must be fixed or, if accepted, listed with its reason in tests/apifuzz/schemathesis.toml. Its report (test-output/apifuzz/schemathesis.txt):\n%s", err, tail(string(log), 200))
	}
	t.Logf("schemathesis: %s", lastLine(string(log)))
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}
