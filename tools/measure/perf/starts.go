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
	for name, pkg := range pkgs {
		for _, arch := range []string{"arm64", "amd64"} {
			out := filepath.Join(bin, arch, name, "bootstrap")
			if prebuilt != "" && name != "hello" {
				// Only hello-world is built; the functions are measured as given.
				b, err := os.ReadFile(filepath.Join(prebuilt, arch, name, "bootstrap"))
				if err == nil {
					_ = os.MkdirAll(filepath.Dir(out), 0o755)
					err = os.WriteFile(out, b, 0o755)
				}
				if err != nil {
					return err
				}
				continue
			}
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
	size := func(name string) int64 {
		st, _ := os.Stat(filepath.Join(bin, "arm64", name, "bootstrap"))
		return st.Size()
	}
	// Cold starts: rounds in which hello-world and every function start once with each of
	// its events, so each ratio compares starts made under the same conditions.
	type start struct {
		name    string
		payload []byte
		samples []time.Duration
	}
	all := []*start{{name: "hello", payload: []byte(`{}`)}}
	events := coldStartEvents(root)
	for _, n := range names {
		for _, ev := range events[n] { // without I/O, then with
			s := &start{name: n, payload: []byte(`{}`)}
			if ev != "" {
				var err error
				if s.payload, err = os.ReadFile(ev); err != nil {
					return err
				}
			}
			all = append(all, s)
		}
	}
	progress("cold starts: %d rounds of hello-world and every function", starts)
	order := slices.Clone(all)
	rng := rand.New(rand.NewPCG(1, 2))
	for range starts {
		// A new order each round, so no function always starts right after another.
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, s := range order {
			rt, err := lambdaruntime.Start(lambdaruntime.Options{Bootstrap: filepath.Join(bin, "amd64", s.name, "bootstrap"), Name: s.name, Env: env, Output: io.Discard})
			if err != nil {
				return err
			}
			if _, err := rt.Invoke(ctx, s.payload); err != nil {
				rt.Stop()
				return fmt.Errorf("%s: %w", s.name, err)
			}
			s.samples = append(s.samples, time.Since(rt.Started))
			rt.Stop()
		}
	}
	var err error
	rep.Hello = Function{Name: "hello-world", ColdStart: median(all[0].samples), SizeARM64: size("hello")}
	if rep.Hello.PeakRSS, err = serve("hello", bin, env, `{}`, 200); err != nil {
		return err
	}
	for i, n := range names {
		noIO, withIO := all[1+2*i], all[2+2*i]
		f := Function{Name: n, SizeARM64: size(n), ColdStart: median(noIO.samples), ColdStartIO: median(withIO.samples)}
		if f.PeakRSS, err = serve(n, bin, env, string(withIO.payload), 500); err != nil {
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
