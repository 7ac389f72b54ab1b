// Package template holds template.yaml to the code: every function folder has its
// resource and only its routes, the table matches the schema the code creates locally,
// and each function's policy grants only what it uses.
package template

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
)

// node is a YAML node with CloudFormation's short-form tags (!Ref, !GetAtt, …) kept as a
// "tag value" string so tests can compare them.
type node = yaml.Node

func load(t *testing.T) *node {
	t.Helper()
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

func get(n *node, path ...string) *node {
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func scalar(n *node) string {
	if n == nil {
		return ""
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return n.Tag + " " + n.Value
	}
	return n.Value
}

func kebab(s string) string {
	return strings.ToLower(regexp.MustCompile(`([a-z0-9])([A-Z])`).ReplaceAllString(s, "$1-$2"))
}

// functions maps each AWS::Serverless::Function's folder name to its resource.
func functions(t *testing.T, tpl *node) map[string]*node {
	out := map[string]*node{}
	res := get(tpl, "Resources")
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, r := res.Content[i].Value, res.Content[i+1]
		if scalar(get(r, "Type")) != "AWS::Serverless::Function" {
			continue
		}
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
	tpl := load(t)
	fns := functions(t, tpl)
	dirs, _ := filepath.Glob("../../functions/*/main.go")
	var folders []string
	for _, d := range dirs {
		folders = append(folders, filepath.Base(filepath.Dir(d)))
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
	}
}

func TestRoutesMatchTheRouteTable(t *testing.T) {
	tpl := load(t)
	want := map[string][]string{}
	for _, r := range httpapi.Routes() {
		want[r.Function] = append(want[r.Function], r.Pattern())
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
			got[name] = append(got[name], scalar(get(ev, "Properties", "Method"))+" "+scalar(get(ev, "Properties", "Path")))
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
	if scalar(get(tpl, "Resources", "HttpApi", "Properties", "Auth", "DefaultAuthorizer")) != "JwtAuthorizer" ||
		get(tpl, "Resources", "HttpApi", "Properties", "Auth", "Authorizers", "JwtAuthorizer", "JwtConfiguration") == nil {
		t.Error("HttpApi must default to the JWT authorizer")
	}
}

func TestTableMatchesTheCodeSchema(t *testing.T) {
	tpl := load(t)
	tbl := get(tpl, "Resources", "Table", "Properties")
	in := dynamo.CreateTableInput("x")

	var attrs []string
	for _, a := range get(tbl, "AttributeDefinitions").Content {
		attrs = append(attrs, scalar(get(a, "AttributeName"))+":"+scalar(get(a, "AttributeType")))
	}
	var wantAttrs []string
	for _, a := range in.AttributeDefinitions {
		wantAttrs = append(wantAttrs, *a.AttributeName+":"+string(a.AttributeType))
	}
	sort.Strings(attrs)
	sort.Strings(wantAttrs)
	if !slices.Equal(attrs, wantAttrs) {
		t.Errorf("attributes: template %v, code %v", attrs, wantAttrs)
	}

	keys := func(n *node) string {
		var ks []string
		for _, k := range n.Content {
			ks = append(ks, scalar(get(k, "AttributeName"))+":"+scalar(get(k, "KeyType")))
		}
		return strings.Join(ks, ",")
	}
	if got, want := keys(get(tbl, "KeySchema")), "pk:HASH,sk:RANGE"; got != want {
		t.Errorf("key schema %s, want %s", got, want)
	}
	gsis := map[string]string{}
	for _, g := range get(tbl, "GlobalSecondaryIndexes").Content {
		gsis[scalar(get(g, "IndexName"))] = keys(get(g, "KeySchema")) + "/" + scalar(get(g, "Projection", "ProjectionType"))
	}
	for _, g := range in.GlobalSecondaryIndexes {
		var ks []string
		for _, k := range g.KeySchema {
			ks = append(ks, *k.AttributeName+":"+string(k.KeyType))
		}
		want := strings.Join(ks, ",") + "/" + string(g.Projection.ProjectionType)
		if gsis[*g.IndexName] != want {
			t.Errorf("index %s: template %q, code %q", *g.IndexName, gsis[*g.IndexName], want)
		}
		delete(gsis, *g.IndexName)
	}
	if len(gsis) > 0 {
		t.Errorf("template indexes the code does not create: %v", gsis)
	}
	if scalar(get(tbl, "StreamSpecification", "StreamViewType")) != "NEW_AND_OLD_IMAGES" {
		t.Error("the table stream must carry NEW_AND_OLD_IMAGES")
	}
	if scalar(get(tbl, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")) != "true" {
		t.Error("point-in-time recovery must be on")
	}
	if scalar(get(tbl, "BillingMode")) != "PAY_PER_REQUEST" {
		t.Error("the table must be on-demand")
	}
}

// allowedActions is the least privilege of each function: the DynamoDB actions its code
// performs, and nothing else.
var allowedActions = map[string][]string{
	httpapi.FnCancelInterview: {"dynamodb:UpdateItem"},
	httpapi.FnPauseInterview:  {"dynamodb:UpdateItem"},
	httpapi.FnResumeInterview: {"dynamodb:UpdateItem"},
	httpapi.FnGetInterview:    {"dynamodb:GetItem"},
	httpapi.FnListInterviews:  {"dynamodb:Query"},
	httpapi.FnCancelJob:       {"dynamodb:Query", "dynamodb:UpdateItem"},
	httpapi.FnGetJob:          {"dynamodb:Query"},
}

// leadingKeys is the partition-key prefix each item-level function is confined to with a
// dynamodb:LeadingKeys condition ("" for index queries, keyed by owner).
var leadingKeys = map[string]string{
	httpapi.FnCancelInterview: "INTERVIEW#*",
	httpapi.FnPauseInterview:  "INTERVIEW#*",
	httpapi.FnResumeInterview: "INTERVIEW#*",
	httpapi.FnGetInterview:    "INTERVIEW#*",
	httpapi.FnListInterviews:  "",
	httpapi.FnCancelJob:       "JOB#*",
	httpapi.FnGetJob:          "JOB#*",
}

func TestPoliciesAreLeastPrivilege(t *testing.T) {
	tpl := load(t)
	for name, r := range functions(t, tpl) {
		want, ok := allowedActions[name]
		if !ok {
			t.Errorf("%s: no expected actions listed in this test", name)
			continue
		}
		var actions []string
		for _, p := range get(r, "Properties", "Policies").Content {
			for _, st := range get(p, "Statement").Content {
				if scalar(get(st, "Effect")) != "Allow" {
					continue
				}
				acts := get(st, "Action")
				if acts.Kind == yaml.ScalarNode {
					actions = append(actions, acts.Value)
				} else {
					for _, a := range acts.Content {
						actions = append(actions, a.Value)
					}
				}
				res := get(st, "Resource")
				var resources []string
				if res.Kind == yaml.SequenceNode {
					for _, x := range res.Content {
						resources = append(resources, scalar(x))
					}
				} else {
					resources = append(resources, scalar(res))
				}
				if prefix := leadingKeys[name]; prefix != "" {
					lk := get(st, "Condition", "ForAllValues:StringLike", "dynamodb:LeadingKeys")
					if lk == nil || len(lk.Content) != 1 || lk.Content[0].Value != prefix {
						t.Errorf("%s: statement must be confined to partitions %s", name, prefix)
					}
				}
				for _, x := range resources {
					if strings.Contains(x, "*") && !strings.HasPrefix(x, "!") {
						t.Errorf("%s: wildcard resource %q", name, x)
					}
					if !strings.Contains(x, "Table") {
						t.Errorf("%s: resource %q is not the table", name, x)
					}
				}
			}
		}
		sort.Strings(actions)
		sort.Strings(want)
		if !slices.Equal(actions, want) {
			t.Errorf("%s: policy allows %v, want exactly %v", name, actions, want)
		}
	}
}
