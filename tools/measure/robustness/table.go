package robustness

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Table renders the report as a Markdown table, violations after it.
func (r Report) Table() string {
	var b strings.Builder
	row := func(k string, v any) { fmt.Fprintf(&b, "| %-52s | %16v |\n", k, v) }
	breakdown := func(title string, m map[string]int) {
		total := 0
		for _, n := range m {
			total += n
		}
		row(title, total)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			row("  "+k, m[k])
		}
	}
	fmt.Fprintf(&b, "| %-52s | %16s |\n|%s|%s|\n", "measure", "value", strings.Repeat("-", 54), strings.Repeat("-", 18))
	o := r.Options
	row("clients", o.Clients)
	groups := (o.Jobs + bookingGroup - 1) / bookingGroup
	row("entities (sessions + jobs, technicians)", fmt.Sprintf("%d + %d, %d", o.Sessions, o.Jobs, groups*o.Technicians))
	if o.Duration > 0 {
		row("rounds (new entities each)", r.Rounds)
		row("rate asked (requests/s)", o.Rate)
		if secs := r.Load.Seconds(); secs > 0 {
			row("rate reached (requests/s)", fmt.Sprintf("%.1f", float64(r.Requests)/secs))
		}
	}
	row("fault rate per DynamoDB/EventBridge request", fmt.Sprintf("%.0f%%", o.FaultRate*100))
	functions := "in process"
	if o.Bootstraps {
		functions = "real bootstraps"
	}
	row("functions", functions)
	row("crash rate per invocation (HTTP / publisher)", fmt.Sprintf("%.0f%% / %.0f%%", o.CrashRate*100, o.PublisherCrashRate*100))
	row("logical requests", r.Requests)
	row("HTTP attempts (client retries)", fmt.Sprintf("%d (%d)", r.Attempts, r.ClientRetries))
	breakdown("final answers", r.Outcomes)
	breakdown("job requests' final answers", r.JobAnswers)
	breakdown("timers fired by the scheduler (pauses until a time)", r.Timers)
	row("answers that said nothing (crash, 503, connection)", r.Lost)
	breakdown("faults injected", r.Faults)
	breakdown("sandboxes killed (SIGKILL)", r.Crashes)
	row("sandboxes started (cold starts)", r.ColdStarts)
	row("transitions committed", r.Committed)
	breakdown("bookings committed", r.Bookings)
	row("slots booked at the end (quarter-hours)", r.Slots)
	row("events in the audit table (one per eventId)", r.Events)
	row("event entries the bus accepted (copies included)", r.BusAccepted)
	row("events the bus accepted more than once", r.BusTwice)
	row("repeated deliveries the audit consumer ignored", r.AuditRepeats)
	row("stream records given up to the failure queue", r.GivenUp)
	row("operations checked for linearizability", r.Operations)
	row("  attempts left out (said nothing, never committed)", r.LeftOut)
	row("linearizable (porcupine)", r.Linearizable)
	row("check time", r.CheckTime.Round(time.Millisecond))
	if n := len(r.Memory); n > 0 {
		memory := func(what string, of func(MemorySample) int64) {
			row(what+", first → last sample (MiB)", fmt.Sprintf("%.1f → %.1f", mib(of(r.Memory[0])), mib(of(r.Memory[n-1]))))
		}
		memory("harness RSS", func(m MemorySample) int64 { return m.RSS })
		memory("harness live Go heap", func(m MemorySample) int64 { return m.Heap })
		row("harness goroutines, first → last sample", fmt.Sprintf("%d → %d", r.Memory[0].Goroutines, r.Memory[n-1].Goroutines))
		if o.Bootstraps {
			memory("live sandboxes' RSS", func(m MemorySample) int64 { return m.Sandboxes })
		}
	}
	row("violations", len(r.Violations))
	row("load (first request to last answer)", r.Load.Round(time.Millisecond))
	row("duration", r.Duration.Round(time.Millisecond))
	if len(r.Memory) > 2 {
		b.WriteString("\nharness RSS / live heap (MiB) / goroutines at each sample:")
		for _, m := range r.Memory {
			fmt.Fprintf(&b, " %.0f/%.1f/%d", mib(m.RSS), mib(m.Heap), m.Goroutines)
		}
		b.WriteString("\n")
	}
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "VIOLATION: %s\n", v)
	}
	if len(r.Traces) > 0 {
		b.WriteString("\nThe requests behind them: each HTTP attempt, and under it the DynamoDB requests made for it (the fault each met: what DynamoDB did)\n")
		for _, t := range r.Traces {
			b.WriteString(t)
		}
	}
	return b.String()
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
