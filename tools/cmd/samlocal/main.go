// Command samlocal is `make sam-invoke` and `make sam-api`: the real SAM CLI runs the
// functions in Docker over a local stack (the running `make run` one, else a fresh one
// with the demo data). It starts a Docker engine when none runs (and stops it at the end),
// builds the functions for this machine with `sam build`, and writes the --env-vars file
// that points them at the stack.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/samlocal"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "samlocal:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || (args[0] != "invoke" && args[0] != "api") {
		return errors.New("usage: samlocal invoke -fn <function> -event <events/...json> | samlocal api [-port 3001]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fn := fs.String("fn", "", "function name (a folder of functions/)")
	eventFile := fs.String("event", "", "event file (see events/<fn>/)")
	port := fs.Int("port", 3001, "start-api's port on 127.0.0.1")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if args[0] == "invoke" && (*fn == "" || *eventFile == "") {
		return errors.New("-fn and -event are required (make sam-invoke FN=cancel-interview EVENT=events/cancel-interview/200-cancelled.json)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, done, err := prepare(ctx)
	if err != nil {
		return err
	}
	defer done()
	if args[0] == "api" {
		srv, err := l.Serve(ctx, "start-api", *port, os.Stderr, 5*time.Minute, "--warm-containers", "LAZY")
		if err != nil {
			return err
		}
		defer srv.Stop()
		fmt.Fprintf(os.Stderr, "==> sam local start-api serves %s (Ctrl-C stops). SAM does not run the JWT authorizer: every route answers 401 (docs/local.md: sam local)\n", srv.Endpoint)
		select {
		case <-ctx.Done():
			return nil
		case <-srv.Exited():
			return errors.New("sam local start-api stopped")
		}
	}
	fmt.Fprintf(os.Stderr, "==> sam local invoke %s -e %s\n", samlocal.LogicalID(*fn), *eventFile)
	started := time.Now()
	cmd := l.Command(ctx, "invoke", samlocal.LogicalID(*fn), "--event", *eventFile)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	fmt.Fprintf(os.Stderr, "\n==> sam local invoke took %s\n", time.Since(started).Round(10*time.Millisecond))
	return err
}

// prepare gets everything `sam local` needs: Docker, the base image, the build for this
// machine, a stack, the relays and the env-vars file. done undoes what it started.
func prepare(ctx context.Context) (samlocal.Local, func(), error) {
	var undo []func()
	done := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	fail := func(err error) (samlocal.Local, func(), error) { done(); return samlocal.Local{}, nil, err }
	root, err := repo.Root()
	if err != nil {
		return fail(err)
	}
	arch, err := samlocal.Arch()
	if err != nil {
		return fail(err)
	}
	l := samlocal.Local{Root: root, Arch: arch, EnvFile: filepath.Join(root, ".local", "sam-invoke-env.json")}
	if err := os.MkdirAll(filepath.Join(root, ".local"), 0o755); err != nil {
		return fail(err)
	}
	dockerLog, err := os.Create(filepath.Join(root, ".local", "dockerd.log"))
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() { dockerLog.Close() })
	engine, err := samlocal.Docker(ctx, dockerLog, os.Stderr)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() {
		if engine.Started() {
			fmt.Fprintln(os.Stderr, "==> stopping the Docker daemon this run started")
		}
		engine.Stop()
	})
	if l.Image, err = engine.BaseImage(ctx, arch, os.Stderr); err != nil {
		return fail(err)
	}
	fmt.Fprintf(os.Stderr, "==> sam build for %s into %s (log: .local/sam-build.log)\n", arch, samlocal.BuildDir(".", arch))
	buildLog, err := os.Create(filepath.Join(root, ".local", "sam-build.log"))
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() { buildLog.Close() })
	if l.Template, err = samlocal.Build(ctx, root, arch, buildLog); err != nil {
		return fail(fmt.Errorf("%w (see .local/sam-build.log)", err))
	}
	info, closeStack, err := stack.Attach(ctx, root, os.Stderr)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, closeStack)
	bridge, err := samlocal.Expose(info)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, bridge.Close)
	vars, err := bridge.Vars(info)
	if err != nil {
		return fail(err)
	}
	if err := (samlocal.EnvFile{samlocal.ForEveryFunction: vars}).Write(l.EnvFile); err != nil {
		return fail(err)
	}
	fmt.Fprintf(os.Stderr, "==> the functions reach DynamoDB (moto) at %s and EventBridge and SQS (moto) at %s (Docker's bridge); --env-vars %s\n",
		bridge.DynamoDB, bridge.Moto, filepath.Join(".local", filepath.Base(l.EnvFile)))
	return l, done, nil
}
