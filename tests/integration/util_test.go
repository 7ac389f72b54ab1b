package integration

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/lifecycle-api/lifecycle/tools/repo"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func lookupEnv(k string) string { return os.Getenv(k) }
