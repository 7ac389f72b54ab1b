// Package eventfeed drains the example event queues of a local stack into a short
// in-memory history and serves it, newest first, at GET /_local/events: how `make events`
// and the console show a person each action's event arriving. Local only.
package eventfeed

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/tools/local/queuepoll"
)

// Received is one event as it arrived on a queue.
type Received struct {
	Queue      string          `json:"queue"`
	ReceivedAt time.Time       `json:"receivedAt"`
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detailType"`
	Time       time.Time       `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

// Feed keeps the last Size events.
type Feed struct {
	Size int

	mu     sync.Mutex
	events []Received
}

func (f *Feed) add(r Received) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, r)
	if over := len(f.events) - f.Size; over > 0 {
		f.events = f.events[over:]
	}
}

// Clear forgets the history (the demo data was reset).
func (f *Feed) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = nil
}

// Events returns the history, newest first.
func (f *Feed) Events() []Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.events)
	slices.Reverse(out)
	return out
}

// Drain receives from each queue (by name) until ctx ends, adding every event and deleting
// its message.
func (f *Feed) Drain(ctx context.Context, client *sqs.Client, queues map[string]string, logger *slog.Logger) {
	var wg sync.WaitGroup
	for name, url := range queues {
		wg.Go(func() {
			queuepoll.Run(ctx, client, url, logger, "event feed "+name, func(_ context.Context, batch []types.Message) []string {
				var done []string
				for _, m := range batch {
					env, _, err := event.DecodeEnvelope([]byte(aws.ToString(m.Body)))
					if err != nil {
						logger.Warn("undecodable event on queue", "queue", name, "err", err)
					} else {
						f.add(Received{Queue: name, ReceivedAt: time.Now().UTC(), ID: env.ID, Source: env.Source, DetailType: env.DetailType, Time: env.Time, Detail: env.Detail})
						logger.Info("event received", "queue", name, "detailType", env.DetailType)
					}
					done = append(done, aws.ToString(m.ReceiptHandle))
				}
				return done
			})
		})
	}
	wg.Wait()
}

// Handler serves the history as {"events": [...]}, newest first.
func (f *Feed) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"events": f.Events()})
	})
}
