package perf

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// handlerBenchmarks runs go test -bench on tests/handlerbench and parses its lines.
func handlerBenchmarks(root string) ([]Handler, error) {
	// Five runs of 500 requests of each handler, its floor, and the two in turn.
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "500x", "-count", "5", "./tests/handlerbench/")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("handler benchmarks: %v\n%s", err, out)
	}
	return parseBenchmarks(out), nil
}

// parseBenchmarks reads the Benchmark lines of go test -bench output (with -benchmem and
// the custom metrics): BenchmarkPauseInterview/handler-2 (wall time, allocations, log
// bytes), .../sdk-2 (the floor's allocations) and .../pair-2 (handler-cpu-µs/op and
// sdk-cpu-µs/op, measured in turns, request by request), any number of runs each. The CPU
// figures and the overhead come from the pairs: the medians of the runs' handler CPU, floor
// CPU, differences and shares. Taken request by request, the two see the same machine:
// the same floor measured against itself this way differs by 2 to 4%, where separate runs
// of the handler and of the floor differ by 15% on a busy machine.
func parseBenchmarks(out []byte) []Handler {
	var hs []Handler
	runs := map[string]*struct{ ns, cpu, sdk []float64 }{}
	rd := benchfmt.NewReader(bytes.NewReader(out), "handlerbench")
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		// PauseInterview/handler-2: the function, the variant, GOMAXPROCS.
		base, parts := res.Name.Parts()
		name, variant := kebab(string(base)), ""
		if len(parts) > 0 {
			variant = strings.TrimPrefix(string(parts[0]), "/")
		}
		i := slices.IndexFunc(hs, func(o Handler) bool { return o.Name == name })
		if i < 0 {
			hs, i = append(hs, Handler{Name: name}), len(hs)
			runs[name] = &struct{ ns, cpu, sdk []float64 }{}
		}
		h, r := &hs[i], runs[name]
		for _, m := range res.Values {
			// As go test printed it (the reader tidies ns/op into sec/op).
			v, unit := m.Value, m.Unit
			if m.OrigUnit != "" {
				v, unit = m.OrigValue, m.OrigUnit
			}
			switch {
			case unit == "handler-cpu-µs/op":
				r.cpu = append(r.cpu, v)
			case unit == "sdk-cpu-µs/op":
				r.sdk = append(r.sdk, v)
			case variant == "sdk" && unit == "allocs/op":
				h.SDK.AllocsPerOp = v
			case variant != "handler":
			case unit == "ns/op":
				r.ns = append(r.ns, v)
			case unit == "allocs/op":
				h.AllocsPerOp = v
			case unit == "B/op":
				h.BytesPerOp = v
			case unit == "log-B/op":
				h.LogBytesPerOp = v
			}
		}
	}
	for i := range hs {
		h, r := &hs[i], runs[hs[i].Name]
		h.NsPerOp, h.CPUµsPerOp, h.SDK.CPUµsPerOp = median(r.ns), median(r.cpu), median(r.sdk)
		var diffs, shares []float64
		for j := range min(len(r.cpu), len(r.sdk)) {
			diffs = append(diffs, r.cpu[j]-r.sdk[j])
			shares = append(shares, (r.cpu[j]-r.sdk[j])/r.sdk[j])
		}
		h.OverheadµsPerOp, h.Overhead = median(diffs), median(shares)
	}
	return hs
}

func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}
