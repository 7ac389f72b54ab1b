// Package mototest starts a moto server (tools/local/motoserver) for one test: skipped on a
// laptop without `make tools`, a failure under `make test` (tools/testsupport/prereq), its
// log in test-output/motoserver-<test>.log, stopped when the test ends.
package mototest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/motoserver"
	"github.com/lifecycle-api/lifecycle/tools/repo"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// Start runs a moto server as o says until tb ends.
func Start(tb testing.TB, o motoserver.Options) *motoserver.Server {
	tb.Helper()
	prereq.Need(tb, prereq.Moto)
	root, err := repo.Root()
	if err != nil {
		tb.Fatal(err)
	}
	_ = os.MkdirAll(filepath.Join(root, "test-output"), 0o755)
	logf, err := os.Create(filepath.Join(root, "test-output", "motoserver-"+strings.ReplaceAll(tb.Name(), "/", "_")+".log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { logf.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := motoserver.Start(ctx, logf, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Stop)
	return srv
}
