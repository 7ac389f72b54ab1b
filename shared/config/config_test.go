package config

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

func TestStartNeedsItsEnvironment(t *testing.T) {
	t.Setenv(TableName, "")
	f, err := Start("get-interview", TableName)
	if err == nil {
		t.Fatal("Start without TABLE_NAME succeeded")
	}
	if f.Logger == nil {
		t.Fatal("Start must return a logger even when it fails")
	}
}

func TestStartBuildsTheConfig(t *testing.T) {
	t.Setenv(TableName, "lifecycle")
	t.Setenv(EventBusName, "bus")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	f, err := Start("get-interview", TableName, EventBusName)
	if err != nil {
		t.Fatal(err)
	}
	if f.Env[TableName] != "lifecycle" || f.Env[EventBusName] != "bus" || f.AWS.Region != "eu-west-1" {
		t.Fatalf("started %+v", f)
	}
}

func TestAWSNeedsLambdaEnvironment(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, "")
	}
	if _, err := AWS(); err == nil {
		t.Fatal("AWS without region and credentials succeeded")
	}
}

// TestEndpointOverrides: like the SDK's own environment config, AWS_ENDPOINT_URL_<SERVICE>
// points one client elsewhere (moto) and AWS_ENDPOINT_URL all of them.
func TestEndpointOverrides(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	t.Setenv("AWS_SESSION_TOKEN", "z")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
	cfg, err := AWS()
	if err != nil {
		t.Fatal(err)
	}
	if got := dynamodb.NewFromConfig(cfg).Options().BaseEndpoint; got == nil || *got != "http://127.0.0.1:8000" {
		t.Fatalf("DynamoDB endpoint %v", got)
	}
	if got := eventbridge.NewFromConfig(cfg).Options().BaseEndpoint; got != nil {
		t.Fatalf("EventBridge endpoint %v, want the default", *got)
	}
	// template.yaml declares the per-service variables empty (for sam local's --env-vars):
	// empty is the real endpoint.
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	t.Setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", "")
	cfg, _ = AWS()
	if got := dynamodb.NewFromConfig(cfg).Options().BaseEndpoint; got != nil {
		t.Fatalf("an empty AWS_ENDPOINT_URL_DYNAMODB gave endpoint %s", *got)
	}
	if got := eventbridge.NewFromConfig(cfg).Options().BaseEndpoint; got != nil {
		t.Fatalf("an empty AWS_ENDPOINT_URL_EVENTBRIDGE gave endpoint %s", *got)
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
	cfg, _ = AWS()
	if got := eventbridge.NewFromConfig(cfg).Options().BaseEndpoint; got == nil || *got != "http://127.0.0.1:9000" {
		t.Fatalf("global endpoint %v", got)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "x" || creds.SessionToken != "z" {
		t.Fatalf("credentials %+v %v", creds, err)
	}
}

func TestStartHTTPReadsItsSettings(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	t.Setenv(TableName, "lifecycle")
	for _, tc := range []struct {
		claim, logReasons string
		want              HTTP
		ok                bool
	}{
		{"cognito:groups", "true", HTTP{RolesClaim: "cognito:groups", LogReasons: true}, true},
		{"roles", "false", HTTP{RolesClaim: "roles"}, true},
		{"cognito:groups", "", HTTP{}, false},
		{"", "true", HTTP{}, false},
		{"cognito:groups", "no", HTTP{}, false},
	} {
		t.Setenv(RolesClaim, tc.claim)
		t.Setenv(LogReasons, tc.logReasons)
		_, got, err := StartHTTP("cancel-interview", TableName)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ROLES_CLAIM=%q LOG_REASONS=%q: %+v, %v", tc.claim, tc.logReasons, got, err)
		}
	}
}

func TestDays(t *testing.T) {
	for v, want := range map[string]time.Duration{"0": 0, "365": 365 * 24 * time.Hour} {
		if got, err := Days(map[string]string{AuditRetentionDays: v}, AuditRetentionDays); err != nil || got != want {
			t.Errorf("Days(%q) = %v, %v", v, got, err)
		}
	}
	for _, v := range []string{"", "-1", "1.5", "x"} {
		if _, err := Days(map[string]string{AuditRetentionDays: v}, AuditRetentionDays); err == nil {
			t.Errorf("Days(%q) accepted", v)
		}
	}
}

func TestCount(t *testing.T) {
	for v, want := range map[string]int{"1": 1, "10": 10} {
		t.Setenv(LiveTicketsPerMinute, v)
		if got, err := Count(LiveTicketsPerMinute); err != nil || got != want {
			t.Errorf("Count(%q) = %v, %v", v, got, err)
		}
	}
	for _, v := range []string{"", "0", "-1", "ten", "1.5"} {
		t.Setenv(LiveTicketsPerMinute, v)
		if _, err := Count(LiveTicketsPerMinute); err == nil {
			t.Errorf("Count(%q) accepted", v)
		}
	}
}
