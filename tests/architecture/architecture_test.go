// Package architecture holds the repository to ARCHITECTURE.md: its code map lists every
// Go package folder and nothing that does not exist, and the dependency rules it states hold.
package architecture

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

const module = "github.com/lifecycle-api/lifecycle"

// mapEntry matches a code map row: | `folder/` | what it is |
var mapEntry = regexp.MustCompile("^\\| `([a-z0-9_./<>-]+/)` \\|")

// codeMap returns the folders ARCHITECTURE.md's code map lists ("functions/<name>/" stands
// for every folder in functions/).
func codeMap(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := mapEntry.FindStringSubmatch(sc.Text()); m != nil {
			out = append(out, strings.TrimSuffix(m[1], "/"))
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d code map rows in ARCHITECTURE.md; has its table format changed?", len(out))
	}
	return out
}

// goPackageDirs returns every folder of the repository holding Go files, relative to the root.
func goPackageDirs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir("../..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../..", p)
		if d.IsDir() {
			switch {
			case rel != "." && strings.HasPrefix(d.Name(), "."), d.Name() == "node_modules", d.Name() == "testdata",
				rel == "bin", rel == "test-output":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") {
			seen[filepath.ToSlash(filepath.Dir(rel))] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for d := range seen {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// covers reports whether the map entry e names folder dir ("<name>" matches one segment).
func covers(e, dir string) bool {
	es, ds := strings.Split(e, "/"), strings.Split(dir, "/")
	if len(es) != len(ds) {
		return false
	}
	for i := range es {
		if es[i] != ds[i] && !(strings.HasPrefix(es[i], "<") && strings.HasSuffix(es[i], ">")) {
			return false
		}
	}
	return true
}

func TestCodeMapMatchesTheTree(t *testing.T) {
	entries := codeMap(t)
	for _, e := range entries {
		pattern := regexp.MustCompile(`<[^/]+>`).ReplaceAllString(e, "*")
		matches, _ := filepath.Glob(filepath.Join("../..", pattern))
		if len(matches) == 0 {
			t.Errorf("ARCHITECTURE.md lists %s/, which does not exist", e)
		}
	}
	for _, d := range goPackageDirs(t) {
		if !slices.ContainsFunc(entries, func(e string) bool { return covers(e, d) }) {
			t.Errorf("Go package folder %s/ is missing from ARCHITECTURE.md's code map", d)
		}
	}
}

// deps lists each package matching patterns with its transitive dependencies.
func deps(t *testing.T, patterns ...string) map[string][]string {
	t.Helper()
	args := append([]string{"list", "-f", `{{.ImportPath}} {{join .Deps " "}}`}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	res := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		res[f[0]] = f[1:]
	}
	return res
}

// domain is the centre of the design: the rules, with no AWS and no adapter under them.
var domain = []string{"shared/lifecycle", "shared/interview", "shared/job", "shared/event", "shared/live"}

func TestDomainImportsNoAWS(t *testing.T) {
	var patterns []string
	for _, d := range domain {
		patterns = append(patterns, "./"+d)
	}
	for pkg, ds := range deps(t, patterns...) {
		for _, d := range ds {
			if strings.HasPrefix(d, "github.com/aws/") {
				t.Errorf("%s depends on %s: the domain must not know AWS", pkg, d)
			}
			if rel, ok := strings.CutPrefix(d, module+"/"); ok && !slices.Contains(domain, rel) {
				t.Errorf("%s depends on %s: the domain must not depend on an adapter", pkg, d)
			}
		}
	}
}

func TestDependencyDirection(t *testing.T) {
	for pkg, ds := range deps(t, "./shared/...", "./functions/...") {
		for _, d := range ds {
			rel, ok := strings.CutPrefix(d, module+"/")
			if !ok {
				continue
			}
			if !strings.HasPrefix(rel, "shared/") {
				t.Errorf("%s depends on %s: deployed code may use only shared/ (never tools/, tests/ or another function)", pkg, d)
			}
		}
	}
}

// serviceClients is the SDK service clients each function may link: only those it calls,
// since every extra client adds to the binary and to each cold start's package init.
var serviceClients = map[string][]string{
	"publish-events":  {"eventbridge"},
	"audit-log":       {"dynamodb"},
	"live-notify":     {"apigatewaymanagementapi", "dynamodb"},
	"live-connect":    {"dynamodb"},
	"live-disconnect": {"dynamodb"},
	"live-default":    {},
	"plan-resume":     {"scheduler"},
	"*":               {"dynamodb"}, // the HTTP functions
}

func TestFunctionsLinkOnlyTheClientsTheyCall(t *testing.T) {
	for pkg, ds := range deps(t, "./functions/...") {
		fn := pkg[strings.LastIndex(pkg, "/")+1:]
		want, ok := serviceClients[fn]
		if !ok {
			want = serviceClients["*"]
		}
		var got []string
		for _, d := range ds {
			if svc, ok := strings.CutPrefix(d, "github.com/aws/aws-sdk-go-v2/service/"); ok && !strings.Contains(svc, "/") {
				got = append(got, svc)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("functions/%s links the SDK clients %v, want %v", fn, got, want)
		}
	}
}

// statusOrOutcome: a sample event's name starts with the HTTP status its function answers
// (HTTP and WebSocket routes), or with a word for what the function does with it (the
// stream's, the bus's, the queue's and the scheduler's functions); then its case.
var (
	statusSample  = regexp.MustCompile(`^[1-5][0-9][0-9]-[a-z0-9]+(-[a-z0-9]+)*\.json$`)
	outcomeSample = regexp.MustCompile(`^(published|ignored|recorded|partial|sent|planned|skipped|resumed|stale)-[a-z0-9]+(-[a-z0-9]+)*\.json$`)
)

// TestSampleEventsAreNamedByWhatTheyShow holds the code map's naming of events/: every
// function has sample events, and each is named `<status>-<case>.json` when the function
// answers an HTTP status, `<outcome>-<case>.json` otherwise.
func TestSampleEventsAreNamedByWhatTheyShow(t *testing.T) {
	fns, err := repo.Functions()
	if err != nil {
		t.Fatal(err)
	}
	answersStatus := map[string]bool{live.FnConnect: true, live.FnDisconnect: true, live.FnDefault: true}
	for _, r := range httpapi.Routes() {
		answersStatus[r.Function] = true
	}
	dirs, _ := filepath.Glob("../../events/*")
	for _, d := range dirs {
		if !slices.Contains(fns, filepath.Base(d)) {
			t.Errorf("events/%s/ names no function of functions/", filepath.Base(d))
		}
	}
	for _, fn := range fns {
		files, _ := filepath.Glob(filepath.Join("../../events", fn, "*.json"))
		if len(files) == 0 {
			t.Errorf("functions/%s has no sample event in events/%s/", fn, fn)
		}
		want, form := outcomeSample, "<outcome>-<case>.json (an outcome of "+outcomeSample.String()+")"
		if answersStatus[fn] {
			want, form = statusSample, "<status>-<case>.json"
		}
		for _, f := range files {
			if !want.MatchString(filepath.Base(f)) {
				t.Errorf("events/%s/%s: want %s", fn, filepath.Base(f), form)
			}
		}
	}
}
