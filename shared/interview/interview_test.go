package interview

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in     string
		want   Status
		wantOK bool
	}{
		{"active", Active, true},
		{"paused", Paused, true},
		{"completed", Completed, true},
		{"cancelled", Cancelled, true},
		{"", "", false},
		{"unknown", "", false},
		{"Active", "", false},
		{"ACTIVE", "", false},
		{"Paused", "", false},
		{"CANCELLED", "", false},
		{"canceled", "", false}, // US spelling is not a status
		{" active", "", false},
		{"active ", "", false},
		{"active\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseStatus(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseStatus(%q) = (%q, %v), want (%q, %v)", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestStatusesListsEveryStatusOnce(t *testing.T) {
	want := []Status{Active, Paused, Completed, Cancelled}
	if !slices.Equal(Statuses, want) {
		t.Errorf("Statuses = %q, want %q", Statuses, want)
	}
	for _, s := range Statuses {
		got, ok := ParseStatus(string(s))
		if !ok || got != s {
			t.Errorf("ParseStatus(%q) = (%q, %v), want round trip", s, got, ok)
		}
	}
}

func TestStatusTerminal(t *testing.T) {
	tests := []struct {
		s    Status
		want bool
	}{
		{Active, false},
		{Paused, false},
		{Completed, true},
		{Cancelled, true},
		{"", false},
		{"unknown", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.s), func(t *testing.T) {
			if got := tt.s.Terminal(); got != tt.want {
				t.Errorf("%q.Terminal() = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestTerminalStatusesHaveNoOutgoingTransition(t *testing.T) {
	for _, s := range Statuses {
		leaves := false
		for _, tr := range Transitions {
			if tr.Allows(s) {
				leaves = true
			}
		}
		if s.Terminal() == leaves {
			t.Errorf("status %q: Terminal()=%v but some transition leaves it=%v", s, s.Terminal(), leaves)
		}
	}
}

// TestTransitionTable covers every (transition, status) pair.
func TestTransitionTable(t *testing.T) {
	const owner = "user-1"
	// Both kinds of caller at once, so only the status decides.
	actor := lifecycle.Actor{Sub: owner, Scopes: []string{ScopeProgress, ScopeScheduler}}

	tests := []struct {
		tr    Transition
		from  Status
		allow bool
	}{
		{Cancel, Active, true},
		{Cancel, Paused, true},
		{Cancel, Completed, false},
		{Cancel, Cancelled, false},

		{Pause, Active, true},
		{Pause, Paused, false},
		{Pause, Completed, false},
		{Pause, Cancelled, false},

		{Resume, Active, false},
		{Resume, Paused, true},
		{Resume, Completed, false},
		{Resume, Cancelled, false},

		{Complete, Active, true},
		{Complete, Paused, false},
		{Complete, Completed, false},
		{Complete, Cancelled, false},

		{Record, Active, true},
		{Record, Paused, false},
		{Record, Completed, false},
		{Record, Cancelled, false},

		{ScheduledResume, Active, false},
		{ScheduledResume, Paused, true},
		{ScheduledResume, Completed, false},
		{ScheduledResume, Cancelled, false},
	}
	if len(tests) != len(Transitions)*len(Statuses) {
		t.Fatalf("table has %d rows, want %d", len(tests), len(Transitions)*len(Statuses))
	}
	for _, tt := range tests {
		t.Run(tt.tr.Action+"/"+string(tt.from), func(t *testing.T) {
			if got := tt.tr.Allows(tt.from); got != tt.allow {
				t.Errorf("%s.Allows(%q) = %v, want %v", tt.tr.Action, tt.from, got, tt.allow)
			}
			err := tt.tr.Decide(Session{ID: "s1", OwnerID: owner, Status: tt.from}, actor)
			if tt.allow {
				if err != nil {
					t.Errorf("%s.Check from %q = %v, want nil", tt.tr.Action, tt.from, err)
				}
				return
			}
			var ite *lifecycle.InvalidTransitionError
			if !errors.As(err, &ite) {
				t.Fatalf("%s.Check from %q = %v, want *InvalidTransitionError", tt.tr.Action, tt.from, err)
			}
			if ite.Action != tt.tr.Action || ite.Current != string(tt.from) {
				t.Errorf("got %+v, want Action=%q Current=%q", *ite, tt.tr.Action, tt.from)
			}
			if errors.Is(err, lifecycle.ErrForbidden) {
				t.Errorf("owner got ErrForbidden")
			}
		})
	}
}

func TestTransitionTargets(t *testing.T) {
	tests := []struct {
		tr     Transition
		action string
		to     Status
	}{
		{Cancel, "cancel", Cancelled},
		{Pause, "pause", Paused},
		{Resume, "resume", Active},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			if tt.tr.Action != tt.action {
				t.Errorf("Action = %q, want %q", tt.tr.Action, tt.action)
			}
			if tt.tr.To != tt.to {
				t.Errorf("To = %q, want %q", tt.tr.To, tt.to)
			}
			if tt.tr.Allows(tt.tr.To) {
				t.Errorf("%s may leave its own target %q", tt.action, tt.to)
			}
		})
	}
}

func TestCheckForbidden(t *testing.T) {
	tests := []struct {
		name   string
		owner  string
		sub    string
		status Status
	}{
		{"other user, legal status", "owner", "intruder", Active},
		{"other user, illegal status (forbidden wins)", "owner", "intruder", Completed},
		{"other user, cancelled", "owner", "intruder", Cancelled},
		{"empty sub", "owner", "", Active},
		{"empty sub and empty owner", "", "", Active},
		{"empty sub, empty owner, illegal status", "", "", Cancelled},
		{"non-empty sub, empty owner", "", "someone", Active},
		{"case differs", "Owner", "owner", Active},
		{"prefix of owner", "owner-1", "owner", Paused},
	}
	for _, tr := range Transitions {
		for _, tt := range tests {
			t.Run(tr.Action+"/"+tt.name, func(t *testing.T) {
				s := Session{ID: "s1", OwnerID: tt.owner, Status: tt.status}
				actor := lifecycle.Actor{Sub: tt.sub, Roles: []string{"Admin", "Dispatcher"}}
				err := tr.Decide(s, actor)
				if !errors.Is(err, lifecycle.ErrForbidden) {
					t.Fatalf("Check = %v, want ErrForbidden", err)
				}
				if _, ok := errors.AsType[*lifecycle.InvalidTransitionError](err); ok {
					t.Errorf("Check returned an InvalidTransitionError as well as forbidden: %v", err)
				}
				if aerr := Authorize(s, actor); !errors.Is(aerr, lifecycle.ErrForbidden) {
					t.Errorf("Authorize = %v, want ErrForbidden", aerr)
				}
			})
		}
	}
}

func TestAuthorizeOwner(t *testing.T) {
	s := Session{ID: "s1", OwnerID: "owner", Status: Completed}
	if err := Authorize(s, lifecycle.Actor{Sub: "owner"}); err != nil {
		t.Errorf("Authorize(owner) = %v, want nil", err)
	}
}

func TestTransitionsList(t *testing.T) {
	if len(Transitions) != 6 {
		t.Fatalf("len(Transitions) = %d, want 6", len(Transitions))
	}
	want := []string{"cancel", "pause", "resume", "complete", "record", "scheduled-resume"}
	for i, tr := range Transitions {
		if tr.Action != want[i] {
			t.Errorf("Transitions[%d].Action = %q, want %q", i, tr.Action, want[i])
		}
	}
	pairs := []struct {
		got, want Transition
	}{{Transitions[0], Cancel}, {Transitions[1], Pause}, {Transitions[2], Resume}, {Transitions[3], Complete}, {Transitions[4], Record}}
	for i, p := range pairs {
		if p.got.Action != p.want.Action || p.got.To != p.want.To || !slices.Equal(p.got.From, p.want.From) ||
			p.got.StampedAt != p.want.StampedAt || p.got.StampedBy != p.want.StampedBy || p.got.TakesReason != p.want.TakesReason ||
			p.got.TakesScore != p.want.TakesScore {
			t.Errorf("Transitions[%d] = %+v, want %+v", i, p.got, p.want)
		}
	}
}

func TestTransitionFields(t *testing.T) {
	tests := []struct {
		tr          Transition
		from        []Status
		stampedAt   string
		stampedBy   string
		takesReason bool
	}{
		{Cancel, []Status{Active, Paused}, "cancelledAt", "cancelledBy", true},
		{Pause, []Status{Active}, "pausedAt", "", false},
		{Resume, []Status{Paused}, "resumedAt", "", false},
		{Complete, []Status{Active}, "completedAt", "", false},
		{Record, []Status{Active}, "lastInteractionAt", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.tr.Action, func(t *testing.T) {
			got := slices.Clone(tt.tr.From)
			slices.Sort(got)
			want := slices.Clone(tt.from)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("From = %q, want exactly %q", tt.tr.From, tt.from)
			}
			if tt.tr.StampedAt != tt.stampedAt {
				t.Errorf("StampedAt = %q, want %q", tt.tr.StampedAt, tt.stampedAt)
			}
			if tt.tr.StampedBy != tt.stampedBy {
				t.Errorf("StampedBy = %q, want %q", tt.tr.StampedBy, tt.stampedBy)
			}
			if tt.tr.TakesReason != tt.takesReason {
				t.Errorf("TakesReason = %v, want %v", tt.tr.TakesReason, tt.takesReason)
			}
		})
	}
}

func TestApplyStepsStatusVersionAndStamps(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 30, 0, 123e6, time.UTC)
	before := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	old := Session{ID: "s", OwnerID: "alice", Status: Active, Version: 4, UpdatedAt: before, Title: "kept", CancelReason: "", PausedAt: before}
	alice := lifecycle.Actor{Sub: "alice"}

	p := Pause.Apply(old, Request{Request: lifecycle.Request{Actor: alice}}, at)
	if p.Status != Paused || p.PreviousStatus != Active || p.Version != 5 || !p.UpdatedAt.Equal(at) || !p.PausedAt.Equal(at) || p.Title != "kept" {
		t.Errorf("pause: %+v", p)
	}
	if old.Status != Active || old.Version != 4 || !old.PausedAt.Equal(before) {
		t.Errorf("Apply changed the session it was given: %+v", old)
	}
	r := Resume.Apply(p, Request{Request: lifecycle.Request{Actor: alice}}, at.Add(time.Second))
	if r.Status != Active || r.PreviousStatus != Paused || r.Version != 6 || !r.ResumedAt.Equal(at.Add(time.Second)) || !r.PausedAt.Equal(at) {
		t.Errorf("resume: %+v", r)
	}
	c := Cancel.Apply(r, Request{Request: lifecycle.Request{Actor: alice, Reason: "changed my mind"}}, at)
	if c.Status != Cancelled || c.CancelledBy != "alice" || c.CancelReason != "changed my mind" || !c.CancelledAt.Equal(at) {
		t.Errorf("cancel: %+v", c)
	}
	if c := Cancel.Apply(r, Request{Request: lifecycle.Request{Actor: alice}}, at); c.CancelReason != "" {
		t.Errorf("cancel without a reason recorded %q", c.CancelReason)
	}
	if p := Pause.Apply(old, Request{Request: lifecycle.Request{Actor: alice, Reason: "ignored"}}, at); p.CancelReason != "" {
		t.Errorf("a transition that takes no reason recorded %q", p.CancelReason)
	}
	final := 87.5
	done := Complete.Apply(old, Request{Request: lifecycle.Request{Actor: alice}, Score: &final}, at)
	if done.Status != Completed || done.Score != 87.5 || !done.CompletedAt.Equal(at) || done.Version != 5 {
		t.Errorf("complete: %+v", done)
	}
	if kept := Complete.Apply(Session{Status: Active, Score: 40}, Request{Request: lifecycle.Request{Actor: alice}}, at); kept.Score != 40 {
		t.Errorf("a completion without a score changed it to %v", kept.Score)
	}
	if p := Pause.Apply(Session{Status: Active, Score: 40}, Request{Request: lifecycle.Request{Actor: alice}, Score: &final}, at); p.Score != 40 {
		t.Errorf("a transition that takes no score recorded %v", p.Score)
	}
}

// Every transition stamps a field Apply knows: a new StampedAt needs its field.
func TestEveryStampIsAField(t *testing.T) {
	var s Session
	for _, tr := range Transitions {
		if s.stamps()[tr.StampedAt] == nil {
			t.Errorf("%s stamps %q, which Apply does not set", tr.Action, tr.StampedAt)
		}
		if tr.StampedBy != "" && tr.StampedBy != "cancelledBy" {
			t.Errorf("%s stamps its actor in %q, which Apply does not set", tr.Action, tr.StampedBy)
		}
	}
}

// TestAllowedActions: what the table allows the owner in each status, in the table's
// order, and nothing to anyone else.
func TestAllowedActions(t *testing.T) {
	alice, bob := lifecycle.Actor{Sub: "alice"}, lifecycle.Actor{Sub: "bob"}
	for st, want := range map[Status][]string{
		Active:    {"cancel", "pause", "complete"},
		Paused:    {"cancel", "resume"},
		Completed: {},
		Cancelled: {},
	} {
		s := Session{ID: "s", OwnerID: "alice", Status: st}
		if got := AllowedActions(s, alice); !slices.Equal(got, want) || got == nil {
			t.Errorf("%s: the owner may %v, want %v", st, got, want)
		}
		if got := AllowedActions(s, bob); len(got) != 0 || got == nil {
			t.Errorf("%s: another caller may %v, want []", st, got)
		}
	}
}

// TestEveryTransitionIsAnnounced: each row names the detail-type the publisher derives from
// the action its write records, and TransitionFor finds each row by its action.
func TestEveryTransitionIsAnnounced(t *testing.T) {
	for _, tr := range Transitions {
		if _, ok := event.Types[tr.Event]; !ok {
			t.Errorf("%s announces %q, which is not a detail-type of shared/event", tr.Action, tr.Event)
		}
		if got, ok := TransitionFor(tr.Action); !ok || got.Action != tr.Action || got.Event != tr.Event {
			t.Errorf("TransitionFor(%q) = %+v, %v", tr.Action, got, ok)
		}
	}
	if _, ok := TransitionFor("archive"); ok {
		t.Error("TransitionFor found an action the table does not have")
	}
}

// TestWhoMayAct holds each row's "who": the owner, a service with the scope, or either;
// never another user, nor a token with another scope.
func TestWhoMayAct(t *testing.T) {
	s := Session{ID: "s1", OwnerID: "alice", Status: Active}
	owner := lifecycle.Actor{Sub: "alice"}
	service := lifecycle.Actor{Sub: "client-1", Scopes: []string{ScopeProgress}}
	other := lifecycle.Actor{Sub: "bob", Roles: []string{"Admin"}}
	wrongScope := lifecycle.Actor{Sub: "client-2", Scopes: []string{"lifecycle/other"}}
	cases := []struct {
		tr             Transition
		owner, service bool
	}{
		{Cancel, true, false}, {Pause, true, false}, {Resume, true, false},
		{Complete, true, true}, {Record, false, true}, {ScheduledResume, false, false},
	}
	if len(cases) != len(Transitions) {
		t.Fatalf("%d rows here, %d transitions", len(cases), len(Transitions))
	}
	for _, c := range cases {
		for _, a := range []struct {
			actor lifecycle.Actor
			may   bool
		}{{owner, c.owner}, {service, c.service}, {other, false}, {wrongScope, false}} {
			err := c.tr.Authorize(s, a.actor)
			if a.may != (err == nil) || (err != nil && !errors.Is(err, lifecycle.ErrForbidden)) {
				t.Errorf("%s by %+v: %v, want allowed %v", c.tr.Action, a.actor, err, a.may)
			}
		}
	}
	if got := AllowedActions(s, service); !slices.Equal(got, []string{"complete", "record"}) {
		t.Errorf("a service's allowed actions on an active session = %q", got)
	}
	if got := AllowedActions(s, owner); !slices.Equal(got, []string{"cancel", "pause", "complete"}) {
		t.Errorf("the owner's allowed actions on an active session = %q", got)
	}
	// Only the timer resumes a session at its planned time; no token carries its scope.
	paused := s
	paused.Status = Paused
	if err := ScheduledResume.Authorize(paused, SchedulerActor); err != nil {
		t.Errorf("the timer may not resume: %v", err)
	}
	if got := AllowedActions(paused, owner); !slices.Equal(got, []string{"cancel", "resume"}) {
		t.Errorf("the owner's allowed actions on a paused session = %q", got)
	}
}

// TestAScheduledResumeAppliesToItsPauseOnly: the timer's resume applies to the version its
// pause produced and to no later one; every transition but a pause clears the planned
// resume, and a pause sets it only when asked to.
func TestAScheduledResumeAppliesToItsPauseOnly(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	s := Session{ID: "s1", OwnerID: "alice", Status: Active, Version: 3}
	paused := Pause.Apply(s, Request{Request: lifecycle.Request{Actor: lifecycle.Actor{Sub: "alice"}}, ResumeAt: at.Add(time.Hour)}, at)
	if !paused.ResumeAt.Equal(at.Add(time.Hour)) || paused.Version != 4 {
		t.Fatalf("a pause until 10:00: %+v", paused)
	}
	if _, err := ScheduledResume.Prepare(paused, Request{ExpectVersion: 4}); err != nil {
		t.Errorf("the timer of this pause: %v", err)
	}
	resumed := Resume.Apply(paused, Request{}, at.Add(time.Minute))
	again := Pause.Apply(resumed, Request{}, at.Add(2*time.Minute))
	if !resumed.ResumeAt.IsZero() || !again.ResumeAt.IsZero() {
		t.Errorf("a resume, then a pause without a time, keep a planned resume: %v, %v", resumed.ResumeAt, again.ResumeAt)
	}
	if _, err := ScheduledResume.Prepare(again, Request{ExpectVersion: 4}); !errors.Is(err, ErrStale) {
		t.Errorf("the first pause's timer on the second pause: %v, want ErrStale", err)
	}
	if err := ScheduledResume.Decide(resumed, SchedulerActor); err == nil {
		t.Error("the timer resumes a session that is active")
	}
	b := ResumeBounds{MinLead: time.Minute, MaxHorizon: 90 * 24 * time.Hour}
	for _, c := range []struct {
		resumeAt time.Time
		problem  string
	}{
		{at.Add(time.Minute), ""},
		{at.Add(59 * time.Second), "resumeAt must be at least 60 seconds from now"},
		{at.Add(-time.Hour), "resumeAt must be at least 60 seconds from now"},
		{at.Add(90 * 24 * time.Hour), ""},
		{at.Add(90*24*time.Hour + time.Millisecond), "resumeAt must be at most 90 days from now"},
	} {
		if got := b.Check(c.resumeAt, at); got != c.problem {
			t.Errorf("resumeAt %v: %q, want %q", c.resumeAt, got, c.problem)
		}
	}
}

func TestWithMessageKeepsTheLatestAndReplacesByID(t *testing.T) {
	var h json.RawMessage
	var err error
	for i := range MaxRecentMessages + 5 {
		h, err = WithMessage(h, json.RawMessage(fmt.Sprintf(`{"id":"m%d"}`, i)), fmt.Sprintf("m%d", i))
		if err != nil {
			t.Fatal(err)
		}
	}
	var msgs []struct{ ID string }
	if err := json.Unmarshal(h, &msgs); err != nil || len(msgs) != MaxRecentMessages || msgs[0].ID != "m5" || msgs[len(msgs)-1].ID != fmt.Sprintf("m%d", MaxRecentMessages+4) {
		t.Fatalf("history %s: want the latest %d, oldest m5", h, MaxRecentMessages)
	}
	h2, err := WithMessage(h, json.RawMessage(`{"id":"m10","output":"again"}`), "m10")
	if err != nil || len(h2) <= len(h) {
		t.Fatalf("replacing m10: %s, %v", h2, err)
	}
	if err := json.Unmarshal(h2, &msgs); err != nil || len(msgs) != MaxRecentMessages || msgs[5].ID != "m10" {
		t.Errorf("a message recorded again is replaced where it was: %s", h2)
	}
	if _, err := WithMessage(json.RawMessage(`{"not":"a list"}`), json.RawMessage(`{"id":"x"}`), "x"); !errors.Is(err, ErrHistoryUnreadable) {
		t.Errorf("a history that is not a list: %v, want ErrHistoryUnreadable", err)
	}
}

// TestEveryRowSaysWhereAndHowItRefuses: the declaration is complete for every row: an event,
// a function and at least one path to serve it (unique across rows), and a message for a
// missing session and for every status it may not leave.
func TestEveryRowSaysWhereAndHowItRefuses(t *testing.T) {
	seen := map[string]bool{}
	for _, tr := range Transitions {
		// A row no route serves is invoked by the timer alone (ScheduledResume).
		if tr.Event == "" || tr.Function == "" || (len(tr.Paths) == 0 && tr.Who.Scope != ScopeScheduler) || tr.Refusals.NotFound == "" {
			t.Errorf("%s: event %q, function %q, paths %v, not-found message %q", tr.Action, tr.Event, tr.Function, tr.Paths, tr.Refusals.NotFound)
		}
		if !tr.Who.Owner && tr.Who.Scope == "" {
			t.Errorf("%s: nobody may take it", tr.Action)
		}
		for _, p := range tr.Paths {
			if seen[p] || !strings.HasPrefix(p, "/") || !strings.Contains(p, "{id}") {
				t.Errorf("%s: path %q is taken or names no session", tr.Action, p)
			}
			seen[p] = true
		}
		for _, st := range Statuses {
			if !tr.Allows(st) && tr.Refusals.Message(string(st)) == "" {
				t.Errorf("%s from %s: no message", tr.Action, st)
			}
		}
	}
}
