// Package mechanism holds the recipes of ARCHITECTURE.md to their promise. A
// transition added to interview.Transitions, and nowhere else, is served end to end, and
// every place it still needs is named by a test. The transition is interview.Hold, compiled
// only with the build tag lifecycle_extra_transition (shared/interview/extra_transition.go);
// this test builds and runs the suites with it (issue 24). A function folder added alone
// is named by the tests at each place its recipe lists, and no other
// (TestAFunctionAddedToFunctions, issue 27).
package mechanism

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/tools/repo"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

const tag = "lifecycle_extra_transition"

// stillMissing is each place ARCHITECTURE.md's "Adding a transition" lists beyond the row,
// with the words the test that holds it says when it is missing.
var stillMissing = []struct{ place, said string }{
	{"a main", "its function has no folder functions/hold-interview"},
	{"the template resource and its routes", "hold-interview: template routes [], code routes [POST /api/interviews/{id}/hold POST /interviews/{id}/hold]"},
	{"the OpenAPI operation", "route POST /interviews/{id}/hold is not in openapi.yaml"},
	{"the action in openapi.yaml's allowedActions", "Session.allowedActions lists"},
	{"the action in the live message schema's allowedActions", "schemas/live-message.json's allowedActions lists"},
	{"sample events", "function hold-interview has no sample events"},
}

// TestATransitionAddedToTheDeclaration builds the API with one more row and:
//   - serves it end to end, with nothing else edited (TestTheExtraTransitionIsServed);
//   - runs the tests that hold the rest of the repository to the declaration, which must
//     fail naming each place in stillMissing.
func TestATransitionAddedToTheDeclaration(t *testing.T) {
	prereq.Need(t, prereq.Moto)
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := exec.Command("go", append([]string{"test", "-tags", tag, "-count=1"}, args...)...)
		cmd.Dir = root
		cmd.Env = os.Environ()
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	if out, err := run("-run", "^TestTheExtraTransitionIsServed$", "-v", "./tests/mechanism"); err != nil || !strings.Contains(out, "--- PASS: TestTheExtraTransitionIsServed") {
		t.Fatalf("the added transition is not served end to end (%v):\n%s", err, out)
	}

	out, err := run(
		"-run", "^(TestEveryFunctionFolderHasOneResourceAndBack|TestRoutesMatchTheRouteTable|TestEveryRouteIsDocumented|TestAllowedActionsEnumsAreTheLifecycles|TestSampleEvents)$",
		"./tests/template", "./tests/contract", "./shared/httpapi")
	if err == nil {
		t.Fatalf("with a transition the repository does not yet serve, the tests that hold it passed:\n%s", out)
	}
	for _, m := range stillMissing {
		if !strings.Contains(out, m.said) {
			t.Errorf("no test names %s for the added transition (want a failure saying %q)", m.place, m.said)
		}
	}
	if t.Failed() {
		t.Logf("their output:\n%s", out)
	}
}
