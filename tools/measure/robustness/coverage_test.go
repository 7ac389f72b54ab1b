package robustness

import (
	"testing"

	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// TestTheRunAccountsForEveryFunction: every function of functions/ has its line in
// coverage (what the reliability run does with it, or why it leaves it out), and
// coverage names no function that is not there. The run's sandboxes are the functions
// it gives a role.
func TestTheRunAccountsForEveryFunction(t *testing.T) {
	missing, unknown, err := repo.Unaccounted(coverage)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing)+len(unknown) > 0 {
		t.Errorf("functions without a line in coverage (coverage.go: say what make reliability does with each, or why it leaves it out): %v; lines naming no function of functions/: %v", missing, unknown)
	}
	for _, role := range []string{byLoad, byScheduler, onStream} {
		if len(functionsFor(role)) == 0 {
			t.Errorf("no function %s", role)
		}
	}
}
