package stack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
)

// Attach returns the stack `make run` is running (so a command's effects show there), or
// else starts a fresh one with the demo data, which the returned close stops. progress
// says which.
func Attach(ctx context.Context, root string, progress io.Writer) (Info, func(), error) {
	if info, err := Running(); err == nil {
		fmt.Fprintf(progress, "==> using the running make run stack (%s)\n", info.DynamoDB)
		return info, func() {}, nil
	}
	fmt.Fprintln(progress, "==> no make run stack is up: starting a fresh one with the demo data")
	key, err := devauth.CheckoutKey()
	if err != nil {
		return Info{}, nil, err
	}
	s, err := Start(ctx, Options{
		Table: "lifecycle-invoke", AuditTable: "lifecycle-invoke-audit", LogDir: filepath.Join(root, ".local", "invoke"),
		Logger: slog.New(slog.DiscardHandler), Progress: progress,
		Verify: func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
	})
	if err != nil {
		return Info{}, nil, err
	}
	return s.Info, s.Close, nil
}
