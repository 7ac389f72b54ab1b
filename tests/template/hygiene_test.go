package template

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// secretPatterns are shapes of credentials that must never be committed.
var secretPatterns = map[string]*regexp.Regexp{
	"AWS access key id":  regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`),
	"AWS secret key":     regexp.MustCompile(`(?i)aws_?secret_?access_?key["'\s:=]+[A-Za-z0-9/+]{40}\b`),
	"private key":        regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
	"GitHub token":       regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36}\b`),
	"Slack token":        regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`),
	"generic secret":     regexp.MustCompile(`(?i)(client_secret|api_key|password)["'\s]*[:=]\s*["'][^"'\s]{12,}["']`),
	"hex signing key":    regexp.MustCompile(`(?i)signing[_-]?key["'\s:=]+[0-9a-f]{64}`),
	"JWT with signature": regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}`),
}

// skipped folders hold fetched tools, build output and local state, all ignored by git.
var skipped = map[string]bool{".git": true, ".tools": true, ".local": true, "node_modules": true, "bin": true, ".aws-sam": true, "test-output": true}

func TestNoSecretsInTheRepository(t *testing.T) {
	root := "../.."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipped[d.Name()] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // a symlink to a shared tools folder
		}
		if d.IsDir() {
			return nil
		}
		if d.Name() == "dev-signing-key" {
			t.Errorf("%s: a signing key file in the tree", path)
		}
		info, err := d.Info()
		if err != nil || info.Size() > 2<<20 {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for name, re := range secretPatterns {
			if loc := re.FindIndex(b); loc != nil {
				t.Errorf("%s: looks like a %s: %q", path, name, b[loc[0]:min(loc[1], loc[0]+40)])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/.local/", "/.tools/"} {
		if !strings.Contains(string(ignore), p) {
			t.Errorf(".gitignore must ignore %s (the dev signing key and fetched tools live there)", p)
		}
	}
}

// TestDevSigningOnlyInLocalTools: the HS256 dev tokens exist only in tools/; no deployed
// function links the JWT library or any local tool.
func TestDevSigningOnlyInLocalTools(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../functions/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "golang-jwt") || strings.Contains(dep, "/lifecycle/tools/") {
			t.Errorf("a deployed function depends on %s", dep)
		}
	}
	tpl, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(tpl), "HS256") || strings.Contains(strings.ToLower(string(tpl)), "signing") {
		t.Error("template.yaml mentions a signing key; AWS verifies tokens with the JWT authorizer only")
	}
}

// TestNoInitTimeSchemaTables guards the cold start: service/dynamodb v1.69 and
// service/eventbridge v1.49 and later build a table of their schemas when the process
// starts (0.9 ms and 590 KB, and 0.5 ms and 340 KB, per cold start, measured by make
// bench). Both are pinned below; upgrading is a decision to take with make bench in hand
// (docs/performance.md), not by accident.
func TestNoInitTimeSchemaTables(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../functions/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasSuffix(dep, "/schemas") && strings.Contains(dep, "/aws-sdk-go-v2/service/") {
			t.Errorf("a function links %s, whose init slows every cold start; see docs/performance.md", dep)
		}
	}
}

// TestNoBuildOutputInTheRepository: a `go build` run in the wrong folder leaves a binary
// beside the sources, and `git add -A` would commit it. Nothing git tracks is an executable
// binary or larger than 1 MiB (build output belongs in bin/, fetched tools in .tools/).
func TestNoBuildOutputInTheRepository(t *testing.T) {
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	switch {
	case err != nil && prereq.Required():
		t.Fatalf("make test and CI run in a git checkout: %v", err)
	case err != nil:
		t.Skipf("not a git checkout: %v", err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		path := filepath.Join("../..", f)
		info, err := os.Stat(path)
		if err != nil {
			continue // deleted in the working tree, not yet committed
		}
		if info.Size() > 1<<20 {
			t.Errorf("%s is %d bytes: build output or data does not belong in the repository", f, info.Size())
			continue
		}
		head := make([]byte, 4)
		if fh, err := os.Open(path); err == nil {
			_, _ = fh.Read(head)
			fh.Close()
		}
		if string(head) == "\x7fELF" {
			t.Errorf("%s is an executable: build output does not belong in the repository", f)
		}
	}
}
