package perf

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/lambdaruntime"
)

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
