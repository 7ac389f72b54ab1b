// Command reset is `make reset`: it puts the demo data of the running `make run` back as it
// was when the stack started, in place, so a walk-through can start again without a
// restart (the console's "Reset demo data" does the same).
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/lifecycle-api/lifecycle/tools/local/stack"
)

func main() {
	if err := reset(); err != nil {
		fmt.Fprintln(os.Stderr, "reset:", err)
		os.Exit(1)
	}
}

func reset() error {
	info, err := stack.Running()
	if err != nil {
		return err
	}
	resp, err := http.Post(info.API+"/_local/reset", "application/json", strings.NewReader("{}"))
	if err != nil {
		return fmt.Errorf("%w: %v", stack.ErrNotRunning, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d: %s", info.API, resp.StatusCode, body)
	}
	fmt.Printf("==> the demo data of %s is back as it started (the event feed is empty again)\n", info.API)
	return nil
}
