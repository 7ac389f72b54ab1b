package preflight_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/lifecycle-api/lifecycle/tools/deploy/preflight"
	"github.com/lifecycle-api/lifecycle/tools/deploy/samconfig"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// ---- in-process fakes of the AWS calls ----

type lambdaFake struct {
	total, unreserved int32
	err               error
}

func (f lambdaFake) GetAccountSettings(context.Context, *lambda.GetAccountSettingsInput, ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error) {
	return &lambda.GetAccountSettingsOutput{AccountLimit: &lambdatypes.AccountLimit{
		ConcurrentExecutions: f.total, UnreservedConcurrentExecutions: aws.Int32(f.unreserved)}}, f.err
}

type apiGatewayFake struct {
	role string
	err  error
}

func (f apiGatewayFake) GetAccount(context.Context, *apigateway.GetAccountInput, ...func(*apigateway.Options)) (*apigateway.GetAccountOutput, error) {
	return &apigateway.GetAccountOutput{CloudwatchRoleArn: aws.String(f.role)}, f.err
}

// stacksFake holds stacks' resources: physical id by stack name and logical id. It answers
// an unknown stack or resource as CloudFormation does.
type stacksFake struct {
	resources map[string]map[string]string
	asked     []string // "stack/logical id"
}

func (f *stacksFake) DescribeStackResource(_ context.Context, in *cloudformation.DescribeStackResourceInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourceOutput, error) {
	stack, id := aws.ToString(in.StackName), aws.ToString(in.LogicalResourceId)
	f.asked = append(f.asked, stack+"/"+id)
	res, ok := f.resources[stack]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id " + stack + " does not exist"}
	}
	phys, ok := res[id]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "Resource " + id + " does not exist for stack " + stack}
	}
	return &cloudformation.DescribeStackResourceOutput{StackResourceDetail: &cfntypes.StackResourceDetail{
		StackName: aws.String(stack), LogicalResourceId: aws.String(id), PhysicalResourceId: aws.String(phys)}}, nil
}

// topicsFake lists a topic's subscriptions one per page, so a check must follow NextToken.
type topicsFake struct {
	subs  map[string][]snstypes.Subscription
	calls int
}

func (f *topicsFake) ListSubscriptionsByTopic(_ context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	f.calls++
	subs, ok := f.subs[aws.ToString(in.TopicArn)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NotFound", Message: "Topic does not exist"}
	}
	i, _ := strconv.Atoi(aws.ToString(in.NextToken))
	out := &sns.ListSubscriptionsByTopicOutput{}
	if i < len(subs) {
		out.Subscriptions = subs[i : i+1]
	}
	if i+1 < len(subs) {
		out.NextToken = aws.String(strconv.Itoa(i + 1))
	}
	return out, nil
}

func emailSub(topic, endpoint, arn string) snstypes.Subscription {
	return snstypes.Subscription{TopicArn: aws.String(topic), Protocol: aws.String("email"), Endpoint: aws.String(endpoint), SubscriptionArn: aws.String(arn)}
}

// ---- helpers ----

func committed(t *testing.T) []samconfig.Environment {
	t.Helper()
	envs, err := samconfig.LoadRepo()
	if err != nil {
		t.Fatal(err)
	}
	return envs
}

func template(t *testing.T) preflight.Template {
	t.Helper()
	p, err := repo.Path("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := preflight.ReadTemplate(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// filled is the committed environment name with its placeholders replaced by real-looking
// values.
func filled(t *testing.T, name string) samconfig.Environment {
	t.Helper()
	env, err := samconfig.Find(committed(t), name)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(env.Params, map[string]string{
		"JwtIssuer":          "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
		"JwtAudience":        "4e1cj9k2tq6rfgh0l1uq3oc7p1",
		"CorsAllowedOrigins": "https://app.lifecycle.test,http://localhost:5173",
		"AlarmEmail":         "oncall@lifecycle.test",
	})
	return env
}

func statuses(rs []preflight.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Status)+" "+r.Check)
	}
	return out
}

// ---- placeholders ----

func TestIsPlaceholder(t *testing.T) {
	for v, want := range map[string]bool{
		"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_PLACEHOLDERdev": true,
		"placeholder-client-id":                                        true,
		"eu-west-1_PlaceHolder":                                        true,
		"https://app.dev.example.com,http://localhost:5173":            true,
		"http://localhost:5173,https://dispatch.example.org":           true,
		"https://example.net":                                          true,
		"https://EXAMPLE.COM.:8443/x":                                  true,
		"lifecycle-oncall@example.com":                                 true,
		"ops@mail.example.net":                                         true,
		"example.org":                                                  true,
		"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123": false,
		"http://localhost:5173":                                        false,
		"https://app.lifecycle.io,http://localhost:5173":               false,
		"oncall@lifecycle.io":                                          false,
		"https://example.com.lifecycle.io":                             false,
		"https://notexample.com":                                       false,
		"https://example.community":                                    false,
		"4e1cj9k2tq6rfgh0l1uq3oc7p1":                                   false,
		"eu-west-1":                                                    false,
		"":                                                             false,
	} {
		if got := preflight.IsPlaceholder(v); got != want {
			t.Errorf("IsPlaceholder(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestTheCommittedValuesArePlaceholders: samconfig.toml holds placeholders for every
// account-specific value, and the check names each, with the section to fix it in.
func TestTheCommittedValuesArePlaceholders(t *testing.T) {
	want := map[string][]string{
		"dev":  {"CorsAllowedOrigins", "JwtAudience", "JwtIssuer"},
		"prod": {"AlarmEmail", "CorsAllowedOrigins", "JwtAudience", "JwtIssuer"},
	}
	envs := committed(t)
	if len(envs) != len(want) {
		t.Fatalf("samconfig.toml deploys %d environments, this test knows %d", len(envs), len(want))
	}
	for _, env := range envs {
		got := preflight.Placeholders(env)
		if !slices.Equal(got, want[env.Name]) {
			t.Errorf("[%s] placeholders %v, want %v", env.Name, got, want[env.Name])
		}
		rs := preflight.CheckPlaceholders(env)
		if len(rs) != len(want[env.Name]) {
			t.Fatalf("[%s]: %d results for %d placeholders", env.Name, len(rs), len(want[env.Name]))
		}
		for i, r := range rs {
			if r.Status != preflight.Fail || !strings.Contains(r.Message, want[env.Name][i]+"=") ||
				!strings.Contains(r.Fix, "samconfig.toml ["+env.Name+".deploy.parameters]") {
				t.Errorf("[%s] %+v", env.Name, r)
			}
		}
	}
}

func TestFilledEnvironmentsHaveNoPlaceholder(t *testing.T) {
	env := filled(t, "prod")
	if rs := preflight.CheckPlaceholders(env); len(rs) != 1 || rs[0].Status != preflight.OK {
		t.Errorf("filled prod: %+v", rs)
	}
	env.Region = "PLACEHOLDER-region"
	rs := preflight.CheckPlaceholders(env)
	if got := preflight.Placeholders(env); !slices.Equal(got, []string{"region"}) || len(rs) != 1 ||
		rs[0].Status != preflight.Fail || !strings.Contains(rs[0].Fix, "[prod.global.parameters]") {
		t.Errorf("a placeholder region: %v, %+v", got, rs)
	}
}

// ---- the issuer's discovery document ----

func TestCheckIssuer(t *testing.T) {
	var doc atomic.Value // the body the server answers with; "" for a 404
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := doc.Load().(string)
		if r.URL.Path != "/pool"+preflight.DiscoveryPath || body == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	issuer := srv.URL + "/pool"
	ctx := context.Background()
	valid := `{"issuer":"` + issuer + `","jwks_uri":"` + issuer + `/.well-known/jwks.json"}`
	// The server's certificate is one only srv.Client() trusts: another client cannot reach it.
	untrusted := &http.Client{}
	for _, c := range []struct {
		name, body, issuer string
		client             *http.Client
		want               preflight.Status
		says               string
	}{
		{"a valid document", valid, issuer, srv.Client(), preflight.OK, "answers with issuer"},
		{"a 404", "", issuer, srv.Client(), preflight.Fail, "404"},
		{"an issuer that differs (a trailing slash)", `{"issuer":"` + issuer + `/","jwks_uri":"` + issuer + `/keys"}`, issuer, srv.Client(),
			preflight.Fail, "JwtIssuer=" + issuer + "/ in samconfig.toml"},
		{"no jwks_uri", `{"issuer":"` + issuer + `"}`, issuer, srv.Client(), preflight.Fail, "jwks_uri"},
		{"not JSON", `<html>sign in</html>`, issuer, srv.Client(), preflight.Fail, "not an OpenID configuration"},
		{"an untrusted certificate", valid, issuer, untrusted, preflight.Fail, "GET " + issuer + preflight.DiscoveryPath},
		{"a placeholder issuer", valid, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_PLACEHOLDERdev", srv.Client(), preflight.Info, "not fetched"},
		{"no issuer", valid, "", srv.Client(), preflight.Fail, "sets no JwtIssuer"},
	} {
		doc.Store(c.body)
		before := hits.Load()
		r := preflight.CheckIssuer(ctx, c.client, c.issuer)
		if r.Status != c.want || !strings.Contains(r.Message+" "+r.Fix, c.says) || (r.Status == preflight.Fail) != (r.Fix != "") {
			t.Errorf("%s: %+v, want %s saying %q, a fix exactly with a failure", c.name, r, c.want, c.says)
		}
		if c.want == preflight.Info && hits.Load() != before {
			t.Errorf("%s: fetched the document", c.name)
		}
	}
	srv.Close()
	if r := preflight.CheckIssuer(ctx, srv.Client(), issuer); r.Status != preflight.Fail || !strings.Contains(r.Fix, "reach") {
		t.Errorf("an unreachable issuer: %+v", r)
	}
}

// ---- Lambda's concurrency quota ----

func TestCheckConcurrency(t *testing.T) {
	ctx := context.Background()
	cfg := func(reserve string) preflight.Config {
		env := filled(t, "prod")
		env.Params["PublisherReservedConcurrency"] = reserve
		return preflight.Config{Env: env, Region: "eu-west-1", Template: template(t)}
	}
	for _, c := range []struct {
		name              string
		total, unreserved int32
		reserve           string
		want              []string
	}{
		{"a new account, nothing reserved", 10, 10, "0", []string{"warn concurrency", "ok concurrency"}},
		{"a new account asked for 2", 10, 10, "2", []string{"warn concurrency", "FAIL concurrency"}},
		{"room for 2", 1000, 1000, "2", []string{"info concurrency", "ok concurrency"}},
		{"2 would leave 100", 1000, 102, "2", []string{"info concurrency", "ok concurrency"}},
		{"2 would leave 99", 1000, 101, "2", []string{"info concurrency", "FAIL concurrency"}},
		{"not a number", 1000, 1000, "two", []string{"FAIL concurrency"}},
	} {
		rs := preflight.CheckConcurrency(ctx, lambdaFake{total: c.total, unreserved: c.unreserved}, cfg(c.reserve))
		if got := statuses(rs); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v (%+v)", c.name, got, c.want, rs)
			continue
		}
		for _, r := range rs {
			if r.Status == preflight.Fail && c.reserve != "two" &&
				(!strings.Contains(r.Fix, "PublisherReservedConcurrency=0") || !strings.Contains(r.Fix, preflight.ConcurrencyQuotaCode)) {
				t.Errorf("%s: the fix %q names neither no reservation nor the quota increase", c.name, r.Fix)
			}
			if r.Status == preflight.Warn && !strings.Contains(r.Fix, preflight.ConcurrencyQuotaCode) {
				t.Errorf("%s: the warning's fix %q names no quota increase", c.name, r.Fix)
			}
		}
	}
	// An environment that does not choose takes the template's default.
	c := cfg("")
	delete(c.Env.Params, "PublisherReservedConcurrency")
	c.Template.Defaults["PublisherReservedConcurrency"] = "5"
	if rs := preflight.CheckConcurrency(ctx, lambdaFake{total: 10, unreserved: 10}, c); rs[len(rs)-1].Status != preflight.Fail ||
		!strings.Contains(rs[len(rs)-1].Message, "PublisherReservedConcurrency=5") {
		t.Errorf("the default 5 in an account of 10: %+v", rs)
	}
	if rs := preflight.CheckConcurrency(ctx, lambdaFake{err: errors.New("AccessDeniedException")}, cfg("0")); len(rs) != 1 || rs[0].Status != preflight.Fail {
		t.Errorf("GetAccountSettings refused: %+v", rs)
	}
}

// ---- API Gateway's CloudWatch role ----

func TestCheckAPIGatewayRole(t *testing.T) {
	ctx := context.Background()
	r := preflight.CheckAPIGatewayRole(ctx, apiGatewayFake{}, "eu-west-1")
	if r.Status != preflight.Fail || !strings.Contains(r.Message, "LiveStage") ||
		!strings.Contains(r.Fix, "aws apigateway update-account --region eu-west-1") {
		t.Errorf("no role: %+v", r)
	}
	// The fix is docs/operations.md's, step for step.
	p, err := repo.Path("docs", "operations.md")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	flat := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(ops), "")
	for _, line := range strings.Split(r.Fix, "\n")[1:] {
		if !strings.Contains(flat, line) {
			t.Errorf("docs/operations.md (First deploy) does not give the fix's step %q", line)
		}
	}
	if r := preflight.CheckAPIGatewayRole(ctx, apiGatewayFake{role: "arn:aws:iam::123456789012:role/APIGatewayPushToCloudWatchLogs"}, "eu-west-1"); r.Status != preflight.OK {
		t.Errorf("a role: %+v", r)
	}
	if r := preflight.CheckAPIGatewayRole(ctx, apiGatewayFake{err: errors.New("AccessDenied")}, "eu-west-1"); r.Status != preflight.Fail {
		t.Errorf("GetAccount refused: %+v", r)
	}
}

// ---- the alarm e-mail's subscription ----

func TestCheckAlarmSubscription(t *testing.T) {
	ctx := context.Background()
	const topic = "arn:aws:sns:eu-west-1:123456789012:lifecycle-prod-AlarmTopic-X"
	const email = "oncall@lifecycle.test"
	deployed := map[string]map[string]string{"lifecycle-prod": {"AlarmTopic": topic}}
	c := preflight.Config{Env: filled(t, "prod"), Region: "eu-west-1", Template: template(t)}
	other := emailSub(topic, "someone@lifecycle.test", preflight.PendingConfirmation)
	for _, tc := range []struct {
		name   string
		stacks map[string]map[string]string
		subs   []snstypes.Subscription
		want   preflight.Status
		says   string
	}{
		{"pending", deployed, []snstypes.Subscription{other, emailSub(topic, email, preflight.PendingConfirmation)}, preflight.Fail, "confirm the mail sent to " + email},
		{"confirmed, on a later page", deployed, []snstypes.Subscription{other, emailSub(topic, "OnCall@lifecycle.test", topic+":0c1d")}, preflight.OK, "is subscribed"},
		{"not subscribed", deployed, []snstypes.Subscription{other}, preflight.Warn, "aws sns subscribe --topic-arn " + topic},
		{"no stack yet", nil, nil, preflight.Info, "checked after the first deploy"},
		{"a stack without the topic", map[string]map[string]string{"lifecycle-prod": {}}, nil, preflight.Info, "has no AlarmTopic yet"},
	} {
		stacks := &stacksFake{resources: tc.stacks}
		topics := &topicsFake{subs: map[string][]snstypes.Subscription{topic: tc.subs}}
		r := preflight.CheckAlarmSubscription(ctx, stacks, topics, c)
		if r.Status != tc.want || !strings.Contains(r.Message+" "+r.Fix, tc.says) {
			t.Errorf("%s: %+v, want %s saying %q", tc.name, r, tc.want, tc.says)
		}
		if !slices.Equal(stacks.asked, []string{"lifecycle-prod/AlarmTopic"}) {
			t.Errorf("%s: asked CloudFormation for %v", tc.name, stacks.asked)
		}
		if tc.subs != nil && topics.calls != len(tc.subs) {
			t.Errorf("%s: %d pages listed of %d", tc.name, topics.calls, len(tc.subs))
		}
	}
	for name, v := range map[string]string{"empty": "", "a placeholder": "lifecycle-oncall@example.com"} {
		c.Env.Params = maps.Clone(c.Env.Params)
		c.Env.Params["AlarmEmail"] = v
		stacks := &stacksFake{resources: deployed}
		if r := preflight.CheckAlarmSubscription(ctx, stacks, &topicsFake{}, c); r.Status != preflight.Info || len(stacks.asked) != 0 {
			t.Errorf("AlarmEmail %s: %+v, asked %v", name, r, stacks.asked)
		}
	}
}

// ---- the template ----

func TestReadTemplate(t *testing.T) {
	tpl := template(t)
	if tpl.AlarmTopic != "AlarmTopic" {
		t.Errorf("alarm topic %q", tpl.AlarmTopic)
	}
	if d, ok := tpl.Defaults["PublisherReservedConcurrency"]; !ok || d != "0" {
		t.Errorf("PublisherReservedConcurrency's default %q (%v)", d, ok)
	}
	if _, ok := tpl.Defaults["JwtIssuer"]; ok {
		t.Error("JwtIssuer has a default")
	}
}

// ---- all of it ----

// issuerServer publishes a valid discovery document for its own URL until t ends.
func issuerServer(t *testing.T) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss := "https://" + r.Host
		_, _ = w.Write([]byte(`{"issuer":"` + iss + `","jwks_uri":"` + iss + `/jwks.json"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunReportsEachCheck(t *testing.T) {
	srv := issuerServer(t)
	env := filled(t, "prod")
	env.Params["JwtIssuer"] = srv.URL
	c := preflight.Config{Env: env, Region: "eu-west-1", Template: template(t)}
	const topic = "arn:aws:sns:eu-west-1:123456789012:lifecycle-prod-AlarmTopic-X"
	healthy := preflight.Clients{
		Lambda:         lambdaFake{total: 1000, unreserved: 1000},
		APIGateway:     apiGatewayFake{role: "arn:aws:iam::123456789012:role/APIGatewayPushToCloudWatchLogs"},
		CloudFormation: &stacksFake{resources: map[string]map[string]string{"lifecycle-prod": {"AlarmTopic": topic}}},
		SNS:            &topicsFake{subs: map[string][]snstypes.Subscription{topic: {emailSub(topic, "oncall@lifecycle.test", topic+":1")}}},
		HTTP:           srv.Client(),
	}
	rs := preflight.Run(context.Background(), c, healthy)
	want := []string{"ok placeholder", "ok issuer", "info concurrency", "ok concurrency", "ok apigateway-role", "ok alarm-email"}
	if got := statuses(rs); !slices.Equal(got, want) || preflight.Failed(rs) {
		t.Errorf("a ready account: %v, want %v", got, want)
	}

	broken := healthy
	broken.APIGateway = apiGatewayFake{}
	c.Region = "eu-central-1"
	rs = preflight.Run(context.Background(), c, broken)
	if !preflight.Failed(rs) || !slices.Contains(statuses(rs), "info region") {
		t.Errorf("no CloudWatch role, another region: %v", statuses(rs))
	}
	var out strings.Builder
	if err := preflight.Write(&out, rs); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"ok   issuer: ",
		"FAIL apigateway-role: API Gateway has no CloudWatch role in eu-central-1",
		"     fix: once per account and region",
		"          aws apigateway update-account --region eu-central-1",
	} {
		if !strings.Contains(out.String(), "\n"+line) && !strings.HasPrefix(out.String(), line) {
			t.Errorf("the report has no line starting %q:\n%s", line, out.String())
		}
	}
}
