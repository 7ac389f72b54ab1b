// Package config reads a function's configuration from its environment and builds the
// clients it needs, once per process (at cold start).
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"

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

// AWS is the SDK configuration of a function, from the environment Lambda sets: the
// region (AWS_REGION), the execution role's credentials (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and, like the SDK's own environment config,
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (moto, locally). It deliberately
// does not use config.LoadDefaultConfig: the shared-config files, SSO, STS and IMDS
// providers it links are never used in Lambda and made every bootstrap 1.3 MB larger and
// its start slower. Retries suit functions behind a 10 s timeout: up to 4 attempts with at
// most 1 s between them, and no client-side retry quota, so one burst of throttling cannot
// starve the requests that follow in the same warm process. What still fails afterwards is
// reported (a 503, or a batch item failure).
func AWS() (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || id == "" || secret == "" {
		return aws.Config{}, errors.New("AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them)")
	}
	return New(region, credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))), nil
}

// New is the functions' SDK configuration for region and credentials.
func New(region string, creds aws.CredentialsProvider) aws.Config {
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(creds),
		HTTPClient:  awshttp.NewBuildableClient(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 4
				o.MaxBackoff = time.Second
				o.RateLimiter = ratelimit.None
			})
		},
		ConfigSources: []any{envEndpoints{}},
	}
	if u := os.Getenv("AWS_ENDPOINT_URL"); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg
}

// envEndpoints gives service clients AWS_ENDPOINT_URL_<SERVICE ID>, as the SDK's
// environment config does (the clients ask their config sources for it).
type envEndpoints struct{}

// GetServiceBaseEndpoint implements the SDK's service endpoint source.
func (envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := os.Getenv("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

// Environment variables the functions require; template.yaml sets them.
const (
	// TableName is the lifecycle table (the HTTP functions).
	TableName = "TABLE_NAME"
	// AuditTableName is the audit table (audit-log).
	AuditTableName = "AUDIT_TABLE_NAME"
	// EventBusName is the bus the events go to (publish-events).
	EventBusName = "EVENT_BUS_NAME"
	// RolesClaim names the JWT claim that carries the caller's roles (the HTTP functions;
	// the RolesClaim parameter).
	RolesClaim = "ROLES_CLAIM"
	// LogReasons is "true" to log a cancellation's reason in full, "false" to log only its
	// length (the HTTP functions; the LogCancelReasons parameter).
	LogReasons = "LOG_REASONS"
	// AuditRetentionDays is how many days an audit record is kept; 0 keeps it for ever
	// (audit-log; the AuditRetentionDays parameter).
	AuditRetentionDays = "AUDIT_RETENTION_DAYS"
	// LiveTableName is the live channel's table of tickets and connections (live-*).
	LiveTableName = "LIVE_TABLE_NAME"
	// LiveAllowedOrigins are the origins whose pages may open the live channel,
	// comma-separated ("*": any): live-connect; the CorsAllowedOrigins parameter.
	LiveAllowedOrigins = "LIVE_ALLOWED_ORIGINS"
	// LiveConnectionsPerUser is how many live connections one caller may hold open
	// (live-connect; the LiveConnectionsPerUser parameter).
	LiveConnectionsPerUser = "LIVE_CONNECTIONS_PER_USER"
	// LiveTicketsPerMinute is how many live tickets one caller may get a minute
	// (live-ticket; the LiveTicketsPerMinute parameter).
	LiveTicketsPerMinute = "LIVE_TICKETS_PER_MINUTE"
	// ConnectionsEndpoint is the WebSocket API's @connections management endpoint
	// (live-notify): its stage URL in AWS, the local server's locally. The SDK's client
	// reads it as the service's endpoint, like AWS_ENDPOINT_URL_DYNAMODB.
	ConnectionsEndpoint = "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"
	// ResumeScheduleGroup is the EventBridge Scheduler group the planned resumes go in
	// (plan-resume).
	ResumeScheduleGroup = "RESUME_SCHEDULE_GROUP"
	// ResumeTargetARN is what a planned resume invokes: resume-scheduled's alias
	// (plan-resume).
	ResumeTargetARN = "RESUME_TARGET_ARN"
	// ResumeSchedulerRoleARN is the role the scheduler assumes to invoke it (plan-resume
	// passes it).
	ResumeSchedulerRoleARN = "RESUME_SCHEDULER_ROLE_ARN"
	// ResumeDeadLetterARN is the queue that receives a resume the scheduler could not
	// deliver (plan-resume).
	ResumeDeadLetterARN = "RESUME_DEAD_LETTER_ARN"
)

// HTTP is what every function behind the HTTP API reads beyond its table.
type HTTP struct {
	// RolesClaim names the claim the caller's roles come from.
	RolesClaim string
	// LogReasons logs a cancellation's free-text reason; off, only its length.
	LogReasons bool
}

// StartHTTP is Start for a function behind the HTTP API: it requires its table's
// variable (TABLE_NAME, or LIVE_TABLE_NAME for live-ticket), ROLES_CLAIM and LOG_REASONS,
// and returns the latter two read.
func StartHTTP(name, table string) (Base, HTTP, error) {
	b, err := Start(name, table, RolesClaim, LogReasons)
	if err != nil {
		return b, HTTP{}, err
	}
	h := HTTP{RolesClaim: b.Env[RolesClaim]}
	if h.LogReasons, err = strconv.ParseBool(b.Env[LogReasons]); err != nil {
		return b, h, fmt.Errorf("%s must be true or false, got %q", LogReasons, b.Env[LogReasons])
	}
	return b, h, nil
}

// Days reads the environment variable name of env as a whole number of days, 0 or more.
func Days(env map[string]string, name string) (time.Duration, error) {
	n, err := strconv.Atoi(env[name])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a whole number of days, got %q", name, env[name])
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// Count reads environment variable name as a whole number, 1 or more.
func Count(name string) (int, error) {
	env, err := Require(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(env[name])
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s must be a whole number, 1 or more, got %q", name, env[name])
	}
	return n, nil
}

// Base is what every function starts with.
type Base struct {
	// Logger is set even when Start fails, so main can log the failure.
	Logger *slog.Logger
	// Env holds the required environment variables, by name.
	Env map[string]string
	// AWS is the SDK configuration. Each main builds the clients it uses from it, so a
	// function links only those service clients.
	AWS aws.Config
}

// Start is every function's one entry point: it builds the logger of function name,
// reads the required environment variables and loads the SDK configuration.
func Start(name string, required ...string) (Base, error) {
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
