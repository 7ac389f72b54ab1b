// Package integration runs the functions against DynamoDB Local over real HTTP, through
// the same local API Gateway stand-in `make run` serves, and the event pipeline on DynamoDB
// Local's stream and moto's EventBridge and SQS. Both are required: when either is missing
// the tests fail (run `make test`, which fetches them); they never skip.
package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/ddblocal"
	"github.com/lifecycle-api/lifecycle/tools/moto"
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := ddblocal.Dir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	root, _ := ddblocal.RepoRoot()
	logDir := filepath.Join(root, "test-output")
	_ = os.MkdirAll(logDir, 0o755)
	logf, err := os.Create(filepath.Join(logDir, "dynamodb-local.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer logf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, err := ddblocal.Start(ctx, dir, logf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: DynamoDB Local is required and could not start:", err)
		return 1
	}
	defer srv.Stop()
	motoLog, err := os.Create(filepath.Join(logDir, "moto.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer motoLog.Close()
	mt, err := moto.Start(ctx, motoLog)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: moto (EventBridge, SQS) is required and could not start:", err)
		return 1
	}
	defer mt.Stop()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_EVENTBRIDGE": mt.Endpoint, "AWS_ENDPOINT_URL_SQS": mt.Endpoint,
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "us-east-1",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_DYNAMODB": srv.Endpoint,
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS": srv.Endpoint,
	} {
		os.Setenv(k, v)
	}
	return m.Run()
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
