// Command run is `make run`: it starts the local stack (moto's DynamoDB with the demo data,
// moto's EventBridge and SQS with the event plumbing, the stream publisher and the example consumer) and serves
// every route, the console at /console and the API docs at /docs on 127.0.0.1:3000.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/logging"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/samlocal"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3000", "listen address (loopback only)")
	table := fs.String("table", "lifecycle-local", "table name")
	logLevel := fs.String("log-level", "info", "function log level")
	corsOrigins := fs.String("cors-origins", "", "comma-separated origins the API admits cross-origin calls from, as the CorsAllowedOrigins parameter does in AWS")
	startedAt := fs.Int64("started", 0, "when set-up began, in Unix milliseconds (the Makefile passes when `make run` started, so the ready line counts the tools' set-up too)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	started := time.Now()
	if *startedAt > 0 {
		started = time.UnixMilli(*startedAt)
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("-addr must be a loopback address, got %q", *addr)
	}
	// The address first: a second `make run` learns at once that the port is taken, before
	// it starts moto and the stack for nothing.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another `make run` running? make run PORT=3100 uses another port)", *addr, err)
	}
	defer ln.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, err := repo.Root()
	if err != nil {
		return err
	}
	key, err := devauth.CheckoutKey()
	if err != nil {
		return err
	}
	logger := logging.New(os.Stderr, *logLevel)
	st, err := stack.Start(ctx, stack.Options{
		Table:       *table,
		AuditTable:  *table + "-audit",
		LogDir:      filepath.Join(root, ".local"),
		Logger:      logger,
		Verify:      func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
		Progress:    os.Stdout,
		Docs:        true,
		CORSOrigins: strings.FieldsFunc(*corsOrigins, func(r rune) bool { return r == ',' || r == ' ' }),
		Mint: func(sub string, roles []string, ttl time.Duration, now time.Time) (string, error) {
			return devauth.Mint(key, sub, roles, ttl, now)
		},
	})
	if err != nil {
		return err
	}
	defer st.Close()

	// sam local runs functions against it too, in Docker containers, through relays on
	// Docker's bridge and the variables of .local/sam-env.json.
	samEnv, closeSAM := samEnvFile(root, st.Info)
	defer closeSAM()

	srv := &http.Server{Handler: st.Handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	// make invoke, make events and make reset find this stack through this file.
	st.Info.API = "http://" + *addr
	info, _ := json.Marshal(st.Info)
	infoPath, err := stack.InfoFile()
	if err != nil {
		return err
	}
	if err := os.WriteFile(infoPath, info, 0o600); err != nil {
		return err
	}
	defer os.Remove(infoPath)

	printBanner(*addr, st, *table, key, samEnv)
	fmt.Printf("\n==> READY: the lifecycle local API is serving on %s (set-up took %s). Console: %s/console. Ctrl-C stops it.\n",
		st.Info.API, time.Since(started).Round(100*time.Millisecond), st.Info.API)

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

// samEnvFile exposes the stack on Docker's bridge, when this machine has one, and writes
// the --env-vars file `sam local invoke` needs to use it. It returns the banner's line
// about it and what stops the relays.
func samEnvFile(root string, info stack.Info) (string, func()) {
	bridge, err := samlocal.Expose(info)
	if err != nil {
		return fmt.Sprintf("sam local: %v; once Docker runs, restart make run (or use make sam-invoke, which starts Docker)", err), func() {}
	}
	path := filepath.Join(root, samlocal.EnvFilePath)
	vars, err := bridge.Vars(info)
	if err == nil {
		err = samlocal.EnvFile{samlocal.ForEveryFunction: vars}.Write(path)
	}
	if err != nil {
		bridge.Close()
		return fmt.Sprintf("sam local: %v", err), func() {}
	}
	return fmt.Sprintf("sam local: the functions in Docker reach this stack through %s (moto: DynamoDB) and %s (moto: EventBridge, SQS) on Docker's bridge with --env-vars %s (docs/local.md: sam local)",
			bridge.DynamoDB, bridge.Moto, samlocal.EnvFilePath), func() {
			bridge.Close()
			os.Remove(path)
		}
}

func printBanner(addr string, st *stack.Stack, table string, key []byte, samLine string) {
	base := "http://" + addr
	fmt.Printf("\nlifecycle local API on %s (DynamoDB on moto %s, table %s; EventBridge and SQS on moto %s, bus %s)\n\n",
		base, st.Info.DynamoDB, table, st.Info.Moto, st.Info.Bus)
	fmt.Printf("Console: %s/console (sign in as a demo user; pause, resume and cancel, and watch the events)\n", base)
	fmt.Printf("Live updates: ws://%s/live (the console's channel; tickets from POST %s/api/live/tickets)\n", addr, base)
	fmt.Printf("API docs: %s/docs (the document itself: %s/openapi.yaml)\n\n", base, base)
	fmt.Println("Dev tokens (valid 12h; `make token SUB=<sub> ROLES=<r1,r2>` mints others):")
	for _, u := range demodata.Users {
		tok, err := devauth.Mint(key, u.Sub, u.Roles, 12*time.Hour, time.Now())
		if err != nil {
			continue
		}
		fmt.Printf("  # %s: %s\n  export %s_TOKEN=%s\n", u.Sub, u.About, strings.ToUpper(u.Sub), tok)
	}
	fmt.Printf(`
Live updates: open %[1]s/console as alice, then pause one of her sessions from here;
its card turns "paused" and the event shows in the page's feed within a second, no reload:
  curl -s -X POST %[1]s/interviews/%[6]s/pause -H "Authorization: Bearer $ALICE_TOKEN"

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
"make reset" (or the console's "Reset demo data") puts the demo data back as it started.

%[10]s

Ctrl-C stops everything (both moto servers stop with it).
`, base, demodata.AliceActive, demodata.AliceCompleted, demodata.BobActive, demodata.MissingSession, demodata.AliceActive2, demodata.JobAssignedConfirmed, demodata.JobAssignedPending, demodata.JobCompleted, samLine)
}
