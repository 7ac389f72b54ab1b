// Package logcapture collects the JSON log lines a handler writes, for tests to read back.
package logcapture

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
)

// Buffer is a concurrency-safe sink of JSON log lines.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// New returns a debug-level JSON logger writing to a new Buffer.
func New() (*slog.Logger, *Buffer) {
	b := &Buffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Lines decodes every line written so far; a line that is not JSON fails the test.
func (b *Buffer) Lines(t testing.TB) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for dec := json.NewDecoder(bytes.NewReader(b.buf.Bytes())); dec.More(); {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("a log line is not JSON: %v\n%s", err, b.buf.Bytes())
		}
		out = append(out, m)
	}
	return out
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
