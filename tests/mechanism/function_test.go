package mechanism

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// probe is the function the test adds: a copy of a sibling's main under a new name.
const probe = "probe-fn"

// functionPlaces is each place ARCHITECTURE.md's "Adding an HTTP function that is no
// transition" names beyond the main, held by a test that runs on a bare new folder, with
// the test and the words it says when the place is missing. (The route, the handler and
// openapi.yaml are the transition's recipe's, which TestATransitionAddedToTheDeclaration
// holds.)
var functionPlaces = []struct{ place, test, said string }{
	{"the template resource", "TestEveryFunctionFolderHasOneResourceAndBack", "functions/" + probe + " has no resource in template.yaml"},
	{"sample events", "TestEveryFunctionFolderHasOneResourceAndBack", "functions/" + probe + " has no sample events in events/" + probe},
	{"sample events, named by what they show", "TestSampleEventsAreNamedByWhatTheyShow", "functions/" + probe + " has no sample event in events/" + probe + "/"},
	{"make bench's cold-start events", "TestEveryFunctionHasColdStartEvents", "functions/" + probe + " has no cold-start events in coldStartEvents"},
	{"make bench's units coverage", "TestBenchAccountsForEveryFunction", "without a line in unitsCoverage (coverage.go: say whether make bench measures their units, or why not): [" + probe + "]"},
	{"make reliability's coverage", "TestTheRunAccountsForEveryFunction", "without a line in coverage (coverage.go: say what make reliability does with each, or why it leaves it out): [" + probe + "]"},
}

// TestAFunctionAddedToFunctions copies the repository (its tracked files), adds one
// function folder with nothing else, and runs the tests that hold functions/ to the rest of
// the repository: they must fail naming each place the recipe lists, and no other test of
// theirs may fail, so the recipe names every place and only those.
func TestAFunctionAddedToFunctions(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	files, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	cp := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // listed but gone from the working tree (a deletion not yet committed)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(cp, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cp, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	main, err := os.ReadFile(filepath.Join(root, "functions", "get-job", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cp, "functions", probe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cp, "functions", probe, "main.go"), main, 0o644); err != nil {
		t.Fatal(err)
	}

	// The tests that read functions/ (each in the suite that holds its place), and the
	// code map's.
	suite := []string{
		"TestEveryFunctionFolderHasOneResourceAndBack", "TestRollbackAlarmsWatchEveryFunction",
		"TestCodeMapMatchesTheTree", "TestSampleEventsAreNamedByWhatTheyShow", "TestFunctionsLinkOnlyTheClientsTheyCall",
		"TestEveryFunctionHasColdStartEvents", "TestBenchAccountsForEveryFunction", "TestTheRunAccountsForEveryFunction",
	}
	cmd := exec.Command("go", "test", "-count=1", "-run", "^("+strings.Join(suite, "|")+")$",
		"./tests/template", "./tests/architecture", "./tools/measure/perf", "./tools/measure/robustness")
	cmd.Dir = cp
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("with a function folder nothing else knows, the tests that hold functions/ passed:\n%s", out)
	}
	var expected []string
	for _, p := range functionPlaces {
		expected = append(expected, p.test)
		if !bytes.Contains(out, []byte(p.said)) {
			t.Errorf("no test names %s for the added function (want %s to say %q)", p.place, p.test, p.said)
		}
	}
	for _, m := range regexp.MustCompile(`--- FAIL: (\w+)`).FindAllSubmatch(out, -1) {
		if name := string(m[1]); !slices.Contains(expected, name) {
			t.Errorf("%s failed for the added function, a place the recipe does not name", name)
		}
	}
	if t.Failed() {
		t.Logf("their output:\n%s", out)
	}
}
