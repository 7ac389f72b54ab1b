// Package preflight is `make preflight ENV=<env>`: with an account's credentials, what a
// first `sam deploy --config-env <env>` would trip on, each failure with its fix. It checks
// the environment's values for placeholders left from samconfig.toml, that the JWT issuer
// publishes its discovery document, that Lambda's concurrency quota leaves room for the
// reservation asked for, that API Gateway has its CloudWatch role (the WebSocket stage's
// access log needs it), and whether the alarm e-mail's subscription is still unconfirmed.
//
// The AWS calls go through the small interfaces below (the SDK clients satisfy them), so
// tests can answer what moto does not.
package preflight

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/lifecycle-api/lifecycle/tools/deploy/samconfig"
)

// LambdaAccount reads the account's Lambda concurrency quota.
type LambdaAccount interface {
	GetAccountSettings(context.Context, *lambda.GetAccountSettingsInput, ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error)
}

// APIGatewayAccount reads the region's API Gateway account settings.
type APIGatewayAccount interface {
	GetAccount(context.Context, *apigateway.GetAccountInput, ...func(*apigateway.Options)) (*apigateway.GetAccountOutput, error)
}

// StackResources finds a resource of a stack by its logical id.
type StackResources interface {
	DescribeStackResource(context.Context, *cloudformation.DescribeStackResourceInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourceOutput, error)
}

// TopicSubscriptions lists a topic's subscriptions, a page at a time.
type TopicSubscriptions = sns.ListSubscriptionsByTopicAPIClient

// Clients are what the checks call.
type Clients struct {
	Lambda         LambdaAccount
	APIGateway     APIGatewayAccount
	CloudFormation StackResources
	SNS            TopicSubscriptions
	// HTTP fetches the issuer's discovery document.
	HTTP *http.Client
}

// NewClients builds the SDK clients from cfg (its region and credentials), with hc for
// the discovery document.
func NewClients(cfg aws.Config, hc *http.Client) Clients {
	return Clients{
		Lambda:         lambda.NewFromConfig(cfg),
		APIGateway:     apigateway.NewFromConfig(cfg),
		CloudFormation: cloudformation.NewFromConfig(cfg),
		SNS:            sns.NewFromConfig(cfg),
		HTTP:           hc,
	}
}

// Config is what to check.
type Config struct {
	// Env is the samconfig.toml environment a deploy would use.
	Env samconfig.Environment
	// Region is the region the clients call (the environment's, unless AWS_REGION says
	// otherwise).
	Region string
	// Template is what the checks need from template.yaml.
	Template Template
}

// Status is a check's outcome.
type Status string

const (
	OK   Status = "ok"
	Fail Status = "FAIL"
	Warn Status = "warn" // worth knowing before a deploy, which it does not stop
	Info Status = "info"
)

// Result is one line of the report.
type Result struct {
	Check   string // what was checked: "placeholder", "issuer", "concurrency", "apigateway-role", "alarm-email"
	Status  Status
	Message string
	Fix     string // how to put a failure (or a warning) right
}

// Run runs every check for c with cl and returns their results in order.
func Run(ctx context.Context, c Config, cl Clients) []Result {
	out := CheckPlaceholders(c.Env)
	if c.Region != c.Env.Region && c.Env.Region != "" {
		out = append(out, Result{Check: "region", Status: Info, Message: fmt.Sprintf(
			"checking %s (AWS_REGION), while samconfig.toml [%s] deploys to %s", c.Region, c.Env.Name, c.Env.Region)})
	}
	out = append(out, CheckIssuer(ctx, cl.HTTP, c.Env.Params["JwtIssuer"]))
	out = append(out, CheckConcurrency(ctx, cl.Lambda, c)...)
	return append(out, CheckAPIGatewayRole(ctx, cl.APIGateway, c.Region), CheckAlarmSubscription(ctx, cl.CloudFormation, cl.SNS, c))
}

// Failed reports whether any result is a failure.
func Failed(rs []Result) bool {
	return slices.ContainsFunc(rs, func(r Result) bool { return r.Status == Fail })
}

// Write prints each result as a line ("FAIL issuer: ..."), a failure's or a warning's fix
// indented below it.
func Write(w io.Writer, rs []Result) error {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%-4s %s: %s\n", r.Status, r.Check, r.Message)
		if r.Fix != "" && r.Status != OK {
			fmt.Fprintf(&b, "     fix: %s\n", strings.ReplaceAll(r.Fix, "\n", "\n          "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fail is a failed check's result.
func fail(check, message, fix string) Result {
	return Result{Check: check, Status: Fail, Message: message, Fix: fix}
}

// param returns the environment's value of a template parameter, or its default.
func param(c Config, name string) string {
	if v, ok := c.Env.Params[name]; ok {
		return v
	}
	return c.Template.Defaults[name]
}
