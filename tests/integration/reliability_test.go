package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/measure/robustness"
)

// TestReliability is `make reliability` at a size that suits `make test`: concurrent random
// transitions under injected faults, every answer checked against what was committed and
// published.
func TestReliability(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := robustness.Run(ctx, robustness.Options{
		Clients: 8, Requests: 300, Sessions: 8, Jobs: 3, FaultRate: 0.08, ClientRetries: 5, Seed: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	table := rep.Table()
	t.Log("\n" + table)
	_ = os.WriteFile(filepath.Join(repoRoot(t), "test-output", "reliability.txt"), []byte(table), 0o644)
	if len(rep.Violations) > 0 {
		t.Fatalf("%d violations", len(rep.Violations))
	}
	if rep.Successes == 0 || rep.Committed == 0 || rep.Events != rep.Committed {
		t.Fatalf("successes %d, committed %d, events %d", rep.Successes, rep.Committed, rep.Events)
	}
	faults := 0
	for _, n := range rep.Faults {
		faults += n
	}
	if faults == 0 {
		t.Fatal("no fault was injected: the run proves nothing")
	}
}
