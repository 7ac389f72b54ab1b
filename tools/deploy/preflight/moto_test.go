package preflight_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lifecycle-api/lifecycle/tools/deploy/preflight"
	"github.com/lifecycle-api/lifecycle/tools/local/motoserver"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/mototest"
)

// TestPreflightAgainstMoto runs the checks through the SDK clients main builds (the default
// chain, AWS_ENDPOINT_URL pointing at moto), before and after what a first deploy needs.
// What moto 5.2.5 answers, and so what is real here and what is faked:
//   - API Gateway GetAccount: no cloudwatchRoleArn in a fresh account, the role once
//     UpdateAccount has set it (moto);
//   - CloudFormation DescribeStackResource: ValidationError "Stack with id ... does not
//     exist" before the stack, the topic's ARN as its physical id after (moto; the stack
//     is the topic alone, see below);
//   - SNS ListSubscriptionsByTopic: the e-mail subscription, confirmed at once (moto; it
//     never lists PendingConfirmation, so the pending case is TestCheckAlarmSubscription's
//     fake);
//   - Lambda GetAccountSettings: a 404, moto has no such route, so an in-process fake;
//   - the issuer's discovery document: an httptest TLS server.
func TestPreflightAgainstMoto(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	moto := mototest.Start(t, motoserver.Options{Name: "moto (preflight)"})

	// The SDK's default chain, as main loads it, finding moto and its fake credentials in
	// the environment (and no profile of this machine's).
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": moto.Endpoint, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}

	issuer := issuerServer(t)
	clients := preflight.NewClients(cfg, issuer.Client())
	_, err = clients.Lambda.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if re, ok := errors.AsType[*smithyhttp.ResponseError](err); !ok || re.HTTPStatusCode() != http.StatusNotFound {
		t.Fatalf("moto's Lambda GetAccountSettings: %v; this test fakes it because moto answered 404 (use moto's if it answers now)", err)
	}
	clients.Lambda = lambdaFake{total: 1000, unreserved: 1000}

	env := filled(t, "prod")
	env.Params["JwtIssuer"] = issuer.URL
	c := preflight.Config{Env: env, Region: "eu-west-1", Template: template(t)}
	check := func(when string, want ...string) {
		t.Helper()
		rs := preflight.Run(ctx, c, clients)
		if got := statuses(rs); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", when, got, want)
			_ = preflight.Write(t.Output(), rs)
		}
	}
	check("a fresh account", "ok placeholder", "ok issuer", "info concurrency", "ok concurrency", "FAIL apigateway-role", "info alarm-email")

	// What docs/operations.md has an operator do (the role), then the first deploy (the
	// stack with the alarm topic, and the e-mail's subscription).
	ag := apigateway.NewFromConfig(cfg)
	if _, err := ag.UpdateAccount(ctx, &apigateway.UpdateAccountInput{PatchOperations: []agtypes.PatchOperation{{
		Op: agtypes.OpReplace, Path: aws.String("/cloudwatchRoleArn"), Value: aws.String("arn:aws:iam::123456789012:role/APIGatewayPushToCloudWatchLogs"),
	}}}); err != nil {
		t.Fatal(err)
	}
	// moto has no CloudFormation support for AWS::SNS::Subscription (a stack with one then
	// fails DescribeStackResource with a 500): the stack holds the topic, and the
	// subscription the deploy would make is made through SNS.
	body, _ := json.Marshal(map[string]any{"Resources": map[string]any{c.Template.AlarmTopic: map[string]any{"Type": "AWS::SNS::Topic"}}})
	cf := cloudformation.NewFromConfig(cfg)
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(env.Stack), TemplateBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	check("the stack's topic without the e-mail", "ok placeholder", "ok issuer", "info concurrency", "ok concurrency", "ok apigateway-role", "warn alarm-email")
	res, err := cf.DescribeStackResource(ctx, &cloudformation.DescribeStackResourceInput{StackName: aws.String(env.Stack), LogicalResourceId: aws.String(c.Template.AlarmTopic)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: res.StackResourceDetail.PhysicalResourceId, Protocol: aws.String("email"), Endpoint: aws.String(env.Params["AlarmEmail"]),
	}); err != nil {
		t.Fatal(err)
	}
	check("after the role and the deploy", "ok placeholder", "ok issuer", "info concurrency", "ok concurrency", "ok apigateway-role", "ok alarm-email")
}
