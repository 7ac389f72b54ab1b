// Package apifuzz runs schemathesis, an outside property-based API fuzzer, against the
// local API (the same stack `make run` serves: the real handlers behind the API Gateway
// stand-in, moto) from openapi.yaml alone: its examples, its coverage of
// every schema edge, random fuzzing, and stateful sequences along the document's links,
// with every check on, as each demo identity (alice and bob own sessions, dana is a
// Dispatcher, adam an Admin, and the conversation service's token has the progress scope). Every difference between the document and the behaviour we
// accept is listed in schemathesis.toml with its reason; anything else fails the test.
//
// Two ways to run it. `make test` runs it as a step of its own, the same way on every
// machine: a fixed seed and a fixed number of cases per operation and phase
// (LIFECYCLE_FUZZ_API_SEED, LIFECYCLE_FUZZ_API_EXAMPLES), so what it tries does not depend
// on how fast the machine is, and a pass or failure is the same on every machine.
// `make fuzz-api` explores: a new seed each run, for LIFECYCLE_FUZZ_API_SECONDS (900 s by
// default; SECONDS=… to choose). A failure it finds prints its seed and a curl to replay,
// and becomes a unit test.
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

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/repo"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// identities are the demo callers schemathesis may act as, in the order it tries them.
var identities = []struct {
	name   string
	roles  []string
	scopes []string // a service's token (client credentials)
}{
	{"alice", nil, nil},
	// Second: the one identity the interactions route takes (schemathesis moves an operation
	// on from an identity it refuses, one denial at a time, in this order).
	{"conversation-service", nil, []string{interview.ScopeProgress}},
	{"dana", []string{"Dispatcher"}, nil},
	{"adam", []string{"Admin"}, nil},
	{"bob", nil, nil},
	// The technician demo data books on job 3 (tools/local/demodata): the technician's steps.
	{"tech-12", []string{"Technician"}, nil},
}

func TestSchemathesis(t *testing.T) {
	seconds, examples := os.Getenv("LIFECYCLE_FUZZ_API_SECONDS"), os.Getenv("LIFECYCLE_FUZZ_API_EXAMPLES")
	if seconds == "" && examples == "" {
		// Not beside the other suites: on two cores its load would slow their local DynamoDB
		// into timeouts. make test runs it as a step of its own, after them.
		t.Skip("run by `make fuzz-api` (make test runs it as its own step): set LIFECYCLE_FUZZ_API_SECONDS or LIFECYCLE_FUZZ_API_EXAMPLES to run it here")
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
		if len(id.scopes) > 0 {
			tok, err = devauth.MintService(key, id.name, id.scopes, 2*time.Hour, time.Now())
		}
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
		// One worker: CPython 3.11's ast.parse is not safe to call from several threads at
		// once, and hypothesis calls it to describe strategies.
		"--workers", "1",
		"--report", "junit", "--report-dir", out,
		"--no-color",
	}
	if seed := os.Getenv("LIFECYCLE_FUZZ_API_SEED"); seed != "" {
		args = append(args, "--seed", seed)
	}
	if examples != "" {
		// Each phase once, with this many cases per operation; no database of earlier
		// failures, so the run is a function of the seed and the code alone.
		args = append(args, "--max-examples", examples, "--generation-database", "none")
	}
	if seconds != "" {
		args = append(args, "--max-time", seconds)
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
