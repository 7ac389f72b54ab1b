// Command bench is `make bench`: cold start, footprint, handler cost, latency against the
// bare DynamoDB write and requests per call, measured in one run and printed as one table.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lifecycle-api/lifecycle/tools/measure/perf"
)

func main() {
	if err := benchRun(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func benchRun(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := perf.Options{Progress: os.Stderr}
	fs.IntVar(&o.Starts, "starts", 61, "rounds of cold starts (the median is reported)")
	fs.IntVar(&o.Requests, "requests", 800, "requests per latency measurement")
	fs.StringVar(&o.Prebuilt, "prebuilt", "", "measure the bootstraps in this folder (<arch>/<function>/bootstrap) instead of building them")
	out := fs.String("out", "", "also write the table to this file")
	only := fs.String("only", "", "run only these parts, comma-separated: starts, cpu, latency, units, live")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := perf.Run(ctx, o)
	if err != nil {
		return err
	}
	table := rep.Table()
	fmt.Print(table)
	if *out != "" {
		return os.WriteFile(*out, []byte(table), 0o644)
	}
	return nil
}
