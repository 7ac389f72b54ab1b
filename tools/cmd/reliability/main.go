// Command reliability is `make reliability`: concurrent random transitions through the
// local API under injected faults, checked against what was committed and published.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/lifecycle-api/lifecycle/tools/measure/robustness"
)

func main() {
	if err := reliabilityRun(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
}

// reliabilityRun is `make reliability`: concurrent random transitions under injected
// faults, checked against what was committed and published; it prints the report and
// fails when anything was violated.
func reliabilityRun(args []string) error {
	fs := flag.NewFlagSet("reliability", flag.ContinueOnError)
	o := robustness.Options{Progress: os.Stderr}
	fs.IntVar(&o.Clients, "clients", 32, "concurrent clients")
	fs.IntVar(&o.Requests, "requests", 3000, "logical requests")
	fs.IntVar(&o.Sessions, "sessions", 64, "interview sessions hammered")
	fs.IntVar(&o.Jobs, "jobs", 8, "jobs hammered")
	fs.Float64Var(&o.FaultRate, "fault-rate", 0.05, "chance of a fault per DynamoDB/EventBridge request")
	fs.IntVar(&o.ClientRetries, "client-retries", 5, "client retries of a 503, with the same Idempotency-Key")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Seed = *seed
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := robustness.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Print(rep.Table())
	if len(rep.Violations) > 0 {
		return fmt.Errorf("%d violations", len(rep.Violations))
	}
	return nil
}
