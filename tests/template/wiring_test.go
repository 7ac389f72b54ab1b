package template

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
)

// refTarget returns the logical id "!Ref X" or "!GetAtt X.Attr" names.
func refTarget(n *yaml.Node) string {
	s := scalar(n)
	if v, ok := strings.CutPrefix(s, "!Ref "); ok {
		return v
	}
	id, _ := cfntemplate.GetAttTarget(n)
	return id
}

// resourceType returns the type of resource id ("" when there is none).
func resourceType(tpl *cfntemplate.Template, id string) string {
	return scalar(get(tpl.Root, "Resources", id, "Type"))
}

// TestAlarmsCanNotify (issue 13, fault 1): CloudWatch publishes an alarm only to a topic
// whose key lets it. A topic on the AWS managed key (alias/aws/sns) silently drops every
// alarm; a customer managed key must grant cloudwatch.amazonaws.com, for this account only.
func TestAlarmsCanNotify(t *testing.T) {
	tpl := load(t)
	for id, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
		for _, action := range slices.Concat(get(a, "Properties", "AlarmActions").Content, get(a, "Properties", "OKActions").Content) {
			topic := refTarget(action)
			if resourceType(tpl, topic) != "AWS::SNS::Topic" {
				continue
			}
			key := get(tpl.Root, "Resources", topic, "Properties", "KmsMasterKeyId")
			if key == nil {
				continue
			}
			if strings.HasPrefix(scalar(key), "alias/aws/") {
				t.Errorf("alarm %s notifies %s, encrypted with the AWS managed key %s, which CloudWatch cannot use", id, topic, scalar(key))
				continue
			}
			keyID := refTarget(key)
			if resourceType(tpl, keyID) != "AWS::KMS::Key" {
				t.Errorf("%s's key %q is not a key of this template, whose policy can be checked", topic, scalar(key))
				continue
			}
			if !keyAdmitsCloudWatch(get(tpl.Root, "Resources", keyID, "Properties", "KeyPolicy")) {
				t.Errorf("%s's key %s does not let cloudwatch.amazonaws.com (of this account) kms:Decrypt and kms:GenerateDataKey*", topic, keyID)
			}
		}
	}
}

func keyAdmitsCloudWatch(policy *yaml.Node) bool {
	for _, st := range get(policy, "Statement").Content {
		actions := cfntemplate.Scalars(get(st, "Action"))
		if scalar(get(st, "Effect")) == "Allow" && scalar(get(st, "Principal", "Service")) == "cloudwatch.amazonaws.com" &&
			slices.Contains(actions, "kms:Decrypt") && slices.Contains(actions, "kms:GenerateDataKey*") &&
			scalar(get(st, "Condition", "StringEquals", "aws:SourceAccount")) == "!Ref AWS::AccountId" {
			return true
		}
	}
	return false
}

// openapiHeaders returns the request headers the API takes and the response headers it
// sends, as openapi.yaml documents them.
func openapiHeaders(t *testing.T) (request, response []string) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	add := func(list []string, h string) []string {
		if !slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, h) }) {
			list = append(list, h)
		}
		return list
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				if p.Value != nil && p.Value.In == "header" {
					request = add(request, p.Value.Name)
				}
			}
			for _, r := range op.Responses.Map() {
				for h := range r.Value.Headers {
					response = add(response, h)
				}
			}
		}
	}
	return request, response
}

// corsSafelisted are the response headers a browser lets a page read without
// Access-Control-Expose-Headers.
var corsSafelisted = []string{"Cache-Control", "Content-Language", "Content-Length", "Content-Type", "Expires", "Last-Modified", "Pragma"}

// TestBrowsersOnTheConfiguredOriginsCanCallTheAPI (fault 3): the HTTP API answers
// preflights for the origins of a per-environment parameter, admits every request header
// openapi.yaml takes (and Authorization, Content-Type), every method the routes use, and
// lets the page read every response header openapi.yaml documents.
func TestBrowsersOnTheConfiguredOriginsCanCallTheAPI(t *testing.T) {
	tpl := load(t)
	cors := get(tpl.Root, "Resources", "HttpApi", "Properties", "CorsConfiguration")
	if cors == nil {
		t.Fatal("HttpApi has no CorsConfiguration: every preflight gets 404")
	}
	origins := strings.TrimPrefix(scalar(get(cors, "AllowOrigins")), "!Ref ")
	if p := parameters(tpl)[origins]; p == nil || get(p, "Default") != nil {
		t.Errorf("AllowOrigins must come from a parameter without a default (one value per environment), got %q", scalar(get(cors, "AllowOrigins")))
	}
	has := func(list []string, h string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, h) })
	}
	allowHeaders := cfntemplate.Scalars(get(cors, "AllowHeaders"))
	exposeHeaders := cfntemplate.Scalars(get(cors, "ExposeHeaders"))
	request, response := openapiHeaders(t)
	for _, h := range append([]string{"Authorization", "Content-Type"}, request...) {
		if !has(allowHeaders, h) {
			t.Errorf("CORS AllowHeaders lacks %s", h)
		}
	}
	for _, h := range response {
		if !has(exposeHeaders, h) && !has(corsSafelisted, h) {
			t.Errorf("CORS ExposeHeaders lacks %s, which openapi.yaml says responses carry", h)
		}
	}
	methods := cfntemplate.Scalars(get(cors, "AllowMethods"))
	for _, r := range httpapi.Routes() {
		if !slices.Contains(methods, r.Method) {
			t.Errorf("CORS AllowMethods lacks %s (%s)", r.Method, r.Path)
		}
	}
	if slices.Contains(methods, http.MethodOptions) || slices.Contains(methods, "*") {
		t.Errorf("CORS AllowMethods %v: list the routes' methods only", methods)
	}
}

// TestAccessLogsNeverGrowTheAccountPolicy (fault 4): API Gateway appends every access-log
// group outside /aws/vendedlogs/ to the account's CloudWatch Logs resource policy
// (5,120 characters shared by every stack), so access logging can fail to turn on.
func TestAccessLogsNeverGrowTheAccountPolicy(t *testing.T) {
	tpl := load(t)
	var checked int
	for _, typ := range []string{"AWS::Serverless::HttpApi", "AWS::Serverless::Api", "AWS::ApiGatewayV2::Stage", "AWS::ApiGateway::Stage"} {
		for id, api := range tpl.Resources(typ) {
			dest := get(api, "Properties", "AccessLogSettings", "DestinationArn")
			if dest == nil {
				dest = get(api, "Properties", "AccessLogSetting", "DestinationArn")
			}
			if dest == nil && isWebSocketStage(tpl, api) {
				continue // only through the account's CloudWatch role: TestLiveChannel
			}
			if dest == nil {
				t.Errorf("%s has no access log", id)
				continue
			}
			group := refTarget(dest)
			name := scalar(get(tpl.Root, "Resources", group, "Properties", "LogGroupName"))
			if !strings.HasPrefix(strings.TrimPrefix(name, "!Sub "), "/aws/vendedlogs/") {
				t.Errorf("%s logs to %s (%s), outside /aws/vendedlogs/", id, group, name)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no API found")
	}
}

// isWebSocketStage reports whether stage belongs to a WebSocket API, whose access log
// would need the account-wide API Gateway CloudWatch role (TestLiveChannel).
func isWebSocketStage(tpl *cfntemplate.Template, stage *yaml.Node) bool {
	api := refTarget(get(stage, "Properties", "ApiId"))
	return scalar(get(tpl.Root, "Resources", api, "Properties", "ProtocolType")) == "WEBSOCKET"
}

// retainedInProd: kept when a prod stack is deleted or the resource replaced (but not
// when the stack's create fails: DeletionPolicy RetainExceptOnCreate, so the create can be
// retried), deleted with a dev stack.
const (
	retainedInProd         = "!If [IsProd, RetainExceptOnCreate, Delete]"
	replacedKeptInProd     = "!If [IsProd, Retain, Delete]"
	retainedExceptOnCreate = "RetainExceptOnCreate"
)

// flowIf renders "!If [a, b, c]" from its node.
func flow(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.SequenceNode {
		return n.Tag + " [" + strings.Join(cfntemplate.Scalars(n), ", ") + "]"
	}
	return scalar(n)
}

// deadLetterQueues returns every queue that holds what failed: a redrive target, a rule
// target's dead-letter queue, or an event source's or asynchronous invocation's
// on-failure destination.
func deadLetterQueues(tpl *cfntemplate.Template) map[string]bool {
	out := map[string]bool{}
	for _, q := range tpl.Resources("AWS::SQS::Queue") {
		if id := refTarget(get(q, "Properties", "RedrivePolicy", "deadLetterTargetArn")); id != "" {
			out[id] = true
		}
	}
	for _, r := range tpl.Resources("AWS::Events::Rule") {
		for _, target := range get(r, "Properties", "Targets").Content {
			if id := refTarget(get(target, "DeadLetterConfig", "Arn")); id != "" {
				out[id] = true
			}
		}
	}
	for _, fn := range tpl.Resources("AWS::Serverless::Function") {
		if id := refTarget(get(fn, "Properties", "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination")); id != "" {
			out[id] = true
		}
		evs := get(fn, "Properties", "Events")
		if evs == nil {
			continue
		}
		for i := 1; i < len(evs.Content); i += 2 {
			if id := refTarget(get(evs.Content[i], "Properties", "DestinationConfig", "OnFailure", "Destination")); id != "" {
				out[id] = true
			}
		}
	}
	return out
}

// ephemeralTables hold nothing worth keeping, with why: they go with their stack.
var ephemeralTables = map[string]string{
	"LiveTable": "tickets live 30 seconds and connection records at most two hours; a screen reconnects and refetches",
}

// TestWhatFailedIsKeptInProd (fault 7): the queues of failures and dead letters and every
// log group survive the deletion of a prod stack (and a replacement); the tables always,
// but for those that hold only what expires within hours (ephemeralTables).
func TestWhatFailedIsKeptInProd(t *testing.T) {
	tpl := load(t)
	check := func(id string, r *yaml.Node, deletion, replace []string) {
		if got := flow(get(r, "DeletionPolicy")); !slices.Contains(deletion, got) {
			t.Errorf("%s DeletionPolicy = %q, want %v", id, got, deletion)
		}
		if got := flow(get(r, "UpdateReplacePolicy")); !slices.Contains(replace, got) {
			t.Errorf("%s UpdateReplacePolicy = %q, want %v", id, got, replace)
		}
	}
	kept := []string{retainedInProd, retainedExceptOnCreate}
	keptReplaced := []string{replacedKeptInProd, "Retain"}
	for id := range deadLetterQueues(tpl) {
		check(id, get(tpl.Root, "Resources", id), kept, keptReplaced)
	}
	for id, lg := range tpl.Resources("AWS::Logs::LogGroup") {
		check(id, lg, kept, keptReplaced)
	}
	for id, tbl := range tpl.Resources("AWS::DynamoDB::Table") {
		if ephemeralTables[id] != "" {
			check(id, tbl, []string{"Delete"}, []string{"Delete"})
			continue
		}
		check(id, tbl, []string{retainedExceptOnCreate}, []string{"Retain"})
	}
}

// TestRunbookQueuesAreOutputs (fault 7): every queue of failures or dead letters, which
// docs/operations.md sends the operator to, is a stack output the runbook names.
func TestRunbookQueuesAreOutputs(t *testing.T) {
	tpl := load(t)
	outputs := map[string]string{}
	outs := get(tpl.Root, "Outputs")
	for i := 0; i+1 < len(outs.Content); i += 2 {
		v := get(outs.Content[i+1], "Value")
		outputs[scalar(v)] = outs.Content[i].Value
		if strings.Contains(scalar(v), "amazonaws.com") {
			t.Errorf("output %s spells amazonaws.com: use ${AWS::URLSuffix} (it differs in China and other partitions)", outs.Content[i].Value)
		}
	}
	ops := readDoc(t, "docs/operations.md")
	for id := range deadLetterQueues(tpl) {
		name, ok := outputs["!Ref "+id]
		if !ok {
			t.Errorf("queue %s has no output with its URL", id)
			continue
		}
		if cond := scalar(get(tpl.Root, "Resources", id, "Condition")); cond != scalar(get(outs, name, "Condition")) {
			t.Errorf("output %s's condition differs from %s's", name, id)
		}
		if !strings.Contains(ops, name) {
			t.Errorf("docs/operations.md does not name the output %s", name)
		}
	}
}

// TestQueuePoliciesAreOnePerQueue (fault 7): every queue has its own policy, which denies
// any request without TLS and lets EventBridge send only from the rules that target that
// queue (as target or as dead-letter queue), and from no other.
func TestQueuePoliciesAreOnePerQueue(t *testing.T) {
	tpl := load(t)
	senders := map[string][]string{} // queue -> rules that deliver to it
	for rid, r := range tpl.Resources("AWS::Events::Rule") {
		for _, target := range get(r, "Properties", "Targets").Content {
			for _, q := range []string{refTarget(get(target, "Arn")), refTarget(get(target, "DeadLetterConfig", "Arn"))} {
				if q != "" && !slices.Contains(senders[q], rid) {
					senders[q] = append(senders[q], rid)
				}
			}
		}
	}
	policies := map[string][]string{}
	for pid, p := range tpl.Resources("AWS::SQS::QueuePolicy") {
		queues := get(p, "Properties", "Queues").Content
		if len(queues) != 1 {
			t.Errorf("%s applies to %d queues, want one policy per queue", pid, len(queues))
			continue
		}
		q := refTarget(queues[0])
		policies[q] = append(policies[q], pid)
		if scalar(get(p, "Condition")) != scalar(get(tpl.Root, "Resources", q, "Condition")) {
			t.Errorf("%s's condition differs from %s's", pid, q)
		}
		var denies bool
		var allowed []string
		for _, st := range get(p, "Properties", "PolicyDocument", "Statement").Content {
			if refTarget(get(st, "Resource")) != q {
				t.Errorf("%s: a statement on %q, want on %s only", pid, scalar(get(st, "Resource")), q)
			}
			switch scalar(get(st, "Effect")) {
			case "Deny":
				denies = denies || scalar(get(st, "Condition", "Bool", "aws:SecureTransport")) == "false" && scalar(get(st, "Principal")) == "*"
			case "Allow":
				for _, src := range get(st, "Condition", "ArnEquals", "aws:SourceArn").Content {
					if src.Kind == yaml.SequenceNode && src.Tag == "!If" { // a conditional rule
						src = src.Content[1]
					}
					allowed = append(allowed, refTarget(src))
				}
				if scalar(get(st, "Principal", "Service")) != "events.amazonaws.com" || scalar(get(st, "Action")) != "sqs:SendMessage" {
					t.Errorf("%s allows more than EventBridge sending", pid)
				}
			}
		}
		if !denies {
			t.Errorf("%s does not deny requests without TLS (aws:SecureTransport false)", pid)
		}
		slices.Sort(allowed)
		want := slices.Sorted(slices.Values(senders[q]))
		if !slices.Equal(allowed, want) {
			t.Errorf("%s lets %v send, want exactly the rules that deliver to %s: %v", pid, allowed, q, want)
		}
	}
	for q := range tpl.Resources("AWS::SQS::Queue") {
		if len(policies[q]) != 1 {
			t.Errorf("queue %s has %d policies, want one", q, len(policies[q]))
		}
	}
}

// TestEveryWorkQueueHasAnAgeAlarm (fault 7): a queue that holds work (it has a
// dead-letter queue) alarms when its oldest message waits too long: its consumer is behind
// or stopped, long before the dead-letter queue sees anything.
func TestEveryWorkQueueHasAnAgeAlarm(t *testing.T) {
	tpl := load(t)
	aged := map[string]string{}
	for id, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
		p := get(a, "Properties")
		if scalar(get(p, "MetricName")) == "ApproximateAgeOfOldestMessage" {
			aged[refTarget(get(p, "Dimensions").Content[0].Content[3])] = scalar(get(a, "Condition"))
			if !slices.Contains(cfntemplate.Scalars(get(p, "AlarmActions")), "!Ref AlarmTopic") {
				t.Errorf("%s notifies no one", id)
			}
		}
	}
	for id, q := range tpl.Resources("AWS::SQS::Queue") {
		if get(q, "Properties", "RedrivePolicy") == nil {
			continue
		}
		cond, ok := aged[id]
		if !ok {
			t.Errorf("work queue %s has no age-of-oldest-message alarm", id)
		} else if cond != scalar(get(q, "Condition")) {
			t.Errorf("%s's age alarm has condition %q, the queue %q", id, cond, scalar(get(q, "Condition")))
		}
	}
}

// TestExampleQueuesOnlyWhenAsked (fault 7): the example subscriptions (a rule to a queue
// no function of the stack consumes) exist only with CreateExampleQueues, with everything
// that names them.
func TestExampleQueuesOnlyWhenAsked(t *testing.T) {
	tpl := load(t)
	consumed := map[string]bool{}
	for _, fn := range tpl.Resources("AWS::Serverless::Function") {
		if evs := get(fn, "Properties", "Events"); evs != nil {
			for i := 1; i < len(evs.Content); i += 2 {
				consumed[refTarget(get(evs.Content[i], "Properties", "Queue"))] = true
			}
		}
	}
	example := map[string]bool{}
	for rid, r := range tpl.Resources("AWS::Events::Rule") {
		for _, target := range get(r, "Properties", "Targets").Content {
			q := refTarget(get(target, "Arn"))
			if resourceType(tpl, q) == "AWS::SQS::Queue" && !consumed[q] {
				example[rid], example[q] = true, true
				example[refTarget(get(tpl.Root, "Resources", q, "Properties", "RedrivePolicy", "deadLetterTargetArn"))] = true
			}
		}
	}
	if len(example) == 0 {
		t.Fatal("no example subscription found")
	}
	// Everything that names an example resource is conditional too.
	names := func(n *yaml.Node) bool {
		if n == nil {
			return false
		}
		var found bool
		var walk func(*yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode && example[refTarget(n)] {
				found = true
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(n)
		return found
	}
	for _, section := range []string{"Resources", "Outputs"} {
		sec := get(tpl.Root, section)
		for i := 0; i+1 < len(sec.Content); i += 2 {
			id, r := sec.Content[i].Value, sec.Content[i+1]
			if scalar(get(r, "Condition")) == "HasExampleQueues" {
				continue
			}
			switch {
			case example[id]:
				t.Errorf("%s %s is an example subscription, but not conditional on HasExampleQueues", section, id)
			case (names(get(r, "Properties")) || names(get(r, "Value"))) && !strings.Contains(flowAll(r), "HasExampleQueues"):
				t.Errorf("%s %s names the example subscriptions, but not under HasExampleQueues", section, id)
			}
		}
	}
}

// flowAll renders every tag and scalar under n, to look for a condition's name.
func flowAll(n *yaml.Node) string {
	var b strings.Builder
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		b.WriteString(n.Tag + " " + n.Value + " ")
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// TestThrottleAlarmCoversEveryIndex (fault 7): a throttled index throttles the writes to
// its table, so the table's throttle alarm watches reads and writes of the table and of
// each of its global secondary indexes.
func TestThrottleAlarmCoversEveryIndex(t *testing.T) {
	tpl := load(t)
	watched := map[string]bool{} // "Table/index/metric"
	for _, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
		ms := get(a, "Properties", "Metrics")
		if ms == nil {
			continue
		}
		for _, m := range ms.Content {
			metric := get(m, "MetricStat", "Metric")
			if scalar(get(metric, "Namespace")) != "AWS/DynamoDB" {
				continue
			}
			table, index := "", ""
			for _, d := range get(metric, "Dimensions").Content {
				switch scalar(get(d, "Name")) {
				case "TableName":
					table = refTarget(get(d, "Value"))
				case "GlobalSecondaryIndexName":
					index = scalar(get(d, "Value"))
				}
			}
			watched[table+"/"+index+"/"+scalar(get(metric, "MetricName"))] = true
		}
	}
	tbl := get(tpl.Root, "Resources", "Table", "Properties")
	indexes := []string{""}
	for _, g := range get(tbl, "GlobalSecondaryIndexes").Content {
		indexes = append(indexes, scalar(get(g, "IndexName")))
	}
	for _, ix := range indexes {
		for _, m := range []string{"ReadThrottleEvents", "WriteThrottleEvents"} {
			if !watched["Table/"+ix+"/"+m] {
				t.Errorf("no alarm watches %s of Table%s", m, map[bool]string{true: "", false: " index " + ix}[ix == ""])
			}
		}
	}
}
