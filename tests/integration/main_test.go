// Package integration runs the functions against moto's DynamoDB (serialised, as the local
// stack runs it) over real HTTP, through the same local API Gateway stand-in `make run`
// serves, and the event pipeline on moto's DynamoDB stream, EventBridge and SQS. moto is
// required: under `make test` or CI its absence fails the run; a plain `go test ./...`
// without it skips the package with one line saying so (tools/testsupport/prereq).
package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/motoserver"
	"github.com/lifecycle-api/lifecycle/tools/openapicheck"
	"github.com/lifecycle-api/lifecycle/tools/repo"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if code, ok := prereq.Main("tests/integration", prereq.Moto); !ok {
		return code
	}
	root, _ := repo.Root()
	logDir := filepath.Join(root, "test-output")
	_ = os.MkdirAll(logDir, 0o755)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var servers [2]*motoserver.Server
	for i, o := range []motoserver.Options{
		{Serialise: true, Name: "moto (DynamoDB)"},
		{Name: "moto (EventBridge, SQS)"},
	} {
		logf, err := os.Create(filepath.Join(logDir, []string{"moto-dynamodb.log", "moto.log"}[i]))
		if err != nil {
			fmt.Fprintln(os.Stderr, "integration:", err)
			return 1
		}
		defer logf.Close()
		if servers[i], err = motoserver.Start(ctx, logf, o); err != nil {
			fmt.Fprintf(os.Stderr, "integration: %s is required and could not start: %v\n", o.Name, err)
			return 1
		}
		defer servers[i].Stop()
	}
	srv, mt := servers[0], servers[1]
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_EVENTBRIDGE": mt.Endpoint, "AWS_ENDPOINT_URL_SQS": mt.Endpoint,
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "us-east-1",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_DYNAMODB": srv.Endpoint,
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS": srv.Endpoint,
	} {
		os.Setenv(k, v)
	}
	var err error
	if apiContract, err = openapicheck.Load(filepath.Join(root, "openapi.yaml")); err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	code := m.Run()
	// What the tests exercised, for a reader checking the contract's coverage.
	_ = os.WriteFile(filepath.Join(logDir, "contract-coverage.txt"), []byte(coverageReport()), 0o644)
	return code
}

// apiContract checks every response the tests receive against openapi.yaml.
var apiContract *openapicheck.Validator

func coverageReport() string {
	seen := map[string]bool{}
	for _, s := range apiContract.Seen() {
		seen[s] = true
	}
	var b strings.Builder
	b.WriteString("# documented route and status, and whether an integration test received it\n")
	for _, d := range apiContract.Documented() {
		mark := "  "
		if seen[d] {
			mark = "ok"
		}
		b.WriteString(mark + " " + d + "\n")
	}
	return b.String()
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
