package template

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/samtranslate"
)

// translations caches translated's results by environment: the translator takes seconds.
var (
	translationsMu sync.Mutex
	translations   = map[string]map[string]any{}
)

// translated is template.yaml as SAM's translator turns it into CloudFormation for
// environment env of samconfig.toml. Callers must not modify it.
func translated(t *testing.T, env string) map[string]any {
	t.Helper()
	prereq.Need(t, prereq.Venv)
	translationsMu.Lock()
	defer translationsMu.Unlock()
	if res, ok := translations[env]; ok {
		return res
	}
	for _, e := range environments(t) {
		if e.Name == env {
			out, err := samtranslate.Translate("../../template.yaml", e.Params)
			if err != nil {
				t.Fatal(err)
			}
			translations[env] = out["Resources"].(map[string]any)
			return translations[env]
		}
	}
	t.Fatalf("samconfig.toml has no environment %s", env)
	return nil
}

func props(r any) map[string]any {
	p, _ := r.(map[string]any)["Properties"].(map[string]any)
	return p
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// getAttID returns the logical id of {"Fn::GetAtt": [id, attr]} or {"Ref": id}.
func getAttID(v any) string {
	m, _ := v.(map[string]any)
	if ref, ok := m["Ref"].(string); ok {
		return ref
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		id, _ := ga[0].(string)
		return id
	}
	return ""
}

// TestTranslatedFunctionRolesAreScoped (issue 13, fault 5) checks what SAM deploys, not
// what template.yaml says: SAM's SQS event alone adds AWSLambdaSQSQueueExecutionRole
// (every queue of the account, Resource "*"), and every generated role
// AWSLambdaBasicExecutionRole. So no function's role may carry a managed policy, and no
// statement may grant on "*" but the actions IAM cannot scope (unscoped, with reasons).
func TestTranslatedFunctionRolesAreScoped(t *testing.T) {
	res := translated(t, "prod")
	var fns int
	for id, r := range res {
		if r.(map[string]any)["Type"] != "AWS::Lambda::Function" {
			continue
		}
		fns++
		roleID := getAttID(props(r)["Role"])
		role, ok := res[roleID]
		if !ok || role.(map[string]any)["Type"] != "AWS::IAM::Role" {
			t.Errorf("%s's role %v is not a role of the stack", id, props(r)["Role"])
			continue
		}
		if mp := props(role)["ManagedPolicyArns"]; mp != nil {
			t.Errorf("%s's role %s has managed policies %v", id, roleID, mp)
		}
		for _, p := range asList(props(role)["Policies"]) {
			doc, _ := p.(map[string]any)["PolicyDocument"].(map[string]any)
			for _, st := range asList(doc["Statement"]) {
				st := st.(map[string]any)
				if st["Effect"] != "Allow" || !slices.Contains(asList(st["Resource"]), any("*")) {
					continue
				}
				for _, a := range asList(st["Action"]) {
					if unscoped[a.(string)] == "" {
						t.Errorf("%s's role %s grants %v on every resource", id, roleID, a)
					}
				}
			}
		}
		if tc, _ := props(r)["TracingConfig"].(map[string]any); tc["Mode"] != "Active" {
			t.Errorf("%s is not traced actively", id)
		}
	}
	if fns == 0 {
		t.Fatal("no function in the translated template")
	}
}

// TestDeploymentsRollBackOnTheirAlarms (Go further): every function is published behind
// the alias "live" that its routes and event sources call, and CodeDeploy shifts traffic
// to each new version watching the rollback alarms; prod shifts gradually.
func TestDeploymentsRollBackOnTheirAlarms(t *testing.T) {
	var rollback []string
	for _, a := range cfntemplate.Scalars(get(load(t).Root, "Globals", "Function", "DeploymentPreference", "Alarms")) {
		rollback = append(rollback, strings.TrimPrefix(a, "!Ref "))
	}
	sort.Strings(rollback)
	for _, env := range []string{"dev", "prod"} {
		res := translated(t, env)
		for id, r := range res {
			if r.(map[string]any)["Type"] != "AWS::Lambda::Function" {
				continue
			}
			alias, ok := res[id+"Aliaslive"]
			if !ok {
				t.Errorf("%s: %s has no alias live", env, id)
				continue
			}
			upd, _ := alias.(map[string]any)["UpdatePolicy"].(map[string]any)
			cd, _ := upd["CodeDeployLambdaAliasUpdate"].(map[string]any)
			group := getAttID(cd["DeploymentGroupName"])
			gp := props(res[group])
			if gp == nil {
				t.Errorf("%s: %s's alias is not deployed by CodeDeploy", env, id)
				continue
			}
			var alarms []string
			ac, _ := gp["AlarmConfiguration"].(map[string]any)
			for _, a := range asList(ac["Alarms"]) {
				alarms = append(alarms, getAttID(a.(map[string]any)["Name"]))
			}
			sort.Strings(alarms)
			if len(alarms) == 0 || !slices.Equal(alarms, rollback) || ac["Enabled"] != true {
				t.Errorf("%s: %s's deployment watches %v, want the rollback alarms", env, id, alarms)
			}
			cfg := flowJSON(gp["DeploymentConfigName"])
			if gradual := strings.Contains(cfg, "Canary") || strings.Contains(cfg, "Linear"); gradual != (env == "prod") {
				t.Errorf("%s: %s deploys with %s", env, id, cfg)
			}
		}
		for id, r := range res {
			if r.(map[string]any)["Type"] == "AWS::ApiGatewayV2::Api" && props(r)["ProtocolType"] != "WEBSOCKET" && !strings.Contains(flowJSON(props(r)["Body"]), "Aliaslive") {
				t.Errorf("%s: API %s does not call the functions' live aliases", env, id)
			}
			// A WebSocket API's routes are integrations of their own, and a rule's target
			// and the permissions that let them call are resources of their own.
			typ := r.(map[string]any)["Type"]
			var calls any
			switch typ {
			case "AWS::ApiGatewayV2::Integration":
				calls = props(r)["IntegrationUri"]
			case "AWS::Lambda::Permission":
				calls = props(r)["FunctionName"]
			case "AWS::Events::Rule":
				for _, target := range asList(props(r)["Targets"]) {
					if arn := flowJSON(target.(map[string]any)["Arn"]); strings.Contains(arn, "Function") {
						calls = target.(map[string]any)["Arn"]
					}
				}
			}
			if calls != nil && strings.Contains(flowJSON(calls), "Function") && !strings.Contains(flowJSON(calls), "Aliaslive") {
				t.Errorf("%s: %s %s calls a function, not its alias live: %s", env, typ, id, flowJSON(calls))
			}
		}
		if cycle := dependencyCycle(res); cycle != nil {
			t.Errorf("%s: the translated template has a dependency cycle: %v", env, cycle)
		}
	}
}

// flowJSON renders a translated value, intrinsics included, as text.
func flowJSON(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range x {
					if !yield(k) {
						return
					}
				}
			}) {
				b.WriteString(k + ":")
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
				b.WriteString(",")
			}
		default:
			b.WriteString(strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(toString(x), "\n", " "), "  ", " ")))
		}
	}
	walk(v)
	return b.String()
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

var subRef = regexp.MustCompile(`\$\{([A-Za-z0-9]+)`)

// dependencyCycle returns a cycle of Ref, GetAtt, Sub and DependsOn among res, or nil.
func dependencyCycle(res map[string]any) []string {
	deps := map[string][]string{}
	for id, r := range res {
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if target := getAttID(x); target != "" {
					deps[id] = append(deps[id], target)
				}
				if sub, ok := x["Fn::Sub"]; ok {
					for _, m := range subRef.FindAllStringSubmatch(toString(asList(sub)[0]), -1) {
						deps[id] = append(deps[id], m[1])
					}
				}
				for _, e := range x {
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		rm := r.(map[string]any)
		walk(rm["Properties"])
		walk(rm["UpdatePolicy"])
		for _, d := range asList(rm["DependsOn"]) {
			if s, ok := d.(string); ok {
				deps[id] = append(deps[id], s)
			}
		}
	}
	state := map[string]int{}
	var path []string
	var visit func(string) []string
	visit = func(n string) []string {
		state[n] = 1
		path = append(path, n)
		for _, m := range deps[n] {
			if _, ok := res[m]; !ok {
				continue
			}
			if state[m] == 1 {
				return append(slices.Clone(path), m)
			}
			if state[m] == 0 {
				if c := visit(m); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
		return nil
	}
	for _, id := range cfntemplate.SortedKeys(res) {
		if state[id] == 0 {
			if c := visit(id); c != nil {
				return c
			}
		}
	}
	return nil
}

// TestDeploysUseThisStacksOwnRole (issue 23): SAM's default CodeDeploy role carries the AWS
// managed policy that may update any alias in the account. Every deployment group uses
// DeployRole instead, whose rights are this stack's functions' aliases and its rollback
// alarms, and no role of the stack has a managed policy.
func TestDeploysUseThisStacksOwnRole(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		res := translated(t, env)
		groups := 0
		for id, r := range res {
			switch r.(map[string]any)["Type"] {
			case "AWS::CodeDeploy::DeploymentGroup":
				groups++
				if role := getAttID(props(r)["ServiceRoleArn"]); role != "DeployRole" {
					t.Errorf("%s: deployment group %s runs as %q, want DeployRole", env, id, role)
				}
			case "AWS::IAM::Role":
				if m := props(r)["ManagedPolicyArns"]; m != nil {
					t.Errorf("%s: role %s has managed policies %v", env, id, m)
				}
			}
		}
		if groups == 0 {
			t.Errorf("%s: no deployment group", env)
		}
		doc, _ := props(res["DeployRole"])["Policies"].([]any)
		for _, p := range doc {
			pd, _ := p.(map[string]any)["PolicyDocument"].(map[string]any)
			for _, st := range asList(pd["Statement"]) {
				for _, r := range asList(st.(map[string]any)["Resource"]) {
					if s, _ := r.(string); s == "*" {
						t.Errorf("%s: DeployRole grants %v on every resource", env, st.(map[string]any)["Action"])
					}
				}
			}
		}
	}
}
