// Command invoke is `make invoke`: it runs one function's real bootstrap under the Lambda
// Runtime API with an event file, against the running `make run` stack when there is one,
// else against a fresh one with the demo data, and prints the function's response.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/lambdaruntime"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

func main() {
	if err := invoke(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

// invoke is the command; the function's logs go to stderr, its response to stdout.
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
	root, err := repo.Root()
	if err != nil {
		return err
	}
	event, err := os.ReadFile(*eventFile)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	info, closeStack, err := stack.Attach(ctx, root, os.Stderr)
	if err != nil {
		return err
	}
	defer closeStack()
	rt, err := lambdaruntime.Start(lambdaruntime.Options{
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
