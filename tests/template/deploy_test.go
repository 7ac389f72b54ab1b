package template

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lifecycle-api/lifecycle/shared/auth"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/liveapi"
	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
	"github.com/lifecycle-api/lifecycle/tools/deploy/samconfig"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
)

// environments reads samconfig.toml's environments that deploy (those with a stack name).
func environments(t *testing.T) []samconfig.Environment {
	t.Helper()
	envs, err := samconfig.Load("../../samconfig.toml")
	if err != nil {
		t.Fatal(err)
	}
	return envs
}

// parameters returns the template's parameters by name.
func parameters(tpl *cfntemplate.Template) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	ps := get(tpl.Root, "Parameters")
	for i := 0; i+1 < len(ps.Content); i += 2 {
		out[ps.Content[i].Value] = ps.Content[i+1]
	}
	return out
}

// checkValue reports why v is not a value parameter p accepts ("" when it is).
func checkValue(p *yaml.Node, v string) string {
	values := []string{v}
	if scalar(get(p, "Type")) == "CommaDelimitedList" {
		values = strings.Split(v, ",")
	}
	for _, v := range values {
		if allowed := cfntemplate.Scalars(get(p, "AllowedValues")); allowed != nil && !slices.Contains(allowed, v) {
			return "not one of " + strings.Join(allowed, ", ")
		}
		if pat := scalar(get(p, "AllowedPattern")); pat != "" && !regexp.MustCompile("^(?:"+pat+")$").MatchString(v) {
			return "does not match " + pat
		}
		if min := scalar(get(p, "MinValue")); min != "" {
			n, err := strconv.Atoi(v)
			m, _ := strconv.Atoi(min)
			if err != nil || n < m {
				return "below " + min
			}
		}
	}
	return ""
}

// TestEveryEnvironmentDeploysAFreshStack (issue 13, fault 2): a first `sam deploy
// --config-env <env>` reuses no previous values, so every parameter without a default has
// one in every environment, every value is one the template accepts, and the
// environments are distinct stacks with a region, the capabilities the template needs and
// cost-allocation tags.
func TestEveryEnvironmentDeploysAFreshStack(t *testing.T) {
	tpl := load(t)
	params := parameters(tpl)
	envs := environments(t)
	if len(envs) < 2 {
		t.Fatalf("samconfig.toml deploys %d environments, want dev and prod", len(envs))
	}
	stacks := map[string]string{}
	for _, env := range envs {
		if other, ok := stacks[env.Stack]; ok {
			t.Errorf("[%s] and [%s] both deploy stack %s", env.Name, other, env.Stack)
		}
		stacks[env.Stack] = env.Name
		if env.Region == "" {
			t.Errorf("[%s] names no region", env.Name)
		}
		caps := strings.Fields(env.Capabilities)
		if !slices.Contains(caps, "CAPABILITY_IAM") || !slices.Contains(caps, "CAPABILITY_AUTO_EXPAND") {
			t.Errorf("[%s] capabilities %q: the stack creates roles (CAPABILITY_IAM) and uses AWS::LanguageExtensions (CAPABILITY_AUTO_EXPAND)", env.Name, env.Capabilities)
		}
		tags := map[string]string{}
		for _, kv := range strings.Fields(env.Tags) {
			k, v, _ := strings.Cut(kv, "=")
			tags[k] = v
		}
		if tags["project"] != "lifecycle" || tags["environment"] != env.Params["Stage"] || tags["cost-center"] == "" {
			t.Errorf("[%s] tags %q: want project=lifecycle, environment=<Stage> and a cost-center", env.Name, env.Tags)
		}
		for name, p := range params {
			v, set := env.Params[name]
			if !set && get(p, "Default") == nil {
				t.Errorf("[%s] gives no value for %s, which has no default: a first deploy fails", env.Name, name)
			}
			if set {
				if why := checkValue(p, v); why != "" {
					t.Errorf("[%s] %s=%s: %s", env.Name, name, v, why)
				}
			}
		}
		for name := range env.Params {
			if params[name] == nil {
				t.Errorf("[%s] sets %s, which the template does not have", env.Name, name)
			}
		}
		if env.Name == "prod" && env.Params["AlarmEmail"] == "" {
			t.Error("[prod] subscribes no AlarmEmail: its alarms would reach no one")
		}
	}
	if pat := scalar(get(params["JwtIssuer"], "AllowedPattern")); pat == "" {
		t.Error("JwtIssuer has no AllowedPattern")
	}
	for v, ok := range map[string]bool{
		"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123":  true,
		"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/": false, // iss never ends in a slash
		"http://issuer.example.com":                                     false,
		"cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123":          false,
		"": false,
	} {
		if (checkValue(params["JwtIssuer"], v) == "") != ok {
			t.Errorf("JwtIssuer %q accepted = %v, want %v", v, !ok, ok)
		}
	}
}

// TestPerEnvironmentChoices: the choices issue 13 asks to make per environment are made in
// each, and prod's protect it. PublisherReservedConcurrency 0 leaves the publisher
// unreserved (an account at the minimum concurrency quota can reserve none).
func TestPerEnvironmentChoices(t *testing.T) {
	tpl := load(t)
	rc := flow(get(tpl.Root, "Resources", "PublishEventsFunction", "Properties", "ReservedConcurrentExecutions"))
	cond := get(tpl.Root, "Conditions", "HasPublisherConcurrency")
	if rc != "!If [HasPublisherConcurrency, !Ref PublisherReservedConcurrency, !Ref AWS::NoValue]" ||
		cond.Tag != "!Not" || flow(cond.Content[0]) != "!Equals [!Ref PublisherReservedConcurrency, 0]" {
		t.Errorf("publish-events' reserved concurrency %q: 0 must mean none reserved", rc)
	}
	if scalar(get(parameters(tpl)["PublisherReservedConcurrency"], "MinValue")) != "0" {
		t.Error("PublisherReservedConcurrency must accept 0")
	}
	for _, env := range environments(t) {
		for _, p := range []string{"PublisherReservedConcurrency", "CorsAllowedOrigins", "LogCancelReasons", "AuditRetentionDays", "CreateExampleQueues", "DeploymentType"} {
			if _, ok := env.Params[p]; !ok {
				t.Errorf("[%s] does not choose %s", env.Name, p)
			}
		}
		gradual := strings.HasPrefix(env.Params["DeploymentType"], "Canary") || strings.HasPrefix(env.Params["DeploymentType"], "Linear")
		if env.Params["Stage"] == "prod" && (!gradual || env.Params["CreateExampleQueues"] != "false") {
			t.Errorf("[%s] must shift traffic gradually (canary or linear) and create no example queues", env.Name)
		}
	}
}

// TestFunctionSettingsComeFromParameters (faults 6 and 8): the roles claim and the reason
// logging switch reach every function as environment variables from parameters whose
// defaults are what the local stack runs with.
func TestFunctionSettingsComeFromParameters(t *testing.T) {
	tpl := load(t)
	params := parameters(tpl)
	vars := get(tpl.Root, "Globals", "Function", "Environment", "Variables")
	d := wiring.Defaults()
	for env, want := range map[string]struct{ param, def string }{
		"ROLES_CLAIM": {"RolesClaim", d.RolesClaim},
		"LOG_REASONS": {"LogCancelReasons", strconv.FormatBool(d.LogReasons)},
	} {
		if got := scalar(get(vars, env)); got != "!Ref "+want.param {
			t.Errorf("Globals: %s = %q, want !Ref %s", env, got, want.param)
		}
		if got := scalar(get(params[want.param], "Default")); got != want.def {
			t.Errorf("%s defaults to %q, the local stack runs with %q", want.param, got, want.def)
		}
	}
	if d.RolesClaim != auth.DefaultRolesClaim || !d.LogReasons {
		t.Errorf("the local defaults %+v are not the documented ones (cognito:groups, reasons logged)", d)
	}
	for id, fn := range tpl.Resources("AWS::Serverless::Function") {
		if v := get(fn, "Properties", "Environment", "Variables"); get(v, "ROLES_CLAIM") != nil || get(v, "LOG_REASONS") != nil {
			t.Errorf("%s overrides a setting every function shares", id)
		}
	}
	// The audit table expires records by the attribute the code writes, after the days
	// AuditRetentionDays gives the consumer.
	ttl := get(tpl.Root, "Resources", "AuditTable", "Properties", "TimeToLiveSpecification")
	if scalar(get(ttl, "AttributeName")) != dynamo.AuditExpiresAt || scalar(get(ttl, "Enabled")) != "true" {
		t.Errorf("AuditTable TTL %v, want %s enabled", ttl, dynamo.AuditExpiresAt)
	}
	if got := scalar(get(tpl.Root, "Resources", "AuditLogFunction", "Properties", "Environment", "Variables", "AUDIT_RETENTION_DAYS")); got != "!Ref AuditRetentionDays" {
		t.Errorf("audit-log's AUDIT_RETENTION_DAYS = %q", got)
	}
	ops, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"LogCancelReasons", "AuditRetentionDays", "LogRetentionDays", "RolesClaim"} {
		if !strings.Contains(string(ops), p) {
			t.Errorf("docs/operations.md does not document %s", p)
		}
	}
}

// readDoc returns a repository file's text.
func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile("../../" + path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRollbackAlarmsWatchEveryFunction (Go further): the deployments' rollback alarms see
// a crash of any function (Lambda Errors of each, by name) and any 5xx the HTTP functions
// answer (their request metric by outcome alone, the dimension set the middleware emits
// for it), with Tracing on every function.
func TestRollbackAlarmsWatchEveryFunction(t *testing.T) {
	tpl := load(t)
	g := get(tpl.Root, "Globals", "Function")
	if scalar(get(g, "Tracing")) != "Active" || scalar(get(g, "AutoPublishAlias")) != "live" {
		t.Error("Globals: every function must be traced actively and published behind the alias live")
	}
	alarms := cfntemplate.Scalars(get(g, "DeploymentPreference", "Alarms"))
	if !slices.Contains(alarms, "!Ref FunctionServerErrorsAlarm") || scalar(get(g, "DeploymentPreference", "Type")) != "!Ref DeploymentType" {
		t.Errorf("Globals DeploymentPreference: type %q, alarms %v", scalar(get(g, "DeploymentPreference", "Type")), alarms)
	}
	// Each function's Errors is watched by one of the rollback alarms (an alarm takes at
	// most 10 metrics: more functions, another alarm in the list).
	watched := map[string]bool{}
	for _, a := range alarms {
		ms := get(tpl.Root, "Resources", strings.TrimPrefix(a, "!Ref "), "Properties", "Metrics")
		if ms == nil {
			continue
		}
		for _, m := range ms.Content {
			metric := get(m, "MetricStat", "Metric")
			if scalar(get(metric, "Namespace")) == "AWS/Lambda" && scalar(get(metric, "MetricName")) == "Errors" {
				watched[refTarget(get(metric, "Dimensions").Content[0].Content[3])] = true
			}
		}
	}
	for id := range tpl.Resources("AWS::Serverless::Function") {
		if !watched[id] {
			t.Errorf("no rollback alarm watches %s's Errors", id)
		}
	}
	var outcomes []string
	for _, m := range get(tpl.Root, "Resources", "FunctionServerErrorsAlarm", "Properties", "Metrics").Content {
		metric := get(m, "MetricStat", "Metric")
		if metric == nil {
			continue
		}
		dims := get(metric, "Dimensions").Content
		if scalar(get(metric, "Namespace")) != "Lifecycle" || scalar(get(metric, "MetricName")) != "requests" || len(dims) != 1 || scalar(get(dims[0], "Name")) != "outcome" {
			t.Errorf("FunctionServerErrorsAlarm watches %s/%s by %d dimensions, want Lifecycle/requests by outcome alone", scalar(get(metric, "Namespace")), scalar(get(metric, "MetricName")), len(dims))
			continue
		}
		outcomes = append(outcomes, scalar(get(dims[0], "Value")))
	}
	if slices.Sort(outcomes); !slices.Equal(outcomes, []string{liveapi.OutcomeInternal, liveapi.OutcomeUnavailable}) {
		t.Errorf("FunctionServerErrorsAlarm watches outcomes %v, want the 5xx ones (the live routes report the same)", outcomes)
	}
	// The WebSocket API's own failures (issue 23): an integration or a route API Gateway
	// could not execute, with no function to report it.
	if !slices.Contains(alarms, "!Ref LiveApiErrorsAlarm") {
		t.Error("no rollback alarm watches the WebSocket API's integration and execution errors")
	}
	var apiMetrics []string
	for _, m := range get(tpl.Root, "Resources", "LiveApiErrorsAlarm", "Properties", "Metrics").Content {
		metric := get(m, "MetricStat", "Metric")
		if metric == nil || scalar(get(metric, "Namespace")) != "AWS/ApiGateway" {
			continue
		}
		dims := map[string]string{}
		for _, d := range get(metric, "Dimensions").Content {
			dims[scalar(get(d, "Name"))] = scalar(get(d, "Value"))
		}
		if len(dims) == 2 && dims["ApiId"] == "!Ref LiveApi" && dims["Stage"] == "!Ref Stage" {
			apiMetrics = append(apiMetrics, scalar(get(metric, "MetricName")))
		}
	}
	if slices.Sort(apiMetrics); !slices.Equal(apiMetrics, []string{"ExecutionError", "IntegrationError"}) {
		t.Errorf("LiveApiErrorsAlarm watches %v of LiveApi's stage, want IntegrationError and ExecutionError", apiMetrics)
	}
}

// TestAlarmsStayWithinCloudWatchLimits: an alarm on metric math takes at most 10 metrics
// and 10 expressions (a hard limit); a template past it fails only when deployed.
func TestAlarmsStayWithinCloudWatchLimits(t *testing.T) {
	for id, a := range load(t).Resources("AWS::CloudWatch::Alarm") {
		var metrics, expressions int
		if ms := get(a, "Properties", "Metrics"); ms != nil {
			for _, m := range ms.Content {
				if get(m, "MetricStat") != nil {
					metrics++
				} else {
					expressions++
				}
			}
		}
		if metrics > 10 || expressions > 10 {
			t.Errorf("alarm %s has %d metrics and %d expressions; CloudWatch takes at most 10 of each (split it, and list both where it is used)", id, metrics, expressions)
		}
	}
}

// TestAFirstDeployFitsANewAccount (issue 23): Lambda refuses a reservation of concurrency
// that leaves the account fewer than 100 unreserved, and a new account's quota is often 10,
// so nothing reserves any by default: not the template, not an environment. An account with
// room opts in after the check docs/operations.md gives ("First deploy").
func TestAFirstDeployFitsANewAccount(t *testing.T) {
	tpl := load(t)
	if d := scalar(get(parameters(tpl)["PublisherReservedConcurrency"], "Default")); d != "0" {
		t.Errorf("PublisherReservedConcurrency defaults to %s: a first deploy into a new account fails", d)
	}
	for _, env := range environments(t) {
		if v := env.Params["PublisherReservedConcurrency"]; v != "0" {
			t.Errorf("[%s] reserves %s: its first deploy fails in an account whose quota cannot spare it (reserve only after the quota check)", env.Name, v)
		}
	}
	if !strings.Contains(readDoc(t, "docs/operations.md"), "aws lambda get-account-settings") {
		t.Error("docs/operations.md's First deploy must say how to check the concurrency quota")
	}
}

// TestProdLogsNoFreeText (issue 23): cancellation reasons are free text a customer may type
// anything into; prod logs only their length (the reason stays in the audit trail), so its
// log groups need no key of their own. Dev logs them, as seed 000 asks.
func TestProdLogsNoFreeText(t *testing.T) {
	for _, env := range environments(t) {
		want := map[string]string{"prod": "false", "dev": "true"}[env.Params["Stage"]]
		if got := env.Params["LogCancelReasons"]; want != "" && got != want {
			t.Errorf("[%s] LogCancelReasons=%s, want %s", env.Name, got, want)
		}
	}
}

// TestAFailedCreateCanBeRetried (issue 23): a resource kept when its stack is deleted
// (DeletionPolicy Retain) is kept too when the stack's first create rolls back, and the
// retry then fails on a name that already exists. Every resource that is kept is kept
// except on create.
func TestAFailedCreateCanBeRetried(t *testing.T) {
	tpl := load(t)
	res := get(tpl.Root, "Resources")
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, r := res.Content[i].Value, res.Content[i+1]
		dp := get(r, "DeletionPolicy")
		if dp == nil {
			continue
		}
		for _, v := range append([]*yaml.Node{dp}, dp.Content...) {
			if v.Kind == yaml.ScalarNode && v.Value == "Retain" {
				t.Errorf("%s: DeletionPolicy %s keeps it after a failed create too; use RetainExceptOnCreate", id, flow(dp))
			}
		}
	}
}
