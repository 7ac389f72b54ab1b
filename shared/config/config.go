// Package config reads a function's configuration from its environment and builds the
// clients it needs, once per process (at cold start).
package config

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/logging"
)

// Function is what every table-backed function starts with.
type Function struct {
	// Logger is the JSON logger tagged with the function name; it is set even when Load
	// fails, so main can log the failure.
	Logger *slog.Logger
	Table  string
	DB     *dynamodb.Client
}

// Load reads LOG_LEVEL and TABLE_NAME and builds the DynamoDB client (region,
// credentials and AWS_ENDPOINT_URL_DYNAMODB come from the environment via the SDK).
func Load(ctx context.Context, name string) (Function, error) {
	f := Function{
		Logger: logging.New(os.Stdout, os.Getenv("LOG_LEVEL")).With("function", name),
		Table:  os.Getenv("TABLE_NAME"),
	}
	if f.Table == "" {
		return f, errors.New("TABLE_NAME is not set")
	}
	db, err := dynamo.NewClient(ctx)
	if err != nil {
		return f, err
	}
	f.DB = db
	return f, nil
}
