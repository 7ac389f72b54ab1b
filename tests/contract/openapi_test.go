// Package contract holds openapi.yaml to the code: every route of the route table is
// documented under its servers, with every status its sample events produce.
package contract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
)

type operation struct {
	Responses map[string]any        `yaml:"responses"`
	Security  []map[string][]string `yaml:"security"`
}

type pathItem struct {
	Servers []struct {
		URL string `yaml:"url"`
	} `yaml:"servers"`
	Get  *operation `yaml:"get"`
	Post *operation `yaml:"post"`
}

type document struct {
	OpenAPI string `yaml:"openapi"`
	Servers []struct {
		URL string `yaml:"url"`
	} `yaml:"servers"`
	Paths      map[string]pathItem `yaml:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]struct {
				Items struct {
					Enum []string `yaml:"enum"`
				} `yaml:"items"`
			} `yaml:"properties"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

func load(t *testing.T) document {
	t.Helper()
	raw, err := os.ReadFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var d document
	if err := yaml.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// documented maps every full route path the document serves ("POST /api/jobs/{id}/cancel")
// to its operation.
func documented(d document) map[string]*operation {
	out := map[string]*operation{}
	for p, item := range d.Paths {
		servers := d.Servers
		if len(item.Servers) > 0 {
			servers = item.Servers
		}
		for _, s := range servers {
			full := strings.TrimSuffix(s.URL, "/") + p
			if item.Get != nil {
				out["GET "+full] = item.Get
			}
			if item.Post != nil {
				out["POST "+full] = item.Post
			}
		}
	}
	return out
}

func TestEveryRouteIsDocumented(t *testing.T) {
	d := load(t)
	if !strings.HasPrefix(d.OpenAPI, "3.1") {
		t.Fatalf("openapi = %q, want 3.1.x", d.OpenAPI)
	}
	ops := documented(d)
	routes := map[string]bool{}
	for _, r := range httpapi.Routes() {
		routes[r.Pattern()] = true
		if ops[r.Pattern()] == nil {
			t.Errorf("route %s is not in openapi.yaml", r.Pattern())
		}
	}
	for op := range ops {
		if !routes[op] {
			t.Errorf("openapi.yaml documents %s, which no function serves", op)
		}
	}
}

func TestEverySampleEventStatusIsDocumented(t *testing.T) {
	ops := documented(load(t))
	for _, r := range httpapi.Routes() {
		op := ops[r.Pattern()]
		if op == nil {
			continue // reported above
		}
		files, _ := filepath.Glob("../../events/" + r.Function + "/*.json")
		for _, f := range files {
			status := strings.SplitN(filepath.Base(f), "-", 2)[0]
			if _, ok := op.Responses[status]; !ok {
				t.Errorf("%s: events/%s/%s answers %s, which openapi.yaml does not list", r.Pattern(), r.Function, filepath.Base(f), status)
			}
		}
		for _, status := range []string{"401", "500", "503"} {
			if _, ok := op.Responses[status]; !ok {
				t.Errorf("%s does not document %s", r.Pattern(), status)
			}
		}
	}
}

// TestEveryTemplateRouteIsDocumented: each HttpApi route a template function declares is
// in openapi.yaml, and every function with routes has at least one documented operation.
func TestEveryTemplateRouteIsDocumented(t *testing.T) {
	tpl, err := cfntemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ops := documented(load(t))
	for id, fn := range tpl.Resources("AWS::Serverless::Function") {
		evs := cfntemplate.Get(fn, "Properties", "Events")
		if evs == nil {
			continue
		}
		for i := 0; i+1 < len(evs.Content); i += 2 {
			ev := evs.Content[i+1]
			if cfntemplate.Scalar(cfntemplate.Get(ev, "Type")) != "HttpApi" {
				continue
			}
			route := cfntemplate.Scalar(cfntemplate.Get(ev, "Properties", "Method")) + " " + cfntemplate.Scalar(cfntemplate.Get(ev, "Properties", "Path"))
			if ops[route] == nil {
				t.Errorf("%s serves %s, which openapi.yaml does not document", id, route)
			}
		}
	}
}

// TestEveryScopedRouteIsDocumentedWithItsScope: a route the gateway asks a scope for
// (httpapi.Route.Scopes) documents exactly that scope as its only way in; every other
// operation takes the document's users' tokens.
func TestEveryScopedRouteIsDocumentedWithItsScope(t *testing.T) {
	ops := documented(load(t))
	for _, r := range httpapi.Routes() {
		op := ops[r.Pattern()]
		if op == nil {
			continue // reported above
		}
		if len(r.Scopes) == 0 {
			users := func(req map[string][]string) bool { _, ok := req["bearerAuth"]; return ok }
			if len(op.Security) > 0 && !slices.ContainsFunc(op.Security, users) {
				t.Errorf("%s: openapi.yaml asks for %v, but the gateway asks for no scope", r.Pattern(), op.Security)
			}
			continue
		}
		if len(op.Security) != 1 || !slices.Equal(op.Security[0]["serviceAuth"], r.Scopes) {
			t.Errorf("%s: openapi.yaml's security is %v, want exactly serviceAuth %v (the route's scopes)", r.Pattern(), op.Security, r.Scopes)
		}
	}
}

// TestAllowedActionsEnumsAreTheLifecycles: the actions openapi.yaml and the live message
// schema list for allowedActions are exactly the lifecycles' (shared/interview, shared/job)
// that a route serves (a scheduled resume is the timer's, which no caller is offered).
func TestAllowedActionsEnumsAreTheLifecycles(t *testing.T) {
	d := load(t)
	sessions := []string{}
	for _, tr := range interview.Transitions {
		if len(tr.Paths) > 0 {
			sessions = append(sessions, tr.Action)
		}
	}
	jobs := []string{}
	for _, tr := range job.Transitions {
		jobs = append(jobs, tr.Action)
	}
	for _, c := range []struct {
		schema string
		want   []string
	}{{"Session", sessions}, {"SessionSummary", sessions}, {"Job", jobs}} {
		sc, ok := d.Components.Schemas[c.schema]
		if !ok {
			t.Errorf("openapi.yaml has no schema %s", c.schema)
			continue
		}
		if got := sc.Properties["allowedActions"].Items.Enum; !sameSet(got, c.want) {
			t.Errorf("%s.allowedActions lists %v; the lifecycle's actions are %v", c.schema, got, c.want)
		}
	}
	raw, err := os.ReadFile("../../schemas/live-message.json")
	if err != nil {
		t.Fatal(err)
	}
	var live struct {
		Properties struct {
			AllowedActions struct {
				Items struct {
					Enum []string `json:"enum"`
				} `json:"items"`
			} `json:"allowedActions"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &live); err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(sessions), jobs...)
	if got := live.Properties.AllowedActions.Items.Enum; !sameSet(got, all) {
		t.Errorf("schemas/live-message.json's allowedActions lists %v; the lifecycles' actions are %v", got, all)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
