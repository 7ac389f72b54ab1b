package integration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/coder/websocket"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
)

// race runs n calls of f at once and returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			errs[i] = f(i)
		})
	}
	start.Done()
	done.Wait()
	return errs
}

// placesHeld reads how many places sub's user item holds (a strongly consistent read).
func placesHeld(t *testing.T, s *stack, sub string) int {
	t.Helper()
	out, err := s.cfg.DB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(s.cfg.LiveTable), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "USER#" + sub}}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := out.Item["conns"].(*types.AttributeValueMemberM)
	if m == nil {
		return 0
	}
	return len(m.Value)
}

// TestLiveConnectionCapHoldsUnderConcurrentConnects (issue 23): 24 connects of one caller
// at once, with a cap of 5, on DynamoDB's conditional writes (moto): exactly 5 are
// recorded and the rest refused; a closed connection frees its place; places of
// connections whose $disconnect never came free themselves once their records expire.
func TestLiveConnectionCapHoldsUnderConcurrentConnects(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	now := time.Now()
	store := dynamo.NewLive(s.cfg.DB, s.cfg.LiveTable, func() time.Time { return now }, live.NewTicketSecret, live.UserLimits{Connections: 5})
	open := func(st *dynamo.Live, id string) error {
		return st.Open(ctx, live.Connection{ID: id, Sub: "racer", ConnectedAt: now})
	}
	errs := race(24, func(i int) error { return open(store, fmt.Sprintf("c%02d", i)) })
	var won []string
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, fmt.Sprintf("c%02d", i))
		case !errors.Is(err, live.ErrTooManyConnections):
			t.Errorf("c%02d: %v, want a place or ErrTooManyConnections", i, err)
		}
	}
	if len(won) != 5 {
		t.Fatalf("%d of 24 concurrent connects got a place, want exactly 5", len(won))
	}
	if conns, err := store.Audience(ctx, live.Audience{Owner: "racer"}); err != nil || len(conns) != 5 || placesHeld(t, s, "racer") != 5 {
		t.Fatalf("%d connections recorded, %d places held (%v), want 5 of each", len(conns), placesHeld(t, s, "racer"), err)
	}

	// Two close; two connect in their places, and the next is refused.
	for _, id := range won[:2] {
		if err := store.Close(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"d1", "d2"} {
		if err := open(store, id); err != nil {
			t.Errorf("%s after two closed: %v", id, err)
		}
	}
	if err := open(store, "d3"); !errors.Is(err, live.ErrTooManyConnections) {
		t.Errorf("a sixth connection: %v, want ErrTooManyConnections", err)
	}

	// Hours later, none of those connections can still be open (API Gateway ends each
	// within two): their places are dropped by the next connect's own write.
	later := dynamo.NewLive(s.cfg.DB, s.cfg.LiveTable, func() time.Time { return now.Add(3 * time.Hour) }, live.NewTicketSecret, live.UserLimits{Connections: 5})
	if err := later.Open(ctx, live.Connection{ID: "e1", Sub: "racer", ConnectedAt: now.Add(3 * time.Hour)}); err != nil {
		t.Fatalf("a connect after every place expired: %v", err)
	}
	if n := placesHeld(t, s, "racer"); n != 1 {
		t.Errorf("%d places held after the expired ones were dropped, want 1", n)
	}
	// Another caller was never limited by racer's places.
	if err := store.Open(ctx, live.Connection{ID: "other", Sub: "someone-else", ConnectedAt: now}); err != nil {
		t.Errorf("another caller: %v", err)
	}
}

// TestLiveTicketRateIsPerCallerAndMinute (issue 23): with 3 tickets a minute, 10 requests
// of one caller at once get exactly 3; the caller is told to come back when the minute
// ends; another caller, and the next minute, are not affected.
func TestLiveTicketRateIsPerCallerAndMinute(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	minute := time.Now().UTC().Truncate(time.Minute)
	at := func(d time.Duration) *dynamo.Live {
		return dynamo.NewLive(s.cfg.DB, s.cfg.LiveTable, func() time.Time { return minute.Add(d) }, live.NewTicketSecret, live.UserLimits{TicketsPerMinute: 3})
	}
	store := at(20 * time.Second)
	errs := race(10, func(int) error {
		_, err := store.IssueTicket(ctx, lifecycle.Actor{Sub: "eager"}, time.Time{})
		return err
	})
	issued := 0
	for _, err := range errs {
		var limited *lifecycle.RateLimitedError
		switch {
		case err == nil:
			issued++
		case errors.As(err, &limited):
			if limited.RetryAfter != 40*time.Second {
				t.Errorf("told to retry after %v, want the 40 s left of the minute", limited.RetryAfter)
			}
		default:
			t.Errorf("%v, want a ticket or a RateLimitedError", err)
		}
	}
	if issued != 3 {
		t.Fatalf("%d of 10 concurrent requests got a ticket, want exactly 3", issued)
	}
	if _, err := store.IssueTicket(ctx, lifecycle.Actor{Sub: "patient"}, time.Time{}); err != nil {
		t.Errorf("another caller in the same minute: %v", err)
	}
	if _, err := at(61*time.Second).IssueTicket(ctx, lifecycle.Actor{Sub: "eager"}, time.Time{}); err != nil {
		t.Errorf("the same caller in the next minute: %v", err)
	}
}

// TestLiveHandshakeBeyondTheCapIsRefused: end to end through the local WebSocket API, a
// caller at the cap is refused at the handshake with 429; closing one lets the next in.
func TestLiveHandshakeBeyondTheCapIsRefused(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	l := newLiveChannel(t, s, p, func(c *wiring.Config, _ *string) {
		c.LiveLimits = &live.UserLimits{Connections: 2, TicketsPerMinute: 30}
	})
	first, _ := l.connect(t, s, "carol"), l.connect(t, s, "carol")
	if c, status, err := l.dialWith(live.Subprotocol, live.TicketProtocolPrefix+s.ticket(t, "/api/live/tickets", "carol")); err == nil || status != http.StatusTooManyRequests {
		if c != nil {
			_ = c.CloseNow()
		}
		t.Fatalf("a third connection of carol's: %d %v, want 429", status, err)
	}
	l.connect(t, s, "dave") // others are not limited by carol's connections
	_ = first.conn.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(10 * time.Second)
	for placesHeld(t, s, "carol") != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	l.connect(t, s, "carol")
}

// TestARetriedRedeemSucceedsAndNoOtherConnectionCan: the SDK retries a redeem whose answer
// was lost; the ticket it spent names its connection, so the retry succeeds (a deleted
// ticket would have refused a valid handshake as unknown), while any other connection is
// refused, before and after the retry.
func TestARetriedRedeemSucceedsAndNoOtherConnectionCan(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	store := dynamo.NewLive(s.cfg.DB, s.cfg.LiveTable, time.Now, live.NewTicketSecret, live.UserLimits{})
	tk, err := store.IssueTicket(ctx, lifecycle.Actor{Sub: "erin", Roles: []string{"Dispatcher"}}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c, err := store.Redeem(ctx, tk.Secret, "conn-erin")
		if err != nil || c.Sub != "erin" || len(c.Roles) != 1 {
			t.Fatalf("redeem %d by its connection: %+v %v", i+1, c, err)
		}
		if _, err := store.Redeem(ctx, tk.Secret, "conn-thief"); !errors.Is(err, live.ErrTicketUnknown) {
			t.Fatalf("another connection after redeem %d: %v, want ErrTicketUnknown", i+1, err)
		}
	}
	if _, err := store.Redeem(ctx, live.NewTicketSecret(), "conn-erin"); !errors.Is(err, live.ErrTicketUnknown) {
		t.Errorf("a forged ticket: %v", err)
	}
}
