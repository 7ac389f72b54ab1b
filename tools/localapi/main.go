// Command localapi is the local stack: `localapi serve` starts DynamoDB Local, loads the
// demo data and serves every route on 127.0.0.1:3000 through the real handlers;
// `localapi token` mints a dev token. The Makefile's `run` and `token` targets call it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/logging"
	"github.com/lifecycle-api/lifecycle/tools/bench"
	"github.com/lifecycle-api/lifecycle/tools/ddblocal"
	"github.com/lifecycle-api/lifecycle/tools/demo"
	"github.com/lifecycle-api/lifecycle/tools/devauth"
	"github.com/lifecycle-api/lifecycle/tools/eventfeed"
	"github.com/lifecycle-api/lifecycle/tools/lambdart"
	"github.com/lifecycle-api/lifecycle/tools/localstack"
	"github.com/lifecycle-api/lifecycle/tools/reliability"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: localapi serve|token|events|invoke|reliability|bench [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "token":
		err = token(os.Args[2:])
	case "events":
		err = events(os.Args[2:])
	case "invoke":
		err = invoke(os.Args[2:])
	case "reliability":
		err = reliabilityRun(os.Args[2:])
	case "bench":
		err = benchRun(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (want serve, token, events, invoke, reliability or bench)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "localapi:", err)
		os.Exit(1)
	}
}

// loadKey returns the dev signing key from $LIFECYCLE_DEV_KEY_FILE, else from
// .local/dev-signing-key at the repository root, creating it on first use.
func loadKey() ([]byte, error) {
	path := os.Getenv("LIFECYCLE_DEV_KEY_FILE")
	if path == "" {
		root, err := ddblocal.RepoRoot()
		if err != nil {
			return nil, err
		}
		path = filepath.Join(root, ".local", "dev-signing-key")
	}
	return devauth.LoadOrCreateKey(path)
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	sub := fs.String("sub", "", "subject (user id)")
	roles := fs.String("roles", "", "comma-separated roles, e.g. Dispatcher,Admin")
	ttl := fs.Duration("ttl", 12*time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sub == "" {
		return errors.New("token: -sub is required (make token SUB=alice)")
	}
	key, err := loadKey()
	if err != nil {
		return err
	}
	tok, err := devauth.Mint(key, *sub, splitRoles(*roles), *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

func splitRoles(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3000", "listen address (loopback only)")
	table := fs.String("table", "lifecycle-local", "table name")
	logLevel := fs.String("log-level", "info", "function log level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("-addr must be a loopback address, got %q", *addr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, err := ddblocal.RepoRoot()
	if err != nil {
		return err
	}
	key, err := loadKey()
	if err != nil {
		return err
	}
	logger := logging.New(os.Stderr, *logLevel)
	stack, err := localstack.Start(ctx, localstack.Options{
		Table:      *table,
		AuditTable: *table + "-audit",
		LogDir:     filepath.Join(root, ".local"),
		Logger:     logger,
		Verify:     func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
		Progress:   os.Stdout,
		Docs:       true,
		Mint: func(sub string, roles []string, ttl time.Duration, now time.Time) (string, error) {
			return devauth.Mint(key, sub, roles, ttl, now)
		},
	})
	if err != nil {
		return err
	}
	defer stack.Close()

	// make invoke runs functions against this stack while it is up.
	info, _ := json.Marshal(stack.Info)
	infoPath := filepath.Join(root, ".local", "stack.json")
	if err := os.WriteFile(infoPath, info, 0o600); err != nil {
		return err
	}
	defer os.Remove(infoPath)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another `make run` running?)", *addr, err)
	}
	srv := &http.Server{Handler: stack.Handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	printBanner(*addr, stack, *table, key)

	select {
	case <-ctx.Done():
		fmt.Println("\n==> stopping")
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// events prints the events the running local stack received on its example queues.
func events(args []string) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3000", "the local API's address")
	asJSON := fs.Bool("json", false, "print each event's full detail")
	if err := fs.Parse(args); err != nil {
		return err
	}
	resp, err := http.Get("http://" + *addr + "/_local/events")
	if err != nil {
		return fmt.Errorf("%w: %v", localstack.ErrNotRunning, err)
	}
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
		fmt.Printf("%s  %-18s %s  %s -> %s  v%d  by %s  eventId=%s  correlationId=%s  (%s)\n",
			e.Time.UTC().Format(time.RFC3339), e.DetailType, d.SessionID+d.JobID, d.PreviousStatus, d.Status, d.Version, d.Actor.Sub, d.EventID, d.CorrelationID, e.Queue)
	}
	return nil
}

func printBanner(addr string, stack *localstack.Stack, table string, key []byte) {
	base := "http://" + addr
	fmt.Printf("\nlifecycle local API ready on %s (DynamoDB Local %s, table %s; moto %s, bus %s)\n\n",
		base, stack.DynamoDBEndpoint, table, stack.MotoEndpoint, stack.Events.BusName)
	fmt.Printf("Console: %s/console (sign in as a demo user; pause, resume and cancel, and watch the events)\n", base)
	fmt.Printf("API docs: %s/docs (the document itself: %s/openapi.yaml)\n\n", base, base)
	fmt.Println("Dev tokens (valid 12h; `make token SUB=<sub> ROLES=<r1,r2>` mints others):")
	for _, u := range demo.Users {
		tok, err := devauth.Mint(key, u.Sub, u.Roles, 12*time.Hour, time.Now())
		if err != nil {
			continue
		}
		fmt.Printf("  # %s: %s\n  export %s_TOKEN=%s\n", u.Sub, u.About, strings.ToUpper(u.Sub), tok)
	}
	fmt.Printf(`
Try (after the exports above):
  # cancel alice's active session with a reason -> 200 {"success":true,...}
  curl -s -X POST %[1]s/interviews/%[2]s/cancel -H "Authorization: Bearer $ALICE_TOKEN" -H 'Content-Type: application/json' -d '{"reason":"Candidate asked to reschedule"}'
  # the same again -> 400 {"error":"Interview is already cancelled"}
  curl -s -X POST %[1]s/interviews/%[2]s/cancel -H "Authorization: Bearer $ALICE_TOKEN"
  # a completed session, on seed 000's path -> 400 {"error":"Cannot cancel a completed interview"}
  curl -s -X POST %[1]s/api/interview/%[3]s/cancel -H "Authorization: Bearer $ALICE_TOKEN"
  # bob's session with alice's token -> 403 {"error":"Forbidden"}
  curl -s -X POST %[1]s/api/interviews/%[4]s/cancel -H "Authorization: Bearer $ALICE_TOKEN"
  # an unknown session -> 404 {"error":"Interview session not found"}
  curl -s -X POST %[1]s/interviews/%[5]s/cancel -H "Authorization: Bearer $ALICE_TOKEN"
  # no token -> 401 {"error":"Unauthorized"}
  curl -s -X POST %[1]s/interviews/%[2]s/cancel

  # pause and resume alice's session %[6]s:
  curl -s "%[1]s/interviews?status=paused" -H "Authorization: Bearer $ALICE_TOKEN"          # her paused sessions
  curl -s -X POST %[1]s/interviews/%[6]s/pause -H "Authorization: Bearer $ALICE_TOKEN"     # 200, "status":"paused"
  curl -s -X POST %[1]s/interviews/%[6]s/pause -H "Authorization: Bearer $ALICE_TOKEN"     # 404, "code":"INVALID_TRANSITION"
  curl -s -X POST %[1]s/interviews/%[6]s/resume -H "Authorization: Bearer $ALICE_TOKEN"    # 200, "status":"active"
  curl -s -X POST %[1]s/interviews/%[6]s/cancel -H "Authorization: Bearer $ALICE_TOKEN"    # 200
  curl -s -X POST %[1]s/interviews/%[6]s/resume -H "Authorization: Bearer $ALICE_TOKEN"    # 404, "currentStatus":"cancelled"
  curl -s %[1]s/interviews/%[6]s -H "Authorization: Bearer $ALICE_TOKEN"                   # the session
  curl -s "%[1]s/interviews?limit=2" -H "Authorization: Bearer $ALICE_TOKEN"               # first page; pass nextCursor as &cursor=

  # jobs (dana is a Dispatcher, adam an Admin, tom a Technician):
  curl -s %[1]s/jobs/%[7]s -H "Authorization: Bearer $DANA_TOKEN"                         # an assigned job, its assignment Confirmed
  curl -s -X POST %[1]s/jobs/%[7]s/cancel -H "Authorization: Bearer $DANA_TOKEN" -H 'Content-Type: application/json' -d '{"reason":"Customer cancelled"}'   # 200, job and assignment Cancelled
  curl -s -X POST %[1]s/jobs/%[8]s/cancel -H "Authorization: Bearer $TOM_TOKEN"           # 403 {"error":"Forbidden"}
  curl -s -X POST %[1]s/jobs/%[9]s/cancel -H "Authorization: Bearer $DANA_TOKEN"          # 400 {"error":"Cannot cancel a completed job"}

Events: every transition is published from the table's stream to the bus; the example
queues' events appear with "make events" (or GET %[1]s/_local/events).

Press Ctrl-C to stop (DynamoDB Local and moto stop with it).
`, base, demo.AliceActive, demo.AliceCompleted, demo.BobActive, demo.MissingSession, demo.AliceActive2, demo.JobAssignedConfirmed, demo.JobAssignedPending, demo.JobCompleted)
}

// invoke runs one function's real bootstrap under the Lambda Runtime API with an event
// file, against the running `make run` stack when there is one (so its effects show
// there), else against a fresh stack with the demo data, and prints the function's
// response (its logs go to stderr).
func invoke(args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fn := fs.String("fn", "", "function name (a folder of functions/)")
	eventFile := fs.String("event", "", "event file (see events/<fn>/)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fn == "" || *eventFile == "" {
		return errors.New("invoke: -fn and -event are required (make invoke FN=cancel-interview EVENT=events/cancel-interview/200-cancelled.json)")
	}
	root, err := ddblocal.RepoRoot()
	if err != nil {
		return err
	}
	event, err := os.ReadFile(*eventFile)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var info localstack.Info
	if raw, err := os.ReadFile(filepath.Join(root, ".local", "stack.json")); err == nil && json.Unmarshal(raw, &info) == nil && reachable(info.DynamoDB) {
		fmt.Fprintf(os.Stderr, "==> invoking against the running make run stack (%s)\n", info.DynamoDB)
	} else {
		fmt.Fprintln(os.Stderr, "==> no make run stack is up: starting a fresh one with the demo data")
		key, err := loadKey()
		if err != nil {
			return err
		}
		stack, err := localstack.Start(ctx, localstack.Options{
			Table: "lifecycle-invoke", AuditTable: "lifecycle-invoke-audit", LogDir: filepath.Join(root, ".local", "invoke"),
			Logger: logging.New(io.Discard, "error"), Progress: os.Stderr,
			Verify: func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
		})
		if err != nil {
			return err
		}
		defer stack.Close()
		info = stack.Info
	}
	rt, err := lambdart.Start(lambdart.Options{
		Bootstrap: filepath.Join(root, "bin", "amd64", *fn, "bootstrap"),
		Name:      *fn,
		Env:       append(info.Env(), "LOG_LEVEL=debug"),
		Output:    os.Stderr,
	})
	if err != nil {
		return err
	}
	defer rt.Stop()
	res, err := rt.Invoke(ctx, event)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "==> %s answered in %s\n", *fn, res.Duration.Round(time.Microsecond))
	out := res.Payload
	if res.Error != nil {
		out = res.Error
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") == nil {
		out = pretty.Bytes()
	}
	fmt.Println(string(out))
	if res.Error != nil {
		return errors.New("the function returned an error")
	}
	return nil
}

func reachable(endpoint string) bool {
	host := strings.TrimPrefix(endpoint, "http://")
	conn, err := net.DialTimeout("tcp", host, 300*time.Millisecond)
	if err == nil {
		conn.Close()
	}
	return err == nil
}

// reliabilityRun is `make reliability`: concurrent random transitions under injected
// faults, checked against what was committed and published; it prints the report and
// fails when anything was violated.
func reliabilityRun(args []string) error {
	fs := flag.NewFlagSet("reliability", flag.ContinueOnError)
	o := reliability.Options{Progress: os.Stderr}
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
	rep, err := reliability.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Print(rep.Table())
	if len(rep.Violations) > 0 {
		return fmt.Errorf("%d violations", len(rep.Violations))
	}
	return nil
}

// benchRun is `make bench`: one table of cold start, footprint, handler cost, latency and
// DynamoDB requests per call, each against its target.
func benchRun(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := bench.Options{Progress: os.Stderr}
	fs.IntVar(&o.Starts, "starts", 61, "rounds of cold starts (the median is reported)")
	fs.IntVar(&o.Requests, "requests", 800, "requests per latency measurement")
	fs.StringVar(&o.Prebuilt, "prebuilt", "", "measure the bootstraps in this folder (<arch>/<function>/bootstrap) instead of building them")
	out := fs.String("out", "", "also write the table to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, o)
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
