package robustness

import (
	"slices"
	"testing"

	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// TestTheRunAccountsForEveryFunction: every function of functions/ has its line in
// coverage (what the reliability run does with it, or why it leaves it out), and
// coverage names no function that is not there. The run's sandboxes are the functions
// it gives a role.
func TestTheRunAccountsForEveryFunction(t *testing.T) {
	fns, err := repo.Functions()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		if coverage[fn] == "" {
			t.Errorf("functions/%s: no line in coverage (coverage.go): say what make reliability does with it, or why it leaves it out", fn)
		}
	}
	for fn := range coverage {
		if !slices.Contains(fns, fn) {
			t.Errorf("coverage names %s, which is not in functions/", fn)
		}
	}
	for _, role := range []string{byLoad, byScheduler, onStream} {
		if len(functionsFor(role)) == 0 {
			t.Errorf("no function %s", role)
		}
	}
}
