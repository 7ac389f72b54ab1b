// Command localapi is the local stack: `localapi serve` starts DynamoDB Local, loads the
// demo data and serves every route on 127.0.0.1:3000 through the real handlers;
// `localapi token` mints a dev token. The Makefile's `run` and `token` targets call it.
package main

import (
	"context"
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

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/logging"
	"github.com/lifecycle-api/lifecycle/tools/ddblocal"
	"github.com/lifecycle-api/lifecycle/tools/demo"
	"github.com/lifecycle-api/lifecycle/tools/devauth"
	"github.com/lifecycle-api/lifecycle/tools/devserver"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: localapi serve|token [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "token":
		err = token(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (want serve or token)", os.Args[1])
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
	localDir := filepath.Join(root, ".local")
	if err := os.MkdirAll(localDir, 0o700); err != nil {
		return err
	}
	ddbLog, err := os.Create(filepath.Join(localDir, "dynamodb-local.log"))
	if err != nil {
		return err
	}
	defer ddbLog.Close()

	dir, err := ddblocal.Dir()
	if err != nil {
		return err
	}
	fmt.Println("==> starting DynamoDB Local (in memory, loopback only)")
	ddb, err := ddblocal.Start(ctx, dir, ddbLog)
	if err != nil {
		return err
	}
	defer ddb.Stop()
	// Local mode never talks to a real account: fake credentials, a fixed region, and the
	// endpoint of the DynamoDB Local we just started.
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "us-east-1"} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_ENDPOINT_URL_DYNAMODB", ddb.Endpoint)

	db, err := dynamo.NewClient(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("==> creating table %s and loading demo data\n", *table)
	if err := demo.Load(ctx, db, *table); err != nil {
		return err
	}

	key, err := loadKey()
	if err != nil {
		return err
	}
	logger := logging.New(os.Stderr, *logLevel)
	handler, err := devserver.New(devserver.Config{
		Logger: logger,
		DB:     db,
		Table:  *table,
		Now:    time.Now,
		Verify: func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another `make run` running?)", *addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	printBanner(*addr, ddb.Endpoint, *table, key)

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

func printBanner(addr, ddbEndpoint, table string, key []byte) {
	base := "http://" + addr
	fmt.Printf("\nlifecycle local API ready on %s (DynamoDB Local %s, table %s)\n\n", base, ddbEndpoint, table)
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

Press Ctrl-C to stop (DynamoDB Local stops with it).
`, base, demo.AliceActive, demo.AliceCompleted, demo.BobActive, demo.MissingSession, demo.AliceActive2, demo.JobAssignedConfirmed, demo.JobAssignedPending, demo.JobCompleted)
}
