package perf

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/tools/measure/capacity"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

func TestParseBenchmarks(t *testing.T) {
	out := []byte(`goos: linux
goarch: amd64
pkg: github.com/lifecycle-api/lifecycle/tests/handlerbench
BenchmarkCancelInterview/handler-2   	     500	    401313 ns/op	       378.4 cpu-µs/op	       801.7 log-B/op	   84338 B/op	     880 allocs/op
BenchmarkCancelInterview/sdk-2       	     500	    301313 ns/op	       300.0 cpu-µs/op	   64338 B/op	     615 allocs/op
BenchmarkCancelInterview/pair-2      	     500	    801313 ns/op	       378.4 handler-cpu-µs/op	       300.0 sdk-cpu-µs/op	  148676 B/op	    1495 allocs/op
BenchmarkCancelInterview/handler-2   	     500	    501313 ns/op	       600.0 cpu-µs/op	       801.7 log-B/op	   84338 B/op	     880 allocs/op
BenchmarkCancelInterview/sdk-2       	     500	    301313 ns/op	       500.0 cpu-µs/op	   64338 B/op	     615 allocs/op
BenchmarkCancelInterview/pair-2      	     500	    901313 ns/op	       600.0 handler-cpu-µs/op	       500.0 sdk-cpu-µs/op	  148676 B/op	    1495 allocs/op
BenchmarkCancelInterview/handler-2   	     500	    451313 ns/op	       360.0 cpu-µs/op	       801.7 log-B/op	   84338 B/op	     880 allocs/op
BenchmarkCancelInterview/sdk-2       	     500	    301313 ns/op	       300.0 cpu-µs/op	   64338 B/op	     615 allocs/op
BenchmarkCancelInterview/pair-2      	     500	    851313 ns/op	       360.0 handler-cpu-µs/op	       300.0 sdk-cpu-µs/op	  148676 B/op	    1495 allocs/op
BenchmarkGetJob/handler-2            	     500	    342150 ns/op	       315.9 cpu-µs/op	       480.8 log-B/op	   56809 B/op	     691 allocs/op
BenchmarkGetJob/pair-2               	     500	    642150 ns/op	       315.9 handler-cpu-µs/op	       280.0 sdk-cpu-µs/op	  102809 B/op	    1291 allocs/op
PASS
ok  	github.com/lifecycle-api/lifecycle/tests/handlerbench	3.1s
`)
	hs := parseBenchmarks(out)
	if len(hs) != 2 {
		t.Fatalf("got %d handlers, want 2: %+v", len(hs), hs)
	}
	// Medians of the three pairs; the overhead is the median of their differences (78.4,
	// 100, 60) and shares (26%, 20%, 20%): the second pair ran on a busy machine.
	want := Handler{Name: "cancel-interview", NsPerOp: 451313, CPUµsPerOp: 378.4, LogBytesPerOp: 801.7, BytesPerOp: 84338, AllocsPerOp: 880,
		OverheadµsPerOp: 78.4, Overhead: 0.2}
	want.SDK.CPUµsPerOp, want.SDK.AllocsPerOp = 300, 615
	if got := hs[0]; math.Abs(got.Overhead-want.Overhead) > 1e-9 || math.Abs(got.OverheadµsPerOp-want.OverheadµsPerOp) > 1e-9 {
		t.Errorf("overhead %v µs, %v; want %v µs, %v", got.OverheadµsPerOp, got.Overhead, want.OverheadµsPerOp, want.Overhead)
	}
	hs[0].Overhead, hs[0].OverheadµsPerOp = want.Overhead, want.OverheadµsPerOp
	if hs[0] != want {
		t.Errorf("got %+v, want %+v", hs[0], want)
	}
	if hs[1].Name != "get-job" || hs[1].BytesPerOp != 56809 || hs[1].CPUµsPerOp != 315.9 || hs[1].SDK.CPUµsPerOp != 280 {
		t.Errorf("second handler parsed as %+v", hs[1])
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(d, 0.5); got != 50*time.Millisecond {
		t.Errorf("p50 = %v, want 50ms", got)
	}
	if got := percentile(d, 0.99); got != 99*time.Millisecond {
		t.Errorf("p99 = %v, want 99ms", got)
	}
	if got := median([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median = %v, want 2", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of an even count = %v, want 2.5", got)
	}
}

// TestTableVerdicts checks that each figure is marked against its target.
func TestTableVerdicts(t *testing.T) {
	r := &Report{
		Machine: "test",
		Hello:   Function{Name: "hello-world", ColdStart: 10 * time.Millisecond, SizeARM64: 1000, PeakRSS: 9e6},
		Functions: []Function{
			{Name: "fast", ColdStart: 12 * time.Millisecond, SizeARM64: 1400, PeakRSS: 14e6},
			{Name: "slow", ColdStart: 13 * time.Millisecond, SizeARM64: 1600, PeakRSS: 50e6},
		},
		Handlers: []Handler{{Name: "cheap", CPUµsPerOp: 90}, {Name: "dear", CPUµsPerOp: 300}},
		Routes: []Route{
			{Name: "cancel-interview", Concurrency: 1, P50: 12 * time.Millisecond, BareP50: 10 * time.Millisecond, RequestsPerCall: 3},
			{Name: "cancel-job", Concurrency: 1, P50: 14 * time.Millisecond, BareP50: 10 * time.Millisecond, RequestsPerCall: 2},
		},
	}
	r.Handlers[0].SDK.CPUµsPerOp, r.Handlers[1].SDK.CPUµsPerOp = 80, 200
	r.Handlers[0].OverheadµsPerOp, r.Handlers[0].Overhead = 10, 0.125
	r.Handlers[1].OverheadµsPerOp, r.Handlers[1].Overhead = 100, 0.5
	rows := map[string]string{}
	for _, l := range strings.Split(r.Table(), "\n") {
		if f := strings.Split(l, "|"); len(f) > 2 {
			rows[strings.TrimSpace(f[1])] = l
		}
	}
	for name, want := range map[string][]string{
		"fast":             {"1.20 ok", "1.40 ok", "14.00 MB ok"},
		"slow":             {"1.30 MISSED", "1.60 MISSED", "50.00 MB MISSED"},
		"cheap":            {"90 ok", "| 80 | 10 | 12% ok"},
		"dear":             {"300 MISSED", "| 200 | 100 | 50% MISSED"},
		"cancel-interview": {"1.20 ok", "3.00 (≤ 2) MISSED"},
		"cancel-job":       {"1.40 MISSED", "2.00 (≤ 2) ok"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[name], w) {
				t.Errorf("row %q lacks %q: %s", name, w, rows[name])
			}
		}
	}
}

// TestUnitVerdicts checks the write targets of transitions and the cost from units.
func TestUnitVerdicts(t *testing.T) {
	u := func(table, byOwner, byStatus float64) capacity.Units {
		return capacity.Units{TableWrite: table, IndexWrite: map[string]float64{"byOwner": byOwner, "byOwnerStatus": byStatus}}
	}
	// A job route is checked against the units worked out for it, write and read alike.
	tx := func(table, read float64, index map[string]float64) capacity.Units {
		return capacity.Units{TableWrite: table, TransactionWrite: table / 2, TableRead: read, IndexWrite: index}
	}
	assign := &Expected{Write: 22, Read: 1}
	for _, c := range []struct {
		row        UnitRow
		target     string
		wantPassed bool
	}{
		{UnitRow{Entity: smallSession, Units: u(6, 1, 2), TableWant: 6}, "≤ 9 in all", true},
		{UnitRow{Entity: smallSession, Units: u(6, 2, 2), TableWant: 6}, "≤ 9 in all", false},
		{UnitRow{Entity: largeSession, Units: u(20, 1, 2), TableWant: 20}, "table 20, indexes ≤ 3", true},
		{UnitRow{Entity: largeSession, Units: u(20, 2, 2), TableWant: 20}, "table 20, indexes ≤ 3", false},
		{UnitRow{Entity: largeSession, Units: u(22, 1, 2), TableWant: 20}, "table 20, indexes ≤ 3", false},
		// A read has no write target.
		{UnitRow{Route: "get-interview", Units: u(0, 0, 0)}, "", true},
		{UnitRow{Route: "assign-job", Units: tx(22, 1, nil), Want: assign}, "expected 22 WCU, 1 RCU", true},
		{UnitRow{Route: "assign-job", Units: tx(24, 1, nil), Want: assign}, "expected 22 WCU, 1 RCU", false},
		{UnitRow{Route: "assign-job", Units: tx(22, 2, nil), Want: assign}, "expected 22 WCU, 1 RCU", false},
		// An index write counts: the units expected are every unit billed.
		{UnitRow{Route: "assign-job", Units: tx(22, 1, map[string]float64{"byBoardTime": 1}), Want: assign}, "expected 22 WCU, 1 RCU", false},
		// The mean of identical calls, to a rounding.
		{UnitRow{Route: "assign-job", Units: tx(110, 5, nil).Scale(1 / 5.0), Want: assign}, "expected 22 WCU, 1 RCU", true},
	} {
		if target, passed := c.row.Verdict(); passed != c.wantPassed || target != c.target {
			t.Errorf("%s %s %+v: verdict %q %v, want %q %v", c.row.Route, c.row.Entity, c.row.Units, target, passed, c.target, c.wantPassed)
		}
	}
	job := UnitRow{Units: capacity.Units{TableWrite: 4, TransactionWrite: 2, TableRead: 1}}
	if job.Cost() != 4*WriteUnitPrice+1*ReadUnitPrice {
		t.Errorf("a transaction of 4 billed units: cost %v", job.Cost())
	}
	var b strings.Builder
	unitsTable(&b, []UnitRow{{Route: "pause-interview", Entity: smallSession, ItemBytes: 1500, Units: u(6, 1, 2), TableWant: 6}})
	if !strings.Contains(b.String(), "| pause-interview | 1 KB session | 1500 | 6 | 1 | 2 | 9 | 0 | 5.62 | ≤ 9 in all ok |") {
		t.Errorf("units table:\n%s", b.String())
	}

	// An index other than the sessions' gets a column of its own, so the columns add up
	// to the units billed.
	b.Reset()
	unitsTable(&b, []UnitRow{
		{Route: "pause-interview", Entity: smallSession, ItemBytes: 1500, Units: u(6, 1, 2), TableWant: 6},
		{Route: "create-job", Entity: "new job", ItemBytes: 443, Units: tx(4, 0, map[string]float64{"byBoardTime": 1}), Want: &Expected{Write: 4}},
	})
	for _, want := range []string{
		"| table WCU | byOwner WCU | byOwnerStatus WCU | byBoardTime WCU | WCU billed |",
		"|---|---|---|---|---|---|---|---|---|---|---|",
		"| pause-interview | 1 KB session | 1500 | 6 | 1 | 2 | 0 | 9 | 0 | 5.62 | ≤ 9 in all ok |",
		"| create-job | new job | 443 | 4 | 0 | 0 | 1 | 5 (a transaction: table twice) | 0 | 3.12 | expected 4 WCU, 0 RCU MISSED |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("units table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestJobUnitsExpected checks the arithmetic the job routes' rows are held to
// (docs/performance.md): 2 write units per item of a transaction, one per slot, and a read
// of the slots summed before it is rounded to 4 KB.
func TestJobUnitsExpected(t *testing.T) {
	short, long := slots(2*time.Hour), slots(job.MaxBooking)
	if short != 8 || long != 32 {
		t.Fatalf("slots: 2 h %d, 8 h %d; want 8 and 32", short, long)
	}
	// A job under 1 KB before and after (900 bytes), and one that a write takes past it.
	const small, large = 900, 1100
	for _, c := range []struct {
		name        string
		got         Expected
		write, read float64
	}{
		{"create-job: the job, the request's record, a new board entry", createWant()(0, small), 5, 0},
		{"get-job", getJobWant(), 0, 1},
		{"assign 2 h: the job, the assignment, 8 slots, the record; the board entry moves", assignWant(short)(small, small), 24, 1},
		{"assign 8 h", assignWant(long)(small, small), 72, 1},
		{"reassign 2 h to another technician: also the old assignment, 8 slots released; the board entry stays", reassignWant(short, short)(small, small), 41, 1},
		{"reassign 8 h to another technician: the worst case", reassignWant(long, long)(small, small), 137, 1},
		{"reschedule 2 h an hour later: 4 kept, 4 booked, 4 released; the board entry moves", rescheduleWant(4, 4, 4)(small, small), 32, 1},
		{"confirm: the job and the assignment", confirmWant()(small, small), 7, 1},
		{"start or complete: the job", stepWant()(small, small), 5, 1},
		{"complete, the job past 1 KB: 2 units, twice", stepWant()(small, large), 7, 1},
		{"cancel with a 2 h booking", cancelWant(short)(small, small), 23, 1},
		{"cancel, the job past 1 KB before it", cancelWant(short)(large, large), 25, 1},
		// 32 slots of 182 bytes are 5,824 bytes: 2 units of 4 KB, not 32 of one each.
		{"a day's schedule", scheduleWant(long, 182), 0, 2},
		{"a fortnight's, 8 h a day", scheduleWant(scheduleDays*long, 182), 0, 20},
	} {
		if c.got.Write != c.write || c.got.Read != c.read {
			t.Errorf("%s: %v WCU, %v RCU; want %v, %v", c.name, c.got.Write, c.got.Read, c.write, c.read)
		}
	}
	// The worst case is one transaction: at most 100 items (2 write units each, beside the
	// board's).
	if items := (reassignWant(long, long)(small, small).Write - boardKept) / 2; items > 100 {
		t.Errorf("the longest reassignment is %v items: more than a transaction holds", items)
	}
	// The fixtures' windows are bookings the API takes: quarter-hours, at most 8 h.
	for _, w := range []job.Window{dayWindow(0, 9*time.Hour, 2*time.Hour), dayWindow(scheduleDays-1, 8*time.Hour, job.MaxBooking)} {
		if p := (job.Booking{TechnicianID: "t", Window: w}).Check(); p != "" {
			t.Errorf("window %v: %s", w, p)
		}
	}
}

// TestEveryFunctionHasColdStartEvents: make bench starts every function of functions/ on
// two of its sample events; a function added without them would stop the bench midway.
func TestEveryFunctionHasColdStartEvents(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	fns, err := repo.Functions()
	if err != nil {
		t.Fatal(err)
	}
	events := coldStartEvents(root)
	for _, fn := range fns {
		pair, ok := events[fn]
		if !ok {
			t.Errorf("functions/%s has no cold-start events in coldStartEvents", fn)
			continue
		}
		for _, f := range pair {
			if _, err := os.Stat(f); f != "" && err != nil {
				t.Errorf("%s: %v", fn, err)
			}
		}
	}
}

// TestBenchAccountsForEveryFunction: every function of functions/ has its line in
// unitsCoverage (its units measured, or why not), and it names no other; a route's
// measured rows satisfy the check measureUnits makes, and a missing row fails it.
func TestBenchAccountsForEveryFunction(t *testing.T) {
	missing, unknown, err := repo.Unaccounted(unitsCoverage)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing)+len(unknown) > 0 {
		t.Errorf("functions without a line in unitsCoverage (coverage.go: say whether make bench measures their units, or why not): %v; lines naming no function of functions/: %v", missing, unknown)
	}
	var rows []UnitRow
	for fn, c := range unitsCoverage {
		if c == measured {
			rows = append(rows, UnitRow{Route: fn + " (a variant)"})
		}
	}
	if err := checkUnitsCoverage(rows); err != nil {
		t.Errorf("every measured function has a row: %v", err)
	}
	if err := checkUnitsCoverage(rows[1:]); err == nil {
		t.Errorf("a measured function without a row passed")
	}
	if err := checkUnitsCoverage(append(rows, UnitRow{Route: "audit-log"})); err == nil {
		t.Errorf("a row of a function not said to be measured passed")
	}
}
