// Package perf is `make bench`: cold start, footprint, handler cost, latency against the
// bare DynamoDB write, and DynamoDB requests per call, all measured in one run on one
// machine and printed as one table. docs/performance.md explains each figure.
package perf

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
	"github.com/lifecycle-api/lifecycle/tools/measure/capacity"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// Options size a run.
type Options struct {
	// Prebuilt, when set, is a folder of <arch>/<function>/bootstrap to measure instead of
	// building the working tree (to compare with an earlier build).
	Prebuilt string
	Starts   int // cold starts per function (median reported)
	Requests int // requests per latency measurement
	Progress io.Writer
	// Only, when not empty, runs just these parts: "starts" (cold start, size, RSS), "cpu"
	// (handler benchmarks), "latency" (routes against the bare write), "units" (capacity
	// units per call), "live" (the live channel).
	Only []string
}

func (o Options) runs(part string) bool { return len(o.Only) == 0 || slices.Contains(o.Only, part) }

// Targets the report checks.
const (
	ColdStartTarget = 1.25 // × hello-world
	SizeTarget      = 1.5  // × hello-world
	RSSTarget       = 40 << 20
	CPUTarget       = 100.0 // µs per request
	// OverheadTarget is the most CPU our code may add to a request, as a share of the CPU
	// of the bare SDK calls it makes.
	OverheadTarget = 0.25
	LatencyTarget  = 1.3 // × the bare write's p50
	// RequestsTarget is the most DynamoDB requests a call of a transition's route may
	// make: the read and the guarded transaction (docs/data-model.md), for an interview and
	// a job alike.
	RequestsTarget = 2
)

// Report is one run.
type Report struct {
	Machine   string
	Hello     Function
	Functions []Function
	Handlers  []Handler
	Routes    []Route
	Live      []Live
	Units     []UnitRow
}

// Function is one function's start-up and footprint.
type Function struct {
	Name string
	// ColdStart is the median time from starting the process to its first answer, for an
	// event that needs no I/O (the like-for-like comparison with hello-world).
	ColdStart time.Duration
	// ColdStartIO is the same for an event that makes the function's DynamoDB or
	// EventBridge call (its first connection included).
	ColdStartIO time.Duration
	SizeARM64   int64
	PeakRSS     int64
}

// Handler is one in-process handler benchmark.
type Handler struct {
	Name                    string
	NsPerOp, CPUµsPerOp     float64
	BytesPerOp, AllocsPerOp float64
	// LogBytesPerOp is what the function logs per request (CloudWatch Logs ingests it).
	LogBytesPerOp float64
	// SDK is the floor under the handler: the same DynamoDB calls, made with the same
	// client against the same endpoint, and nothing else (tests/handlerbench, "sdk").
	SDK struct{ CPUµsPerOp, AllocsPerOp float64 }
	// OverheadµsPerOp is our code's CPU per request: the handler's above the floor's.
	OverheadµsPerOp float64
	// Overhead is OverheadµsPerOp as a share of the floor's CPU.
	Overhead float64
}

// Route is one POST route's latency at one concurrency, beside the bare write.
type Route struct {
	Name                       string
	Concurrency                int
	P50, P99, BareP50, BareP99 time.Duration
	// RequestsPerCall is the DynamoDB requests the route's calls sent, per call.
	RequestsPerCall float64
}

// Run measures everything.
func Run(ctx context.Context, o Options) (*Report, error) {
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "==> "+format+"\n", args...)
		}
	}
	rep := &Report{Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel())}

	bin := filepath.Join(root, ".tools", "bench")
	names, err := repo.Functions()
	if err != nil {
		return nil, err
	}
	if o.runs("starts") {
		progress("building %d functions and hello-world for arm64 and amd64", len(names))
		if err := buildBinaries(root, bin, o.Prebuilt, names); err != nil {
			return nil, err
		}
	}

	progress("starting the local stack (moto) for the measurements")
	key := []byte("bench-signing-key-0123456789abcdef")
	// The functions' DynamoDB requests are counted by a middleware on their client: every
	// HTTP request it sends (retries included), with no extra hop on the way.
	var sent atomic.Int64
	probe := &liveProbe{received: map[string][]time.Time{}}
	meter := &capacity.Meter{}
	count := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("countRequests",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					sent.Add(1)
					return next.HandleDeserialize(ctx, in)
				}), middleware.After)
		})
	}
	st, err := stack.Start(ctx, stack.Options{
		Table: "bench", AuditTable: "bench-audit", LogDir: filepath.Join(root, "test-output", "bench"),
		Logger:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Verify:     func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
		ManualPoll: true,
		Handlers: func(stack.Info) (stack.Handlers, error) {
			return stack.Handlers{Publisher: probe.streamTap, Notifier: probe.notifyTap}, nil
		},
		Wiring: func(c *wiring.Config) {
			c.DB = dynamodb.New(c.DB.Options(), count, meter.Option)
			// No per-caller limits: the live part opens a thousand connections of one caller.
			c.LiveLimits = &live.UserLimits{}
		},
	})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	srv := httptest.NewServer(st.Handler)
	defer srv.Close()
	mint := func(sub string, roles ...string) string {
		tok, _ := devauth.Mint(key, sub, roles, time.Hour, time.Now())
		return tok
	}
	// The live channel first, while the stream holds nothing to publish (live.go).
	if o.runs("live") {
		if rep.Live, err = measureLive(ctx, st, srv.URL, mint, probe, &sent, progress); err != nil {
			return nil, err
		}
	}
	env := append(st.Info.Env(), "LOG_LEVEL=info")

	if o.runs("starts") {
		if err := rep.measureStarts(ctx, o.Starts, root, bin, names, env, progress); err != nil {
			return nil, err
		}
	}

	if o.runs("cpu") {
		progress("handler benchmarks (go test -bench ./tests/handlerbench)")
		if rep.Handlers, err = handlerBenchmarks(root); err != nil {
			return nil, err
		}
	}

	if o.runs("units") {
		progress("capacity units of every route: on a 1 KB session and an 8 KB conversation, and on jobs and a technician's calendar")
		// The meter prices the functions' requests by DynamoDB's rules while the units are
		// measured, and lets them through untouched otherwise (it reads what they write).
		meter.On(st.DB, map[string]capacity.Schema{"bench": capacity.SchemaOf(dynamo.CreateTableInput("bench"))})
		rep.Units, err = measureUnits(ctx, unitsRun{base: srv.URL, token: mint, db: st.DB, table: "bench", meter: meter})
		meter.Off()
		if err != nil {
			return nil, err
		}
	}
	if !o.runs("latency") {
		return rep, nil
	}
	progress("latency of each POST route against the bare DynamoDB write, %d requests each", o.Requests)
	token := mint("bench", "Dispatcher")
	seq := 0
	for _, rt := range []string{"cancel-interview", "pause-interview", "resume-interview", "cancel-job"} {
		for _, c := range []int{1, 16} {
			seq++
			// st.DB is a plain client of the stack's DynamoDB, like the functions' but
			// without the counting: it seeds the entities and makes the bare writes.
			r, err := measureRoute(ctx, rt, c, o.Requests, seq, srv.URL, token, st.DB, &sent)
			if err != nil {
				return nil, err
			}
			rep.Routes = append(rep.Routes, r)
		}
	}
	return rep, nil
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}

// Table renders the report with each figure against its target.
func (r *Report) Table() string {
	var b strings.Builder
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	mb := func(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }
	fmt.Fprintf(&b, "Machine: %s\n\n", r.Machine)
	if len(r.Functions) > 0 {
		fmt.Fprintf(&b, "| function | cold start (no I/O) | × hello (≤ %.2f) | cold start (first DynamoDB/EventBridge call) | bootstrap arm64 | × hello (≤ %.1f) | peak RSS serving (≤ 40 MB) |\n|---|---|---|---|---|---|---|\n", ColdStartTarget, SizeTarget)
		fmt.Fprintf(&b, "| %s | %s | 1.00 | – | %s | 1.00 | %s |\n", r.Hello.Name, ms(r.Hello.ColdStart), mb(r.Hello.SizeARM64), mb(r.Hello.PeakRSS))
		for _, f := range r.Functions {
			cr := float64(f.ColdStart) / float64(r.Hello.ColdStart)
			sr := float64(f.SizeARM64) / float64(r.Hello.SizeARM64)
			fmt.Fprintf(&b, "| %s | %s | %.2f %s | %s | %s | %.2f %s | %s %s |\n", f.Name, ms(f.ColdStart), cr, ok(cr <= ColdStartTarget),
				ms(f.ColdStartIO), mb(f.SizeARM64), sr, ok(sr <= SizeTarget), mb(f.PeakRSS), ok(f.PeakRSS <= RSSTarget))
		}
	}
	if len(r.Handlers) > 0 {
		fmt.Fprintf(&b, "\n| handler (in process, DynamoDB answering after 1 ms) | wall µs/op | CPU µs/op (≤ %.0f) | bare SDK calls: CPU µs/op | our overhead: CPU µs/op | overhead ÷ SDK (≤ %.0f%%) | B/op | allocs/op (SDK's) | log bytes/op |\n|---|---|---|---|---|---|---|---|---|\n", CPUTarget, OverheadTarget*100)
		for _, h := range r.Handlers {
			fmt.Fprintf(&b, "| %s | %.0f | %.0f %s | %.0f | %.0f | %.0f%% %s | %.0f | %.0f (%.0f) | %.0f |\n", h.Name, h.NsPerOp/1000, h.CPUµsPerOp, ok(h.CPUµsPerOp <= CPUTarget),
				h.SDK.CPUµsPerOp, h.OverheadµsPerOp, h.Overhead*100, ok(h.Overhead <= OverheadTarget), h.BytesPerOp, h.AllocsPerOp, h.SDK.AllocsPerOp, h.LogBytesPerOp)
		}
	}
	if len(r.Routes) > 0 {
		fmt.Fprintf(&b, "\n| POST route (local API on moto's DynamoDB) | concurrency | p50 | p99 | bare write p50 | bare write p99 | p50 ÷ bare p50 (≤ %.1f) | DynamoDB requests per call |\n|---|---|---|---|---|---|---|---|\n", LatencyTarget)
		for _, rt := range r.Routes {
			ratio := float64(rt.P50) / float64(rt.BareP50)
			calls := "–"
			if rt.Concurrency == 1 {
				n := rt.RequestsPerCall
				calls = fmt.Sprintf("%.2f (≤ %d) %s", n, RequestsTarget, ok(n <= RequestsTarget))
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %.2f %s | %s |\n", rt.Name, rt.Concurrency, ms(rt.P50), ms(rt.P99), ms(rt.BareP50), ms(rt.BareP99), ratio, ok(ratio <= LatencyTarget), calls)
		}
	}
	if len(r.Units) > 0 {
		unitsTable(&b, r.Units)
	}
	if len(r.Live) > 0 {
		liveTable(&b, r.Live)
	}
	return b.String()
}

// ok is a figure's verdict against its target.
func ok(pass bool) string {
	if pass {
		return "ok"
	}
	return "MISSED"
}
