package resumetimer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

const session = "a11ce000-0000-4000-8000-000000000001"

// fakeStore answers the scheduled resume as the store would: err, or the session resumed.
type fakeStore struct {
	err  error
	reqs []interview.Request
}

func (f *fakeStore) Apply(_ context.Context, t interview.Transition, req interview.Request) (interview.Session, bool, error) {
	f.reqs = append(f.reqs, req)
	if f.err != nil {
		return interview.Session{}, false, f.err
	}
	return interview.Session{ID: req.ID, Status: t.To, Version: req.ExpectVersion + 1}, false, nil
}

// TestTheTimerResumesItsPauseOrNothing: the resume is the scheduler's, keyed by the
// schedule, for the version the pause made; a session that moved on is a stale timer, not a
// failure; a store failure is returned so the scheduler retries.
func TestTheTimerResumesItsPauseOrNothing(t *testing.T) {
	var logs bytes.Buffer
	store := &fakeStore{}
	h := ResumeHandler(slog.New(slog.NewJSONHandler(&logs, nil)), store)
	in := Input{SessionID: session, Version: 4}
	if err := h(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	req := store.reqs[0]
	if req.Actor.Sub != "scheduler" || req.ExpectVersion != 4 || req.Idempotency.Key != "schedule:resume-"+session+"-4" || !req.Idempotency.Client {
		t.Errorf("request %+v", req)
	}
	for _, stale := range []error{interview.ErrStale, &lifecycle.InvalidTransitionError{Action: "scheduled-resume", Current: "cancelled"}, lifecycle.ErrNotFound} {
		store.err = stale
		if err := h(context.Background(), in); err != nil {
			t.Errorf("%v: %v, want a stale timer's nil", stale, err)
		}
	}
	store.err = lifecycle.ErrUnavailable
	if err := h(context.Background(), in); !errors.Is(err, lifecycle.ErrUnavailable) {
		t.Errorf("a store failure: %v", err)
	}
	n := len(store.reqs)
	if err := h(context.Background(), Input{SessionID: "not-an-id", Version: 4}); err != nil || len(store.reqs) != n {
		t.Errorf("unreadable input: %v", err)
	}
	if !strings.Contains(logs.String(), `"outcome":"stale"`) {
		t.Errorf("no stale timer logged: %s", logs.String())
	}
}
