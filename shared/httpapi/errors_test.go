package httpapi

import "testing"

// TestRefusalsAreKeyedByFunction: the refusal table is keyed by function name, so a key
// that is not a function of the route table would never be used.
func TestRefusalsAreKeyedByFunction(t *testing.T) {
	functions := map[string]bool{}
	for _, r := range Routes() {
		functions[r.Function] = true
	}
	for fn := range refusals {
		if !functions[fn] {
			t.Errorf("refusals[%q]: no route is served by that function", fn)
		}
	}
}
