package liveapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/live"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/metrics"
)

// Connections is what the notifier asks of the store.
type Connections interface {
	// Audience returns every open connection of the audience.
	Audience(ctx context.Context, a live.Audience) ([]live.Connection, error)
	Closer
}

// Pusher sends data to one connection, or closes it (API Gateway's @connections
// management API). A connection that no longer exists is ErrGone.
type Pusher interface {
	Push(ctx context.Context, connectionID string, data []byte) error
	Disconnect(ctx context.Context, connectionID string) error
}

// Limits bound the notifier's fan-out.
type Limits struct {
	// Concurrency is the most sends in flight at once.
	Concurrency int
	// Attempts is how often a send is tried before its connection counts as unreachable
	// (a gone connection is not retried).
	Attempts int
	// Backoff is the wait before the first retry; it doubles with each one.
	Backoff time.Duration
}

// DefaultLimits suit a 30 s function timeout: 64 sends in flight, three attempts each.
func DefaultLimits() Limits {
	return Limits{Concurrency: 64, Attempts: 3, Backoff: 50 * time.Millisecond}
}

// Notifier is the target of the bus rule for live updates.
type Notifier struct {
	store  Connections
	pusher Pusher
	logger *slog.Logger
	limits Limits
	now    func() time.Time
	emf    metrics.EMF
}

// NewNotifier returns a notifier sending through pusher to the connections store holds.
func NewNotifier(store Connections, pusher Pusher, logger *slog.Logger, limits Limits, now func() time.Time) *Notifier {
	return &Notifier{store: store, pusher: pusher, logger: logger, limits: limits, now: now,
		emf: metrics.NewEMF([]string{"function"},
			metrics.Metric{Name: "connections", Unit: "Count"}, metrics.Metric{Name: "sent", Unit: "Count"},
			metrics.Metric{Name: "gone", Unit: "Count"}, metrics.Metric{Name: "unreachable", Unit: "Count"},
			metrics.Metric{Name: "expired", Unit: "Count"},
			metrics.Metric{Name: "durationMs", Unit: "Milliseconds"})}
}

// UnreachableError: some entitled connections could not be reached after every attempt.
// The invocation fails with it, so Lambda retries the event and then hands it to the
// notifier's on-failure queue: nothing entitled is dropped silently.
type UnreachableError struct {
	EventID          string
	Failed, Entitled int
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("event %s: %d of %d entitled connections could not be reached", e.EventID, e.Failed, e.Entitled)
}

// tally counts the outcome of one event's sends.
type tally struct {
	sent, gone, failed, skipped, expired atomic.Int64
}

// Handle sends one event to every connection entitled to it. An event it cannot read or
// route, a store that cannot list the audience, or any entitled connection it could not
// reach fails the invocation (the event is then retried, whole: connections already
// reached may receive it again, with the same eventId). A gone connection (410) is
// forgotten and does not count as a failure. A connection whose token has expired gets
// nothing: it is closed (its client reconnects, and needs a fresh token to) and forgotten.
func (n *Notifier) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	log := n.logger.With("eventBridgeId", ev.ID, "detailType", ev.DetailType)
	err := n.deliver(ctx, log, ev)
	if err != nil {
		// The one line for a failed invocation: it goes back to Lambda, to retry the event.
		log.Error("event not delivered", "err", err)
	}
	return err
}

// deliver is Handle's work; its error says why the event failed.
func (n *Notifier) deliver(ctx context.Context, log *slog.Logger, ev events.EventBridgeEvent) error {
	start := n.now()
	if want, ok := event.Types[ev.DetailType]; !ok || want != ev.Source {
		return fmt.Errorf("%w %q from %q", event.ErrUnknownType, ev.DetailType, ev.Source)
	}
	audience, msg, extra, err := live.Address(ev.DetailType, ev.Detail)
	if err != nil {
		return fmt.Errorf("cannot route event: %w", err)
	}
	log = log.With("eventId", msg.EventID, "entityId", msg.EntityID, "version", msg.Version)
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	conns, err := n.store.Audience(ctx, audience)
	if err != nil {
		return fmt.Errorf("cannot list the audience's connections: %w", err)
	}
	// The technicians a job event concerns get their own message on each connection, with
	// what that connection's caller may do (live.Delivery.For); so the readers' message goes
	// to every reader but them, and a technician who also dispatches gets one message, with
	// what both roles may do.
	concerned := func(c live.Connection) bool {
		return slices.ContainsFunc(extra, func(d live.Delivery) bool { return d.Audience.Admits(c) })
	}
	var t tally
	var readers []live.Connection
	for _, c := range conns {
		if !concerned(c) {
			readers = append(readers, c)
		}
	}
	n.fanOut(ctx, log, audience, readers, data, &t)
	listed := len(readers)
	for _, d := range extra {
		theirs, err := n.store.Audience(ctx, d.Audience)
		if err != nil {
			return fmt.Errorf("cannot list the audience's connections: %w", err)
		}
		// Connections whose callers may do the same get the same bytes, sent together. Each
		// technician is one Delivery, and their connections no other's, so none is sent twice.
		same := map[string][]live.Connection{}
		for _, c := range theirs {
			b, err := json.Marshal(d.For(c))
			if err != nil {
				return err
			}
			same[string(b)] = append(same[string(b)], c)
		}
		for b, cs := range same {
			n.fanOut(ctx, log, d.Audience, cs, []byte(b), &t)
			listed += len(cs)
		}
	}
	entitled := listed - int(t.skipped.Load()) - int(t.expired.Load())
	// One EMF line per event: connections entitled, reached, gone, unreachable and expired.
	log.Info("event delivered",
		"connections", entitled, "sent", t.sent.Load(), "gone", t.gone.Load(), "unreachable", t.failed.Load(), "expired", t.expired.Load(),
		"durationMs", float64(n.now().Sub(start).Microseconds())/1000,
		n.emf.Attr(n.now()))
	if f := int(t.failed.Load()); f > 0 {
		return &UnreachableError{EventID: msg.EventID, Failed: f, Entitled: entitled}
	}
	return nil
}

// fanOut sends data to every admitted connection, at most limits.Concurrency at once.
func (n *Notifier) fanOut(ctx context.Context, log *slog.Logger, a live.Audience, conns []live.Connection, data []byte, t *tally) {
	slots := make(chan struct{}, max(1, n.limits.Concurrency))
	var wg sync.WaitGroup
	now := n.now()
	for _, c := range conns {
		if !a.Admits(c) {
			// The store's indexes list only the audience; a row that is not is a bug to see,
			// never a message to send.
			log.Warn("the store listed a connection outside the audience", "connection", c.ID, "sub", c.Sub)
			t.skipped.Add(1)
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if c.Expired(now) {
				n.retire(ctx, log, c, t)
				return
			}
			n.send(ctx, log, c, data, t)
		})
	}
	wg.Wait()
}

// retire closes a connection whose token has expired, and forgets it. Should either step
// fail, the next event retires it again (and its TTL removes the record in any case).
func (n *Notifier) retire(ctx context.Context, log *slog.Logger, c live.Connection, t *tally) {
	t.expired.Add(1)
	if err := n.pusher.Disconnect(ctx, c.ID); err != nil && !errors.Is(err, live.ErrGone) {
		log.Warn("cannot close a connection whose token expired", "connection", c.ID, "sub", c.Sub, "err", err)
		return
	}
	if err := n.store.Close(ctx, c.ID); err != nil {
		log.Warn("cannot forget a connection whose token expired", "connection", c.ID, "err", err)
	}
}

// send delivers data to one connection, retrying what is not a 410 with backoff.
func (n *Notifier) send(ctx context.Context, log *slog.Logger, c live.Connection, data []byte, t *tally) {
	wait := n.limits.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		err = n.pusher.Push(ctx, c.ID, data)
		switch {
		case err == nil:
			t.sent.Add(1)
			return
		case errors.Is(err, live.ErrGone):
			t.gone.Add(1)
			if cerr := n.store.Close(ctx, c.ID); cerr != nil {
				// Its TTL removes it; until then each event finds it gone again.
				log.Warn("cannot forget a gone connection", "connection", c.ID, "err", cerr)
			}
			return
		}
		if attempt >= n.limits.Attempts || sleep(ctx, wait) != nil {
			break
		}
		wait *= 2
	}
	t.failed.Add(1)
	log.Error("connection unreachable", "connection", c.ID, "sub", c.Sub, "attempts", n.limits.Attempts, "err", err)
}

// sleep waits d, or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
