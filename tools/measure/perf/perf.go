// Package perf is `make bench`: cold start, footprint, handler cost, latency against the
// bare DynamoDB write, and DynamoDB requests per call, all measured in one run on one
// machine and printed as one table. docs/performance.md explains each figure.
package perf

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/perf/benchfmt"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/lambdaruntime"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
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
	// units per call).
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
)

// RequestsTarget is the most DynamoDB requests a call of a transition's route may make:
// the read and the guarded transaction (docs/data-model.md), for an interview and a job
// alike.
func RequestsTarget(string) float64 { return 2 }

// Report is one run.
type Report struct {
	Machine      string
	Hello        Function
	Functions    []Function
	Handlers     []Handler
	Routes       []Route
	RequestsCall map[string]float64
	Live         []Live
	Units        []UnitRow
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
	SizeAMD64   int64
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

	// Binaries: every function and hello-world, built as deployed (arm64 for size) and for
	// this machine (amd64, to run).
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
	probe := &liveProbe{}
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
		Logger:          slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Verify:          func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
		ManualPoll:      true,
		DynamoDBOptions: []func(*dynamodb.Options){count, meter.Option},
		StreamTap:       probe.streamTap,
		NotifyTap:       probe.notifyTap,
		// No per-caller limits: the live part opens a thousand connections of one caller.
		LiveLimits: &live.UserLimits{},
	})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	// The live channel first, while the stream holds nothing to publish (live.go).
	if o.runs("live") {
		if rep.Live, err = measureLive(ctx, st, key, probe, &sent, progress); err != nil {
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

	srv := httptest.NewServer(st.Handler)
	defer srv.Close()
	mint := func(sub string, roles ...string) string {
		tok, _ := devauth.Mint(key, sub, roles, time.Hour, time.Now())
		return tok
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
	direct := dynamodb.NewFromConfig(config.New("us-east-1", credentials.NewStaticCredentialsProvider("local", "local", "")),
		func(opt *dynamodb.Options) {
			opt.BaseEndpoint, opt.DisableValidateResponseChecksum = aws.String(st.Info.DynamoDB), true
		})
	rep.RequestsCall = map[string]float64{}
	seq := 0
	for _, rt := range []string{"cancel-interview", "pause-interview", "resume-interview", "cancel-job"} {
		for _, c := range []int{1, 16} {
			seq++
			r, perCall, err := measureRoute(ctx, rt, c, o.Requests, seq, srv.URL, token, st.DB, direct, &sent)
			if err != nil {
				return nil, err
			}
			rep.Routes = append(rep.Routes, r)
			if c == 1 {
				rep.RequestsCall[rt] = perCall
			}
		}
	}
	return rep, nil
}

// buildBinaries builds every function and hello-world for arm64 (the size deployed) and
// amd64 (to run here) into bin; with prebuilt, it copies the functions from there instead.
func buildBinaries(root, bin, prebuilt string, names []string) error {
	pkgs := map[string]string{"hello": "./tools/measure/perf/hello"}
	for _, n := range names {
		pkgs[n] = "./functions/" + n
	}
	if prebuilt != "" {
		// Only hello-world is built; the functions are measured as given.
		pkgs = map[string]string{"hello": "./tools/measure/perf/hello"}
		for _, n := range names {
			for _, arch := range []string{"arm64", "amd64"} {
				dst := filepath.Join(bin, arch, n, "bootstrap")
				_ = os.MkdirAll(filepath.Dir(dst), 0o755)
				b, err := os.ReadFile(filepath.Join(prebuilt, arch, n, "bootstrap"))
				if err != nil {
					return err
				}
				if err := os.WriteFile(dst, b, 0o755); err != nil {
					return err
				}
			}
		}
	}
	for name, pkg := range pkgs {
		for _, arch := range []string{"arm64", "amd64"} {
			out := filepath.Join(bin, arch, name, "bootstrap")
			cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s", "-buildvcs=false", "-o", out, pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("build %s %s: %v\n%s", name, arch, err, b)
			}
		}
	}
	return nil
}

// measureStarts measures cold starts, binary sizes and peak RSS of hello-world and every
// function.
func (rep *Report) measureStarts(ctx context.Context, starts int, root, bin string, names, env []string, progress func(string, ...any)) error {
	size := func(arch, name string) int64 {
		st, _ := os.Stat(filepath.Join(bin, arch, name, "bootstrap"))
		return st.Size()
	}
	var err error
	// Cold starts: rounds in which hello-world and every function start once each (with
	// either event), so each ratio compares starts made under the same conditions.
	events := coldStartEvents(root)
	type startKind struct{ name, event string }
	kinds := []startKind{{"hello", ""}}
	for _, n := range names {
		kinds = append(kinds, startKind{n, events[n][0]}, startKind{n, events[n][1]})
	}
	payloads := map[startKind][]byte{}
	for _, k := range kinds {
		payloads[k] = []byte(`{}`)
		if k.event != "" {
			if payloads[k], err = os.ReadFile(k.event); err != nil {
				return err
			}
		}
	}
	samples := map[startKind][]time.Duration{}
	progress("cold starts: %d rounds of hello-world and every function", starts)
	order := slices.Clone(kinds)
	rng := rand.New(rand.NewPCG(1, 2))
	for range starts {
		// A new order each round, so no function always starts right after another.
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			rt, err := lambdaruntime.Start(lambdaruntime.Options{Bootstrap: filepath.Join(bin, "amd64", k.name, "bootstrap"), Name: k.name, Env: env, Output: io.Discard})
			if err != nil {
				return err
			}
			if _, err := rt.Invoke(ctx, payloads[k]); err != nil {
				rt.Stop()
				return fmt.Errorf("%s: %w", k.name, err)
			}
			samples[k] = append(samples[k], time.Since(rt.Started))
			rt.Stop()
		}
	}
	rep.Hello = Function{Name: "hello-world", ColdStart: median(samples[kinds[0]]), SizeARM64: size("arm64", "hello"), SizeAMD64: size("amd64", "hello")}
	if rep.Hello.PeakRSS, err = serve("hello", bin, env, `{}`, 200); err != nil {
		return err
	}
	for _, n := range names {
		f := Function{Name: n, SizeARM64: size("arm64", n), SizeAMD64: size("amd64", n),
			ColdStart: median(samples[startKind{n, events[n][0]}]), ColdStartIO: median(samples[startKind{n, events[n][1]}])}
		if f.PeakRSS, err = serve(n, bin, env, string(payloads[startKind{n, events[n][1]}]), 500); err != nil {
			return err
		}
		rep.Functions = append(rep.Functions, f)
	}

	return nil
}

// coldStartEvents are, per function, an event needing no I/O and one making its call.
func coldStartEvents(root string) map[string][2]string {
	e := func(fn, file string) string { return filepath.Join(root, "events", fn, file) }
	return map[string][2]string{
		"create-interview":   {e("create-interview", "401-no-claims.json"), e("create-interview", "201-minimal.json")},
		"cancel-interview":   {e("cancel-interview", "401-no-claims.json"), e("cancel-interview", "404-not-found.json")},
		"complete-interview": {e("complete-interview", "401-no-claims.json"), e("complete-interview", "404-not-found.json")},
		"record-interaction": {e("record-interaction", "401-no-claims.json"), e("record-interaction", "404-not-found.json")},
		"create-job":         {e("create-job", "401-no-claims.json"), e("create-job", "403-technician.json")},
		"assign-job":         {e("assign-job", "401-no-claims.json"), e("assign-job", "403-technician.json")},
		"confirm-job":        {e("confirm-job", "401-no-claims.json"), e("confirm-job", "404-not-found.json")},
		"get-schedule":       {e("get-schedule", "401-no-claims.json"), e("get-schedule", "403-another-technician.json")},
		"list-jobs":          {e("list-jobs", "401-no-claims.json"), e("list-jobs", "403-technician.json")},
		"reschedule-job":     {e("reschedule-job", "401-no-claims.json"), e("reschedule-job", "403-technician.json")},
		"start-job":          {e("start-job", "401-no-claims.json"), e("start-job", "404-not-found.json")},
		"complete-job":       {e("complete-job", "401-no-claims.json"), e("complete-job", "404-not-found.json")},
		"pause-interview":    {e("pause-interview", "401-no-claims.json"), e("pause-interview", "404-not-found.json")},
		"resume-interview":   {e("resume-interview", "401-no-claims.json"), e("resume-interview", "404-not-found.json")},
		"get-interview":      {e("get-interview", "401-no-claims.json"), e("get-interview", "200-found.json")},
		"list-interviews":    {e("list-interviews", "401-no-claims.json"), e("list-interviews", "200-all.json")},
		"cancel-job":         {e("cancel-job", "401-no-claims.json"), e("cancel-job", "404-not-found.json")},
		"get-job":            {e("get-job", "401-no-claims.json"), e("get-job", "200-found.json")},
		"publish-events":     {e("publish-events", "ignored-records.json"), e("publish-events", "published-interview-cancelled.json")},
		"audit-log":          {filepath.Join(root, "tools", "measure", "perf", "empty-sqs-event.json"), e("audit-log", "recorded-interview-cancelled.json")},
		// The live channel ("": the event {}, which each refuses before any call).
		"live-ticket":     {e("live-ticket", "401-no-claims.json"), e("live-ticket", "201-issued.json")},
		"live-connect":    {e("live-connect", "401-no-ticket.json"), e("live-connect", "401-forged-ticket.json")},
		"live-disconnect": {"", e("live-disconnect", "200-disconnected.json")},
		"live-default":    {e("live-default", "400-unknown-message.json"), e("live-default", "400-unknown-message.json")},
		"live-notify":     {"", e("live-notify", "sent-interview-paused.json")},
		// The planned resumes: a pause without resumeAt plans nothing; a stale timer reads the
		// session and writes nothing.
		"plan-resume":      {e("plan-resume", "skipped-pause-until-resumed.json"), e("plan-resume", "planned-pause-until-a-time.json")},
		"resume-scheduled": {e("resume-scheduled", "stale-a-later-pause.json"), e("resume-scheduled", "stale-a-later-pause.json")},
	}
}

// serve starts a function once, answers n requests, and returns its peak RSS.
func serve(name, bin string, env []string, event string, n int) (int64, error) {
	rt, err := lambdaruntime.Start(lambdaruntime.Options{Bootstrap: filepath.Join(bin, "amd64", name, "bootstrap"), Name: name, Env: env, Output: io.Discard})
	if err != nil {
		return 0, err
	}
	defer rt.Stop()
	for range n {
		if _, err := rt.Invoke(context.Background(), []byte(event)); err != nil {
			return 0, err
		}
	}
	return rt.PeakRSS()
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

func percentile(d []time.Duration, p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

// measureRoute times n requests of one POST route through the local API at concurrency c,
// and n bare DynamoDB calls of what the route sends, on fresh entities each time.
func measureRoute(ctx context.Context, route string, c, n, seq int, base, token string, seed, direct *dynamodb.Client, sent *atomic.Int64) (Route, float64, error) {
	r := Route{Name: route, Concurrency: c}
	// Fresh entities for the route and for the bare calls, in the state the route leaves.
	prefix := fmt.Sprintf("%02x", seq)
	viaAPI, err := entities(ctx, seed, route, prefix+"a", n)
	if err != nil {
		return r, 0, err
	}
	bare, err := entities(ctx, seed, route, prefix+"b", n)
	if err != nil {
		return r, 0, err
	}
	path := map[string]string{"cancel-interview": "/interviews/%s/cancel", "pause-interview": "/interviews/%s/pause", "resume-interview": "/interviews/%s/resume", "cancel-job": "/jobs/%s/cancel"}[route]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	callAPI := func(id string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+fmt.Sprintf(path, id), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s %s: %d", route, id, resp.StatusCode)
		}
		return nil
	}
	actor := lifecycle.Actor{Sub: "bench", Roles: []string{"Dispatcher"}}
	interviews := dynamo.NewInterviews(direct, "bench", time.Now, lifecycle.NewID)
	jobs := dynamo.NewJobs(direct, "bench", time.Now, lifecycle.NewID)
	t := map[string]interview.Transition{"cancel-interview": interview.Cancel, "pause-interview": interview.Pause, "resume-interview": interview.Resume}[route]
	callBare := func(id string) error {
		if route == "cancel-job" {
			_, _, err := jobs.Cancel(ctx, job.Request{Request: lifecycle.Request{ID: id, Actor: actor}})
			return err
		}
		_, _, err := interviews.Apply(ctx, t, interview.Request{Request: lifecycle.Request{ID: id, Actor: actor}})
		return err
	}
	// The route and the bare write take turns in blocks (route, bare, bare, route, ...), so
	// neither is measured only on a DynamoDB that the other has already warmed.
	const blocks = 4
	var apiTimes, bareTimes []time.Duration
	var calls int64
	for b := range blocks {
		lo, hi := b*len(viaAPI)/blocks, (b+1)*len(viaAPI)/blocks
		runAPI := func() error {
			before := sent.Load()
			times, err := parallel(c, viaAPI[lo:hi], callAPI)
			calls += sent.Load() - before
			apiTimes = append(apiTimes, times...)
			return err
		}
		runBare := func() error {
			times, err := parallel(c, bare[lo:hi], callBare)
			bareTimes = append(bareTimes, times...)
			return err
		}
		first, second := runAPI, runBare
		if b%2 == 1 {
			first, second = runBare, runAPI
		}
		if err := first(); err != nil {
			return r, 0, err
		}
		if err := second(); err != nil {
			return r, 0, err
		}
	}
	r.P50, r.P99 = percentile(apiTimes, 0.5), percentile(apiTimes, 0.99)
	r.BareP50, r.BareP99 = percentile(bareTimes, 0.5), percentile(bareTimes, 0.99)
	return r, float64(calls) / float64(len(viaAPI)), nil
}

// parallel runs f over ids with c workers and returns each call's duration (after a short
// warm-up that is not counted).
func parallel(c int, ids []string, f func(string) error) ([]time.Duration, error) {
	warm := min(20, len(ids)/10)
	for _, id := range ids[:warm] {
		if err := f(id); err != nil {
			return nil, err
		}
	}
	ids = ids[warm:]
	times := make([]time.Duration, len(ids))
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				start := time.Now()
				err := f(ids[i])
				times[i] = time.Since(start)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range ids {
		work <- i
	}
	close(work)
	wg.Wait()
	return times, firstErr
}

// entities writes n fresh sessions (or jobs with an assignment) in the state route leaves.
func entities(ctx context.Context, db *dynamodb.Client, route, prefix string, n int) ([]string, error) {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var ids []string
	var writes []types.WriteRequest
	flush := func() error {
		for len(writes) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"bench": writes}})
			if err != nil {
				return err
			}
			writes = out.UnprocessedItems["bench"]
		}
		return nil
	}
	put := func(item map[string]types.AttributeValue) error {
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if len(writes) == 25 {
			return flush()
		}
		return nil
	}
	for i := range n {
		pad := strings.Repeat("0", 6-len(prefix))
		id := fmt.Sprintf("be%s%s-0000-4000-8000-%012d", prefix, pad, i)
		ids = append(ids, id)
		var err error
		switch route {
		case "cancel-job":
			a := job.Assignment{ID: fmt.Sprintf("a5%s%s-0000-4000-8000-%012d", prefix, pad, i), JobID: id, TechnicianID: "tech", Status: job.Confirmed, Version: 1,
				ScheduledStart: t0, ScheduledEnd: t0.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0}
			if err = put(dynamo.JobItem(job.Job{ID: id, Title: "bench", Status: job.Assigned, Version: 1, CreatedAt: t0, UpdatedAt: t0, Assignment: &a})); err == nil {
				err = put(dynamo.AssignmentItem(a))
			}
		default:
			st := interview.Active
			if route == "resume-interview" {
				st = interview.Paused
			}
			err = put(dynamo.SessionItem(interview.Session{ID: id, OwnerID: "bench", Title: "bench", TopicIDs: []string{"t"}, InterviewerID: "i",
				Status: st, Version: 1, CreatedAt: t0, UpdatedAt: t0, RecentMessages: []byte(`[{"id":"m1","output":{"text":"hello"}}]`)}))
		}
		if err != nil {
			return nil, err
		}
	}
	return ids, flush()
}

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
		h.NsPerOp, h.CPUµsPerOp, h.SDK.CPUµsPerOp = medianOf(r.ns), medianOf(r.cpu), medianOf(r.sdk)
		var diffs, shares []float64
		for j := range min(len(r.cpu), len(r.sdk)) {
			diffs = append(diffs, r.cpu[j]-r.sdk[j])
			shares = append(shares, (r.cpu[j]-r.sdk[j])/r.sdk[j])
		}
		h.OverheadµsPerOp, h.Overhead = medianOf(diffs), medianOf(shares)
	}
	return hs
}

// medianOf is the median of xs (the mean of the middle two of an even count), 0 for none.
func medianOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
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
	ok := func(pass bool) string {
		if pass {
			return "ok"
		}
		return "MISSED"
	}
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
				n := r.RequestsCall[rt.Name]
				calls = fmt.Sprintf("%.2f (≤ %.0f) %s", n, RequestsTarget(rt.Name), ok(n <= RequestsTarget(rt.Name)))
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %.2f %s | %s |\n", rt.Name, rt.Concurrency, ms(rt.P50), ms(rt.P99), ms(rt.BareP50), ms(rt.BareP99), ratio, ok(ratio <= LatencyTarget), calls)
		}
	}
	if len(r.Units) > 0 {
		unitsTable(&b, r.Units)
	}
	b.WriteString(liveTable(r.Live, ok))
	return b.String()
}
