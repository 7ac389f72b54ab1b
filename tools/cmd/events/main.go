// Command events is `make events`: it prints the events the running `make run` received on
// its example queues, newest first.
package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/eventfeed"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
)

func main() {
	if err := events(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
}

func events(args []string) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	addr := fs.String("addr", "", "the local API's address (default: the running `make run`, whatever its port)")
	asJSON := fs.Bool("json", false, "print each event's full detail")
	if err := fs.Parse(args); err != nil {
		return err
	}
	api := "http://" + *addr
	if *addr == "" {
		info, err := stack.Running()
		if err != nil {
			return err
		}
		api = info.API
	}
	resp, err := http.Get(api + "/_local/events")
	if err != nil {
		return fmt.Errorf("%w: %v", stack.ErrNotRunning, err)
	}
	fmt.Fprintf(os.Stderr, "==> events received by the local stack at %s\n", api)
	defer resp.Body.Close()
	var body struct {
		Events []eventfeed.Received `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return err
	}
	if len(body.Events) == 0 {
		fmt.Println("no events yet: cancel, pause or resume something, then run this again")
		return nil
	}
	// The detail-type column as wide as the longest shown.
	width := 0
	for _, e := range body.Events {
		width = max(width, len(e.DetailType))
	}
	for _, e := range body.Events {
		if *asJSON {
			b, _ := json.Marshal(e)
			fmt.Println(string(b))
			continue
		}
		var d struct {
			EventID        string `json:"eventId"`
			SessionID      string `json:"sessionId"`
			JobID          string `json:"jobId"`
			PreviousStatus string `json:"previousStatus"`
			Status         string `json:"status"`
			Version        int64  `json:"version"`
			CorrelationID  string `json:"correlationId"`
			Actor          struct {
				Sub string `json:"sub"`
			} `json:"actor"`
		}
		_ = json.Unmarshal(e.Detail, &d)
		// A creation has no previous status: it is shown as "new".
		fmt.Printf("%s  %-*s  %s  %s -> %s  v%d  by %s  eventId=%s  correlationId=%s  (%s)\n",
			e.Time.UTC().Format(time.RFC3339), width, e.DetailType, d.SessionID+d.JobID, cmp.Or(d.PreviousStatus, "new"), d.Status, d.Version, d.Actor.Sub, d.EventID, d.CorrelationID, e.Queue)
	}
	return nil
}
