// Package template holds template.yaml to the code: every function folder has its
// resource and only its routes, the tables match the schemas the code creates locally,
// and each function's permissions are exactly what it uses, on its own resources.
package template

import (
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"gopkg.in/yaml.v3"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
)

var (
	get    = cfntemplate.Get
	scalar = cfntemplate.Scalar
)

func load(t *testing.T) *cfntemplate.Template {
	t.Helper()
	tpl, err := cfntemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func kebab(s string) string {
	return strings.ToLower(regexp.MustCompile(`([a-z0-9])([A-Z])`).ReplaceAllString(s, "$1-$2"))
}

// functions maps each AWS::Serverless::Function's folder name to its resource.
func functions(t *testing.T, tpl *cfntemplate.Template) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for id, r := range tpl.Resources("AWS::Serverless::Function") {
		name, ok := strings.CutSuffix(id, "Function")
		if !ok {
			t.Errorf("function resource %s must be named <Name>Function (the Makefile's build-%%Function rule relies on it)", id)
			continue
		}
		out[kebab(name)] = r
	}
	return out
}

func TestEveryFunctionFolderHasOneResourceAndBack(t *testing.T) {
	fns := functions(t, load(t))
	dirs, _ := filepath.Glob("../../functions/*/main.go")
	var folders []string
	for _, d := range dirs {
		folders = append(folders, filepath.Base(filepath.Dir(d)))
	}
	// Every function a route names (a transition's, from its row) has its main.
	for _, r := range httpapi.Routes() {
		if !slices.Contains(folders, r.Function) {
			t.Errorf("route %s: its function has no folder functions/%s (a main.go: copy a sibling's and change the row)", r.Pattern(), r.Function)
		}
	}
	for _, f := range folders {
		if _, ok := fns[f]; !ok {
			t.Errorf("functions/%s has no resource in template.yaml", f)
		}
		if evs, _ := filepath.Glob("../../events/" + f + "/*.json"); len(evs) == 0 {
			t.Errorf("functions/%s has no sample events in events/%s", f, f)
		}
	}
	for name, r := range fns {
		if !slices.Contains(folders, name) {
			t.Errorf("template function %s has no folder functions/%s", name, name)
		}
		if scalar(get(r, "Metadata", "BuildMethod")) != "makefile" || scalar(get(r, "Properties", "CodeUri")) != "." {
			t.Errorf("%s must build with the Makefile from the repository root", name)
		}
		if get(r, "Properties", "LoggingConfig", "LogGroup") == nil {
			t.Errorf("%s has no log group (with retention)", name)
		}
	}
}

func TestRoutesMatchTheRouteTable(t *testing.T) {
	tpl := load(t)
	// A route's pattern, with the scopes the gateway asks of its token, if any.
	want := map[string][]string{}
	for _, r := range httpapi.Routes() {
		want[r.Function] = append(want[r.Function], r.Pattern()+scopesOf(r.Scopes))
	}
	got := map[string][]string{}
	for name, r := range functions(t, tpl) {
		evs := get(r, "Properties", "Events")
		if evs == nil {
			continue
		}
		for i := 0; i+1 < len(evs.Content); i += 2 {
			ev := evs.Content[i+1]
			if scalar(get(ev, "Type")) != "HttpApi" {
				continue
			}
			if scalar(get(ev, "Properties", "ApiId")) != "!Ref HttpApi" {
				t.Errorf("%s route %s is not on HttpApi", name, evs.Content[i].Value)
			}
			var scopes []string
			if sc := get(ev, "Properties", "Auth", "AuthorizationScopes"); sc != nil {
				for _, n := range sc.Content {
					scopes = append(scopes, n.Value)
				}
				if a := scalar(get(ev, "Properties", "Auth", "Authorizer")); a != "JwtAuthorizer" {
					t.Errorf("%s route %s asks for scopes of authorizer %q, want JwtAuthorizer", name, evs.Content[i].Value, a)
				}
			}
			got[name] = append(got[name], scalar(get(ev, "Properties", "Method"))+" "+scalar(get(ev, "Properties", "Path"))+scopesOf(scopes))
		}
	}
	for fn := range want {
		sort.Strings(want[fn])
		sort.Strings(got[fn])
		if !slices.Equal(want[fn], got[fn]) {
			t.Errorf("%s: template routes %v, code routes %v", fn, got[fn], want[fn])
		}
	}
	for fn := range got {
		if _, ok := want[fn]; !ok {
			t.Errorf("%s has template routes %v but none in the route table", fn, got[fn])
		}
	}
	auth := get(tpl.Root, "Resources", "HttpApi", "Properties", "Auth")
	if scalar(get(auth, "DefaultAuthorizer")) != "JwtAuthorizer" || get(auth, "Authorizers", "JwtAuthorizer", "JwtConfiguration") == nil {
		t.Error("HttpApi must default to the JWT authorizer")
	}
}

// scopesOf renders a route's scopes for comparison: "" when it has none.
func scopesOf(scopes []string) string {
	if len(scopes) == 0 {
		return ""
	}
	return " scopes " + strings.Join(scopes, ",")
}

func keys(n *yaml.Node) string {
	var ks []string
	for _, k := range n.Content {
		ks = append(ks, scalar(get(k, "AttributeName"))+":"+scalar(get(k, "KeyType")))
	}
	return strings.Join(ks, ",")
}

// sameTable compares a template table with the CreateTableInput the code uses locally.
// Tables of lasting records must have point-in-time recovery; short-lived ones need not.
func sameTable(t *testing.T, logicalID string, tbl *yaml.Node, in *dynamodb.CreateTableInput, lasting bool) {
	t.Helper()
	var attrs, wantAttrs []string
	for _, a := range get(tbl, "AttributeDefinitions").Content {
		attrs = append(attrs, scalar(get(a, "AttributeName"))+":"+scalar(get(a, "AttributeType")))
	}
	for _, a := range in.AttributeDefinitions {
		wantAttrs = append(wantAttrs, *a.AttributeName+":"+string(a.AttributeType))
	}
	sort.Strings(attrs)
	sort.Strings(wantAttrs)
	if !slices.Equal(attrs, wantAttrs) {
		t.Errorf("%s attributes: template %v, code %v", logicalID, attrs, wantAttrs)
	}
	var wantKeys []string
	for _, k := range in.KeySchema {
		wantKeys = append(wantKeys, *k.AttributeName+":"+string(k.KeyType))
	}
	if got := keys(get(tbl, "KeySchema")); got != strings.Join(wantKeys, ",") {
		t.Errorf("%s key schema %s, code %v", logicalID, got, wantKeys)
	}
	gsis := map[string]string{}
	if g := get(tbl, "GlobalSecondaryIndexes"); g != nil {
		for _, g := range g.Content {
			gsis[scalar(get(g, "IndexName"))] = keys(get(g, "KeySchema")) + "/" + scalar(get(g, "Projection", "ProjectionType")) +
				projected(cfntemplate.Scalars(get(g, "Projection", "NonKeyAttributes")))
		}
	}
	for _, g := range in.GlobalSecondaryIndexes {
		var ks []string
		for _, k := range g.KeySchema {
			ks = append(ks, *k.AttributeName+":"+string(k.KeyType))
		}
		want := strings.Join(ks, ",") + "/" + string(g.Projection.ProjectionType) + projected(g.Projection.NonKeyAttributes)
		if gsis[*g.IndexName] != want {
			t.Errorf("%s index %s: template %q, code %q", logicalID, *g.IndexName, gsis[*g.IndexName], want)
		}
		delete(gsis, *g.IndexName)
	}
	if len(gsis) > 0 {
		t.Errorf("%s: template indexes the code does not create: %v", logicalID, gsis)
	}
	if scalar(get(tbl, "BillingMode")) != "PAY_PER_REQUEST" {
		t.Errorf("%s must be on-demand", logicalID)
	}
	if lasting && scalar(get(tbl, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")) != "true" {
		t.Errorf("%s must have point-in-time recovery", logicalID)
	}
}

// projected renders an index's non-key attributes in a fixed order ("" for none).
func projected(attrs []string) string {
	if len(attrs) == 0 {
		return ""
	}
	return "[" + strings.Join(slices.Sorted(slices.Values(attrs)), " ") + "]"
}

func TestTablesMatchTheCodeSchemas(t *testing.T) {
	tpl := load(t)
	tbl := get(tpl.Root, "Resources", "Table", "Properties")
	sameTable(t, "Table", tbl, dynamo.CreateTableInput("x"), true)
	if scalar(get(tbl, "StreamSpecification", "StreamViewType")) != "NEW_AND_OLD_IMAGES" {
		t.Error("the table stream must carry NEW_AND_OLD_IMAGES")
	}
	// Request records expire (shared/dynamo/requests.go): without TTL they would pile up.
	if scalar(get(tbl, "TimeToLiveSpecification", "AttributeName")) != attr.ExpiresAt ||
		scalar(get(tbl, "TimeToLiveSpecification", "Enabled")) != "true" {
		t.Errorf("Table must expire request records by TTL on %s", attr.ExpiresAt)
	}
	sameTable(t, "AuditTable", get(tpl.Root, "Resources", "AuditTable", "Properties"), dynamo.CreateAuditTableInput("x"), true)
	liveTbl := get(tpl.Root, "Resources", "LiveTable", "Properties")
	sameTable(t, "LiveTable", liveTbl, dynamo.CreateLiveTableInput("x"), false)
	if scalar(get(liveTbl, "TimeToLiveSpecification", "AttributeName")) != dynamo.LiveTTLAttribute ||
		scalar(get(liveTbl, "TimeToLiveSpecification", "Enabled")) != "true" {
		t.Errorf("LiveTable must expire its items by TTL on %s", dynamo.LiveTTLAttribute)
	}
	if get(liveTbl, "StreamSpecification") != nil {
		t.Error("LiveTable must have no stream: its tickets and connections are not events")
	}
}

// grants is each function's least privilege: every action it may perform and the exact
// resources it may perform it on, beside what every function gets (ownGrants). Nothing
// else may be granted.
var grants = map[string]map[string][]string{
	httpapi.FnCreateInterview: {"dynamodb:GetItem": {"!GetAtt Table.Arn"}, "dynamodb:PutItem": {"!GetAtt Table.Arn"}},
	httpapi.FnCancelInterview: {"dynamodb:GetItem": {"!GetAtt Table.Arn"}, "dynamodb:PutItem": {"!GetAtt Table.Arn"}, "dynamodb:UpdateItem": {"!GetAtt Table.Arn"}},
	httpapi.FnPauseInterview:  {"dynamodb:GetItem": {"!GetAtt Table.Arn"}, "dynamodb:PutItem": {"!GetAtt Table.Arn"}, "dynamodb:UpdateItem": {"!GetAtt Table.Arn"}},
	httpapi.FnResumeInterview: {"dynamodb:GetItem": {"!GetAtt Table.Arn"}, "dynamodb:PutItem": {"!GetAtt Table.Arn"}, "dynamodb:UpdateItem": {"!GetAtt Table.Arn"}},
	httpapi.FnCompleteInterview: {"dynamodb:GetItem": {"!GetAtt Table.Arn"}, "dynamodb:PutItem": {"!GetAtt Table.Arn"},
		"dynamodb:UpdateItem": {"!GetAtt Table.Arn"}},
	httpapi.FnRecordInteraction: {"dynamodb:GetItem": {"!GetAtt Table.Arn"}, "dynamodb:PutItem": {"!GetAtt Table.Arn"},
		"dynamodb:UpdateItem": {"!GetAtt Table.Arn"}},
	httpapi.FnGetInterview:   {"dynamodb:GetItem": {"!GetAtt Table.Arn"}},
	httpapi.FnListInterviews: {"dynamodb:Query": {"!Sub ${Table.Arn}/index/byOwner", "!Sub ${Table.Arn}/index/byOwnerStatus"}},
	httpapi.FnCreateJob:      {"dynamodb:PutItem": {"!GetAtt Table.Arn"}, "dynamodb:Query": {"!GetAtt Table.Arn"}},
	httpapi.FnCancelJob: {"dynamodb:Query": {"!GetAtt Table.Arn"}, "dynamodb:GetItem": {"!GetAtt Table.Arn"}, "dynamodb:PutItem": {"!GetAtt Table.Arn"},
		"dynamodb:UpdateItem": {"!GetAtt Table.Arn"}, "dynamodb:DeleteItem": {"!GetAtt Table.Arn"}},
	job.Confirm.Function:  jobStepGrants,
	job.Start.Function:    jobStepGrants,
	job.Complete.Function: jobStepGrants,
	job.Reschedule.Function: {"dynamodb:Query": {"!GetAtt Table.Arn"}, "dynamodb:GetItem": {"!GetAtt Table.Arn"}, "dynamodb:PutItem": {"!GetAtt Table.Arn"},
		"dynamodb:UpdateItem": {"!GetAtt Table.Arn"}, "dynamodb:DeleteItem": {"!GetAtt Table.Arn"}},
	httpapi.FnAssignJob: {"dynamodb:Query": {"!GetAtt Table.Arn"}, "dynamodb:GetItem": {"!GetAtt Table.Arn"}, "dynamodb:PutItem": {"!GetAtt Table.Arn"},
		"dynamodb:UpdateItem": {"!GetAtt Table.Arn"}, "dynamodb:DeleteItem": {"!GetAtt Table.Arn"}},
	httpapi.FnGetSchedule: {"dynamodb:Query": {"!GetAtt Table.Arn"}},
	httpapi.FnListJobs:    {"dynamodb:Query": {"!Sub ${Table.Arn}/index/byBoardTime"}},
	// The planned resumes: the planner creates schedules in its group and passes the one
	// role they run as; the target resumes as resume-interview does.
	resumetimer.FnPlan: {
		"scheduler:CreateSchedule": {"!Sub arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${ResumeScheduleGroup}/*"},
		"iam:PassRole":             {"!GetAtt ResumeSchedulerRole.Arn"},
		"sqs:SendMessage":          {"!GetAtt PlanResumeDLQ.Arn"},
	},
	interview.ScheduledResume.Function: {"dynamodb:GetItem": {"!GetAtt Table.Arn"}, "dynamodb:PutItem": {"!GetAtt Table.Arn"}, "dynamodb:UpdateItem": {"!GetAtt Table.Arn"},
		"sqs:SendMessage": {"!GetAtt ResumeDLQ.Arn"}},
	httpapi.FnGetJob: {"dynamodb:Query": {"!GetAtt Table.Arn"}},
	"publish-events": {
		"dynamodb:DescribeStream":   {"!GetAtt Table.StreamArn"},
		"dynamodb:GetRecords":       {"!GetAtt Table.StreamArn"},
		"dynamodb:GetShardIterator": {"!GetAtt Table.StreamArn"},
		"dynamodb:ListStreams":      {"*"},
		"events:PutEvents":          {"!GetAtt EventBus.Arn"},
		"sqs:SendMessage":           {"!GetAtt PublishEventsFailures.Arn"},
	},
	"audit-log": {
		"sqs:ReceiveMessage":     {"!GetAtt AuditQueue.Arn"},
		"sqs:DeleteMessage":      {"!GetAtt AuditQueue.Arn"},
		"sqs:GetQueueAttributes": {"!GetAtt AuditQueue.Arn"},
		"dynamodb:PutItem":       {"!GetAtt AuditTable.Arn"},
	},
	httpapi.FnLiveTicket: {"dynamodb:PutItem": {"!GetAtt LiveTable.Arn"}, "dynamodb:UpdateItem": {"!GetAtt LiveTable.Arn"}},
	live.FnConnect:       {"dynamodb:PutItem": {"!GetAtt LiveTable.Arn"}, "dynamodb:UpdateItem": {"!GetAtt LiveTable.Arn"}},
	live.FnDisconnect:    {"dynamodb:DeleteItem": {"!GetAtt LiveTable.Arn"}, "dynamodb:UpdateItem": {"!GetAtt LiveTable.Arn"}},
	live.FnDefault:       {},
	live.FnNotify: {
		"dynamodb:Query":      {"!Sub ${LiveTable.Arn}/index/byUser", "!Sub ${LiveTable.Arn}/index/byJobReader"},
		"dynamodb:DeleteItem": {"!GetAtt LiveTable.Arn"},
		"dynamodb:UpdateItem": {"!GetAtt LiveTable.Arn"},
		"execute-api:ManageConnections": {
			"!Sub arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${LiveApi}/${Stage}/POST/@connections/*",
			"!Sub arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${LiveApi}/${Stage}/DELETE/@connections/*",
		},
		"sqs:SendMessage": {"!GetAtt LiveNotifyDLQ.Arn"},
	},
}

// ownGrants is what every function needs beside its work: writing to its own log group
// (<Name>Logs), and, traced actively, sending its segments to X-Ray.
func ownGrants(logicalName string) map[string][]string {
	logs := "!GetAtt " + logicalName + "Logs.Arn"
	return map[string][]string{
		"logs:CreateLogStream":     {logs},
		"logs:PutLogEvents":        {logs},
		"xray:PutTraceSegments":    {"*"},
		"xray:PutTelemetryRecords": {"*"},
	}
}

// unscoped are the actions IAM lets no policy scope to a resource, each with why a
// function needs it: the only ones a function's role may grant on "*".
var unscoped = map[string]string{
	"xray:PutTraceSegments":    "active tracing sends the function's segments; X-Ray's actions take no resource",
	"xray:PutTelemetryRecords": "active tracing reports the X-Ray SDK's telemetry; X-Ray's actions take no resource",
	"dynamodb:ListStreams":     "Lambda's stream poller lists the table's streams; ListStreams is an account-level action with no resource type",
}

// jobStepGrants are a technician's transition's: read the job with its assignments, then
// one transaction (the job's update, the assignment's, the request's record).
var jobStepGrants = map[string][]string{"dynamodb:Query": {"!GetAtt Table.Arn"}, "dynamodb:GetItem": {"!GetAtt Table.Arn"},
	"dynamodb:PutItem": {"!GetAtt Table.Arn"}, "dynamodb:UpdateItem": {"!GetAtt Table.Arn"}}

// leadingKeys is the partition-key prefix each item-level action of a function is
// confined to with a dynamodb:LeadingKeys condition ("*": every action of the function).
var leadingKeys = map[string]map[string]string{
	httpapi.FnCreateInterview:          {"*": "INTERVIEW#*"},
	httpapi.FnCancelInterview:          {"*": "INTERVIEW#*"},
	httpapi.FnPauseInterview:           {"*": "INTERVIEW#*"},
	httpapi.FnResumeInterview:          {"*": "INTERVIEW#*"},
	httpapi.FnCompleteInterview:        {"*": "INTERVIEW#*"},
	httpapi.FnRecordInteraction:        {"*": "INTERVIEW#*"},
	httpapi.FnGetInterview:             {"*": "INTERVIEW#*"},
	httpapi.FnCancelJob:                {"*": "JOB#*,TECH#*"},
	httpapi.FnAssignJob:                {"*": "JOB#*,TECH#*"},
	job.Reschedule.Function:            {"*": "JOB#*,TECH#*"},
	job.Confirm.Function:               {"*": "JOB#*"},
	job.Start.Function:                 {"*": "JOB#*"},
	job.Complete.Function:              {"*": "JOB#*"},
	httpapi.FnCreateJob:                {"*": "JOB#*"},
	httpapi.FnGetJob:                   {"*": "JOB#*"},
	httpapi.FnGetSchedule:              {"*": "TECH#*"},
	interview.ScheduledResume.Function: {"*": "INTERVIEW#*"},
	// live-ticket puts the ticket and counts the caller's tickets of the minute.
	httpapi.FnLiveTicket: {"dynamodb:PutItem": "TICKET#*", "dynamodb:UpdateItem": "TICKETS#*"},
	// $connect spends the ticket it redeems (an update), claims one of the caller's places
	// on their user item and puts the connection; whoever forgets a connection gives its
	// place back. Several prefixes: the statement's LeadingKeys, comma-separated.
	live.FnConnect:    {"dynamodb:PutItem": "CONN#*", "dynamodb:UpdateItem": "TICKET#*,USER#*"},
	live.FnDisconnect: {"dynamodb:DeleteItem": "CONN#*", "dynamodb:UpdateItem": "USER#*"},
	live.FnNotify:     {"dynamodb:DeleteItem": "CONN#*", "dynamodb:UpdateItem": "USER#*"},
}

// confinedTo returns the prefix a statement of fn granting actions must be confined to.
func confinedTo(fn string, actions []string) string {
	if p := leadingKeys[fn]["*"]; p != "" {
		return p
	}
	for _, a := range actions {
		if p := leadingKeys[fn][a]; p != "" {
			return p
		}
	}
	return ""
}

// statements returns a function's policy statements: its inline Policies, or those of
// the IAM role it names.
func statements(tpl *cfntemplate.Template, fn *yaml.Node) []*yaml.Node {
	var docs []*yaml.Node
	if role := get(fn, "Properties", "Role"); role != nil {
		id, _ := cfntemplate.GetAttTarget(role)
		for _, p := range get(tpl.Root, "Resources", id, "Properties", "Policies").Content {
			docs = append(docs, get(p, "PolicyDocument"))
		}
	} else if ps := get(fn, "Properties", "Policies"); ps != nil {
		docs = ps.Content
	}
	var out []*yaml.Node
	for _, d := range docs {
		out = append(out, get(d, "Statement").Content...)
	}
	return out
}

func TestPoliciesAreLeastPrivilege(t *testing.T) {
	tpl := load(t)
	for name, fn := range functions(t, tpl) {
		want, ok := grants[name]
		if !ok {
			t.Errorf("%s: no grants listed in this test", name)
			continue
		}
		id, _ := cfntemplate.GetAttTarget(get(fn, "Properties", "Role"))
		if id == "" {
			t.Errorf("%s has no role of its own (SAM's generated roles carry managed policies on every resource)", name)
			continue
		}
		logical := strings.TrimSuffix(id, "Role")
		want = maps.Clone(want)
		maps.Copy(want, ownGrants(logical))
		got := map[string][]string{}
		for _, st := range statements(tpl, fn) {
			if scalar(get(st, "Effect")) != "Allow" {
				continue
			}
			resources := cfntemplate.Scalars(get(st, "Resource"))
			actions := cfntemplate.Scalars(get(st, "Action"))
			for _, a := range actions {
				if slices.Contains(resources, "*") && unscoped[a] == "" {
					t.Errorf("%s: %s on every resource, but it can be scoped", name, a)
				}
				got[a] = append(got[a], resources...)
			}
			if prefix := confinedTo(name, actions); prefix != "" && strings.HasPrefix(actions[0], "dynamodb:") {
				lk := get(st, "Condition", "ForAllValues:StringLike", "dynamodb:LeadingKeys")
				if lk == nil || strings.Join(cfntemplate.Scalars(lk), ",") != prefix {
					t.Errorf("%s: statement must be confined to partitions %s", name, prefix)
				}
			}
		}
		for action, resources := range got {
			sort.Strings(resources)
			exp := slices.Clone(want[action])
			sort.Strings(exp)
			if !slices.Equal(resources, exp) {
				t.Errorf("%s: %s on %v, want exactly %v", name, action, resources, exp)
			}
		}
		for action := range want {
			if _, ok := got[action]; !ok {
				t.Errorf("%s: %s is not granted, but the code needs it", name, action)
			}
		}
	}
}

func TestEventPlumbing(t *testing.T) {
	tpl := load(t)
	pub := get(tpl.Root, "Resources", "PublishEventsFunction", "Properties", "Events", "TableStream", "Properties")
	if scalar(get(pub, "Stream")) != "!GetAtt Table.StreamArn" {
		t.Error("publish-events must read the table's stream")
	}
	for k, v := range map[string]string{"BisectBatchOnFunctionError": "true", "MaximumRetryAttempts": "10", "MaximumRecordAgeInSeconds": "21600", "BatchSize": "100"} {
		if got := scalar(get(pub, k)); got != v {
			t.Errorf("stream source %s = %q, want %q", k, got, v)
		}
	}
	if !slices.Contains(cfntemplate.Scalars(get(pub, "FunctionResponseTypes")), "ReportBatchItemFailures") {
		t.Error("publish-events must report batch item failures")
	}
	if scalar(get(pub, "DestinationConfig", "OnFailure", "Destination")) != "!GetAtt PublishEventsFailures.Arn" {
		t.Error("records the publisher gives up on must go to PublishEventsFailures")
	}
	if get(tpl.Root, "Resources", "EventArchive", "Properties", "SourceArn") == nil {
		t.Error("the bus needs an archive for replay")
	}
	fns := tpl.Resources("AWS::Serverless::Function")
	for id, rule := range tpl.Resources("AWS::Events::Rule") {
		for _, target := range get(rule, "Properties", "Targets").Content {
			q, _ := cfntemplate.GetAttTarget(get(target, "Arn"))
			if fn, ok := cfntemplate.AliasTarget(get(target, "Arn")); ok {
				q = fn
			}
			if get(target, "DeadLetterConfig", "Arn") == nil {
				t.Errorf("rule %s target %s has no dead-letter queue", id, q)
			}
			if fn := fns[q]; fn != nil {
				// A function target is invoked asynchronously: what fails its retries goes to
				// its own on-failure queue.
				if get(fn, "Properties", "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination") == nil {
					t.Errorf("function %s (target of %s) has no on-failure destination", q, id)
				}
				continue
			}
			if get(tpl.Root, "Resources", q, "Properties", "RedrivePolicy") == nil {
				t.Errorf("queue %s (target of %s) has no dead-letter queue", q, id)
			}
		}
	}
}

// TestOperability: every dead-letter queue, the publisher's lag, DynamoDB throttling and
// the API's 5xx rate have an alarm on the alarm topic; the API is throttled; the publisher
// has reserved concurrency.
func TestOperability(t *testing.T) {
	tpl := load(t)
	alarmed := map[string]bool{}
	for id, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
		p := get(a, "Properties")
		if scalar(get(p, "AlarmDescription")) == "" {
			t.Errorf("alarm %s has no description", id)
		}
		if !slices.Contains(cfntemplate.Scalars(get(p, "AlarmActions")), "!Ref AlarmTopic") {
			t.Errorf("alarm %s does not notify the alarm topic", id)
		}
		alarmed[scalar(get(p, "MetricName"))] = true
		if dims := get(p, "Dimensions"); dims != nil {
			for _, d := range dims.Content {
				alarmed[scalar(get(d, "Value"))] = true
			}
		}
		if ms := get(p, "Metrics"); ms != nil {
			for _, m := range ms.Content {
				alarmed[scalar(get(m, "MetricStat", "Metric", "MetricName"))] = true
			}
		}
	}
	for id := range tpl.Resources("AWS::SQS::Queue") {
		if strings.HasSuffix(id, "DLQ") || id == "PublishEventsFailures" {
			if !alarmed["!GetAtt "+id+".QueueName"] {
				t.Errorf("dead-letter queue %s has no depth alarm", id)
			}
		}
	}
	for _, m := range []string{"IteratorAge", "5xx", "WriteThrottleEvents", "ReadThrottleEvents"} {
		if !alarmed[m] {
			t.Errorf("no alarm on %s", m)
		}
	}
	api := get(tpl.Root, "Resources", "HttpApi", "Properties", "DefaultRouteSettings")
	if get(api, "ThrottlingRateLimit") == nil || get(api, "ThrottlingBurstLimit") == nil {
		t.Error("the HTTP API has no throttling limits")
	}
	if get(tpl.Root, "Resources", "PublishEventsFunction", "Properties", "ReservedConcurrentExecutions") == nil {
		t.Error("publish-events has no reserved concurrency")
	}
}
