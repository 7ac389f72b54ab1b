// Package config reads a function's configuration from its environment and builds the
// clients it needs, once per process (at cold start).
package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/logging"
)

// Logger is the function's JSON logger (LOG_LEVEL), tagged with its name.
func Logger(name string) *slog.Logger {
	return logging.New(os.Stdout, os.Getenv("LOG_LEVEL")).With("function", name)
}

// Require returns the named environment variables, or an error naming the missing ones.
func Require(names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	var missing []string
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			missing = append(missing, n)
		}
		out[n] = v
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("environment variables not set: %v", missing)
	}
	return out, nil
}

// AWS is the SDK configuration of a function, from the environment Lambda sets (region,
// credentials) and AWS_ENDPOINT_URL_<SERVICE> overrides for local services. Retries suit
// functions behind a 10 s timeout: up to 4 attempts with at most 1 s between them, and no
// client-side retry quota, so one burst of throttling cannot starve the requests that
// follow in the same warm process. What still fails afterwards is reported (a 503, or a
// batch item failure).
func AWS() (aws.Config, error) {
	return awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRetryer(retryer))
}

// New is the functions' SDK configuration for region and credentials.
func New(region string, creds aws.CredentialsProvider) aws.Config {
	cfg, _ := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRetryer(retryer),
		awsconfig.WithRegion(region), awsconfig.WithCredentialsProvider(creds))
	return cfg
}

func retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 4
		o.MaxBackoff = time.Second
		o.RateLimiter = ratelimit.None
	})
}

// Base is what every function starts with.
type Base struct {
	// Logger is set even when Start fails, so main can log the failure.
	Logger *slog.Logger
	// Env holds the required environment variables.
	Env map[string]string
	AWS aws.Config
}

// Start builds the logger, reads the required environment variables and loads the SDK
// configuration.
func Start(ctx context.Context, name string, required ...string) (Base, error) {
	b := Base{Logger: Logger(name)}
	env, err := Require(required...)
	if err != nil {
		return b, err
	}
	b.Env = env
	if b.AWS, err = AWS(); err != nil {
		return b, err
	}
	return b, nil
}

// Function is what every table-backed HTTP function starts with.
type Function struct {
	// Logger is set even when Load fails, so main can log the failure.
	Logger *slog.Logger
	Table  string
	DB     *dynamodb.Client
}

// Load starts a function that needs TABLE_NAME and the DynamoDB client.
func Load(ctx context.Context, name string) (Function, error) {
	b, err := Start(ctx, name, "TABLE_NAME")
	f := Function{Logger: b.Logger}
	if err != nil {
		return f, err
	}
	f.Table, f.DB = b.Env["TABLE_NAME"], dynamodb.NewFromConfig(b.AWS)
	return f, nil
}
