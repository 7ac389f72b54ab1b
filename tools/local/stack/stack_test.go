package stack

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// TestFailedStartStopsWhatItStarted: a start that fails half-way (here: the fault proxy
// cannot be set up) returns the error, not a panic, and leaves no DynamoDB Local or moto
// running.
func TestFailedStartStopsWhatItStarted(t *testing.T) {
	prereq.Need(t, prereq.DynamoDBLocal, prereq.Moto)
	var endpoints []string
	refused := errors.New("no proxy today")
	stack, err := Start(context.Background(), Options{
		Table: "failing", AuditTable: "failing-audit", LogDir: filepath.Join(t.TempDir(), "logs"),
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Verify: func(string) (map[string]string, error) { return nil, errors.New("unused") },
		Via: func(service, endpoint string) (string, error) {
			endpoints = append(endpoints, endpoint)
			return "", refused
		},
	})
	if !errors.Is(err, refused) || stack != nil {
		t.Fatalf("Start = %v, %v; want nil and the Via error", stack, err)
	}
	if len(endpoints) == 0 {
		t.Fatal("Via was never called: the test did not reach the point it means to fail at")
	}
	for _, e := range endpoints {
		u, err := url.Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", u.Host, 200*time.Millisecond)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatalf("%s still answers after the failed start", e)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
