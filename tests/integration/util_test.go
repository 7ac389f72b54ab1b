package integration

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
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

// newAuditTable creates an audit table under a new name and returns the name. Under load a
// CreateTable's answer can be lost after moto made the table; the SDK then sends it again
// and meets that table (ResourceInUseException). The name is new, so the table is this
// call's own: that answer is a success.
func newAuditTable(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	table := randomName("audit-")
	var inUse *types.ResourceInUseException
	if _, err := db.CreateTable(context.Background(), dynamo.CreateAuditTableInput(table)); err != nil && !errors.As(err, &inUse) {
		t.Fatal(err)
	}
	return table
}
