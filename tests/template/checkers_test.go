package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lifecycle-api/lifecycle/tools/repo"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// suppression is one accepted finding of suppressions.yaml.
type suppression struct {
	Tool      string   `yaml:"tool"`
	Rule      string   `yaml:"rule"`
	Resources []string `yaml:"resources"`
	Reason    string   `yaml:"reason"`
}

// finding is one checker's report on one resource.
type finding struct{ tool, rule, resource, message string }

func (f finding) String() string {
	return fmt.Sprintf("%s %s on %s: %s", f.tool, f.rule, f.resource, f.message)
}

// cfnLintFindings runs cfn-lint with the serverless rules on template.yaml.
func cfnLintFindings(t *testing.T) []finding {
	bin, err := repo.Path(".tools", "venv", "bin", "cfn-lint")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--format", "json", "--append-rules", "cfn_lint_serverless.rules", "--", "../../template.yaml")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // non-zero when it finds anything; the JSON says what
	var out []struct {
		Rule     struct{ Id string }
		Location struct{ Path []any }
		Message  string
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("cfn-lint: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	var fs []finding
	for _, f := range out {
		res := ""
		if len(f.Location.Path) > 1 && f.Location.Path[0] == "Resources" {
			res, _ = f.Location.Path[1].(string)
		}
		fs = append(fs, finding{"cfn-lint", f.Rule.Id, res, f.Message})
	}
	return fs
}

// checkovFindings runs checkov (offline) on template.yaml.
func checkovFindings(t *testing.T) []finding {
	bin, err := repo.Path(".tools", "checkov", "bin", "checkov")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--file", "../../template.yaml", "--framework", "cloudformation", "--output", "json", "--quiet", "--compact", "--skip-download")
	cmd.Env = append(os.Environ(), "BC_SKIP_MAPPING=TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // exit 1 when a check fails; the JSON says which
	var out struct {
		Results struct {
			FailedChecks []struct {
				CheckID   string `json:"check_id"`
				CheckName string `json:"check_name"`
				Resource  string `json:"resource"`
			} `json:"failed_checks"`
		} `json:"results"`
		Summary struct {
			Passed        int `json:"passed"`
			ParsingErrors int `json:"parsing_errors"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("checkov: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if out.Summary.ParsingErrors > 0 || out.Summary.Passed == 0 {
		t.Fatalf("checkov could not read template.yaml: %+v\n%s", out.Summary, stderr.String())
	}
	var fs []finding
	for _, f := range out.Results.FailedChecks {
		_, id, _ := strings.Cut(f.Resource, ".") // "AWS::SQS::Queue.AuditQueue"
		fs = append(fs, finding{"checkov", f.CheckID, id, f.CheckName})
	}
	return fs
}

// TestIaCCheckers runs the field's checkers on the template, cfn-lint with awslabs'
// serverless rules and checkov, so any resource added tomorrow is judged the same way:
// every finding is either fixed or accepted in suppressions.yaml with its reason.
func TestIaCCheckers(t *testing.T) {
	prereq.Need(t, prereq.Venv, prereq.Checkov)
	raw, err := os.ReadFile("suppressions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var sups []suppression
	if err := yaml.Unmarshal(raw, &sups); err != nil {
		t.Fatal(err)
	}
	used := make([]bool, len(sups))
	for i, s := range sups {
		if s.Tool == "" || s.Rule == "" || len(s.Resources) == 0 || len(strings.Fields(s.Reason)) < 8 {
			t.Errorf("suppression %d (%s %s) needs a tool, a rule, resources and a reason", i, s.Tool, s.Rule)
		}
	}
	findings := slices.Concat(cfnLintFindings(t), checkovFindings(t))
	for _, f := range findings {
		accepted := false
		for i, s := range sups {
			if s.Tool != f.tool || s.Rule != f.rule {
				continue
			}
			for _, pat := range s.Resources {
				if ok, _ := path.Match(pat, f.resource); ok {
					accepted, used[i] = true, true
				}
			}
		}
		if !accepted {
			t.Errorf("%v (fix it, or accept it in tests/template/suppressions.yaml with the reason)", f)
		}
	}
	for i, s := range sups {
		if !used[i] {
			t.Errorf("suppression %s %s %v matches no finding any more: remove it", s.Tool, s.Rule, s.Resources)
		}
	}
}
