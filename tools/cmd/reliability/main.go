// Command reliability is `make reliability` and `make soak`: concurrent random transitions
// through the local API under injected faults and crashes of the real bootstraps, checked
// for linearizability and against what was committed and published.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/measure/robustness"
)

func main() {
	if err := reliabilityRun(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
}

// reliabilityRun runs a fixed number of requests, or with -duration a soak that prints the
// table after every round; it fails when anything was violated.
func reliabilityRun(args []string) error {
	fs := flag.NewFlagSet("reliability", flag.ContinueOnError)
	o := robustness.Options{Progress: os.Stderr}
	fs.IntVar(&o.Clients, "clients", 32, "concurrent clients")
	fs.IntVar(&o.Requests, "requests", 3000, "logical requests (a fixed run)")
	fs.IntVar(&o.Sessions, "sessions", 64, "interview sessions hammered (per round in a soak)")
	fs.IntVar(&o.Jobs, "jobs", 8, "jobs hammered (per round in a soak)")
	fs.IntVar(&o.Technicians, "technicians", 2, "technicians each group of up to 4 jobs is assigned, reassigned and rescheduled onto (per round in a soak); 0: the jobs are only cancelled")
	fs.Float64Var(&o.FaultRate, "fault-rate", 0.05, "chance of a fault per DynamoDB/EventBridge request")
	fs.IntVar(&o.ClientRetries, "client-retries", 5, "client retries of an answer that says nothing (503, failed invocation, no answer), with the same Idempotency-Key")
	fs.BoolVar(&o.Bootstraps, "bootstraps", true, "run the load's functions and the publisher as their real bootstraps (bin/amd64) under the Runtime API")
	fs.Float64Var(&o.CrashRate, "crash-rate", 0.02, "chance an HTTP function's invocation is killed (SIGKILL) before or after its write")
	fs.Float64Var(&o.PublisherCrashRate, "publisher-crash-rate", 0.25, "chance a publisher invocation is killed at one of its PutEvents calls")
	fs.DurationVar(&o.BatchWindow, "batch-window", time.Second, "how long stream records gather before the publisher gets them")
	fs.DurationVar(&o.Duration, "duration", 0, "soak: run for this long at -rate instead of a fixed number of requests")
	fs.Float64Var(&o.Rate, "rate", 10, "soak: requests a second")
	fs.DurationVar(&o.Round, "round", time.Minute, "soak: how long the load stays on one set of entities before it is checked and reported")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Seed = *seed
	if !o.Bootstraps {
		o.CrashRate, o.PublisherCrashRate = 0, 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var rep robustness.Report
	var err error
	if o.Duration > 0 {
		rep, err = robustness.Soak(ctx, o, func(r robustness.Report) {
			fmt.Printf("\n%s after %s (%d rounds checked)\n\n%s", time.Now().Format(time.TimeOnly), r.Duration.Round(time.Second), r.Rounds, r.Table())
		})
		fmt.Printf("\nsoak over\n\n")
	} else {
		rep, err = robustness.Run(ctx, o)
	}
	if err != nil {
		return err
	}
	fmt.Print(rep.Table())
	if len(rep.Violations) > 0 {
		return fmt.Errorf("%d violations", len(rep.Violations))
	}
	return nil
}
