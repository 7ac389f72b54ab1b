package lifecycle

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

type testStatus string

const (
	stA testStatus = "a"
	stB testStatus = "b"
	stC testStatus = "c"
)

func TestRuleAllows(t *testing.T) {
	rule := Rule[testStatus]{Action: "move", From: []testStatus{stA, stB}, To: stC}
	empty := Rule[testStatus]{Action: "never", To: stC}

	tests := []struct {
		name string
		rule Rule[testStatus]
		in   testStatus
		want bool
	}{
		{"first source", rule, stA, true},
		{"second source", rule, stB, true},
		{"target is not a source", rule, stC, false},
		{"unknown status", rule, "zzz", false},
		{"empty status", rule, "", false},
		{"case differs", rule, "A", false},
		{"rule without sources allows nothing", empty, stA, false},
		{"rule without sources, empty status", empty, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.Allows(tt.in); got != tt.want {
				t.Errorf("Allows(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRuleCheck(t *testing.T) {
	rule := Rule[testStatus]{Action: "move", From: []testStatus{stA, stB}, To: stC}

	tests := []struct {
		name    string
		current testStatus
		wantErr bool
	}{
		{"allowed a", stA, false},
		{"allowed b", stB, false},
		{"forbidden c", stC, true},
		{"forbidden unknown", "weird", true},
		{"forbidden empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rule.Check(tt.current)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tt.current, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q) = nil, want *InvalidTransitionError", tt.current)
			}
			var ite *InvalidTransitionError
			if !errors.As(err, &ite) {
				t.Fatalf("Check(%q) = %T (%v), want *InvalidTransitionError", tt.current, err, err)
			}
			if ite.Action != "move" {
				t.Errorf("Action = %q, want %q", ite.Action, "move")
			}
			if ite.Current != string(tt.current) {
				t.Errorf("Current = %q, want %q", ite.Current, tt.current)
			}
			// It must still be found when wrapped.
			wrapped := fmt.Errorf("outer: %w", err)
			if got, ok := errors.AsType[*InvalidTransitionError](wrapped); !ok || got != ite {
				t.Errorf("wrapped error does not unwrap to the same *InvalidTransitionError")
			}
			// It is none of the sentinel errors.
			for _, sentinel := range []error{ErrNotFound, ErrForbidden, ErrUnauthenticated, ErrConflict, ErrUnavailable} {
				if errors.Is(err, sentinel) {
					t.Errorf("Check error unexpectedly Is %v", sentinel)
				}
			}
		})
	}
}

func TestRuleCheckWithStringStatus(t *testing.T) {
	// Rule is generic over any ~string; plain string must work too.
	r := Rule[string]{Action: "go", From: []string{"x"}, To: "y"}
	if err := r.Check("x"); err != nil {
		t.Fatalf("Check(x) = %v, want nil", err)
	}
	err := r.Check("y")
	ite, ok := errors.AsType[*InvalidTransitionError](err)
	if !ok {
		t.Fatalf("Check(y) = %v, want *InvalidTransitionError", err)
	}
	if ite.Action != "go" || ite.Current != "y" {
		t.Errorf("got %+v, want Action=go Current=y", *ite)
	}
}

func TestInvalidTransitionErrorText(t *testing.T) {
	tests := []struct {
		err  InvalidTransitionError
		want string
	}{
		{InvalidTransitionError{Action: "cancel", Current: "completed"}, `cannot cancel from status "completed"`},
		{InvalidTransitionError{Action: "pause", Current: "paused"}, `cannot pause from status "paused"`},
		{InvalidTransitionError{Action: "resume", Current: ""}, `cannot resume from status ""`},
		{InvalidTransitionError{Action: "x", Current: `we"ird`}, `cannot x from status "we\"ird"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestActorHasAnyRole(t *testing.T) {
	tests := []struct {
		name  string
		roles []string
		ask   []string
		want  bool
	}{
		{"single match", []string{"Admin"}, []string{"Admin"}, true},
		{"one of several asked", []string{"Dispatcher"}, []string{"Admin", "Dispatcher"}, true},
		{"one of several held", []string{"Viewer", "Admin"}, []string{"Admin"}, true},
		{"no match", []string{"Viewer"}, []string{"Admin", "Dispatcher"}, false},
		{"case sensitive", []string{"admin"}, []string{"Admin"}, false},
		{"no roles held", nil, []string{"Admin"}, false},
		{"nothing asked", []string{"Admin"}, nil, false},
		{"nothing at all", nil, nil, false},
		{"empty role asked, not held", []string{"Admin"}, []string{""}, false},
		{"prefix is not a match", []string{"Administrator"}, []string{"Admin"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Actor{Sub: "user-1", Roles: tt.roles}
			if got := a.HasAnyRole(tt.ask...); got != tt.want {
				t.Errorf("Actor{Roles:%q}.HasAnyRole(%q) = %v, want %v", tt.roles, tt.ask, got, tt.want)
			}
		})
	}
}

func TestSentinelErrorsDistinct(t *testing.T) {
	all := []error{ErrNotFound, ErrForbidden, ErrUnauthenticated, ErrConflict, ErrUnavailable}
	for i, a := range all {
		if a == nil || a.Error() == "" {
			t.Errorf("sentinel %d is nil or has empty text", i)
		}
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v Is %v", a, b)
			}
		}
	}
}

func TestFormatTime(t *testing.T) {
	berlin := time.FixedZone("CET+1", 60*60)
	newYork := time.FixedZone("EST", -5*60*60)
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"utc whole second", time.Date(2024, 3, 5, 9, 0, 0, 0, time.UTC), "2024-03-05T09:00:00.000Z"},
		{"utc 120ms", time.Date(2024, 3, 5, 9, 0, 0, 120_000_000, time.UTC), "2024-03-05T09:00:00.120Z"},
		{"utc 1ms", time.Date(2024, 3, 5, 9, 0, 0, 1_000_000, time.UTC), "2024-03-05T09:00:00.001Z"},
		{"sub-millisecond truncated", time.Date(2024, 3, 5, 9, 0, 0, 999_999_999, time.UTC), "2024-03-05T09:00:00.999Z"},
		{"microseconds dropped", time.Date(2024, 3, 5, 9, 0, 0, 120_456_789, time.UTC), "2024-03-05T09:00:00.120Z"},
		{"converted from +01:00", time.Date(2024, 3, 5, 10, 0, 0, 0, berlin), "2024-03-05T09:00:00.000Z"},
		{"converted from -05:00 across midnight", time.Date(2024, 12, 31, 22, 30, 15, 120_000_000, newYork), "2025-01-01T03:30:15.120Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FormatTime(tt.in)
			if got != tt.want {
				t.Errorf("FormatTime(%v) = %q, want %q", tt.in, got, tt.want)
			}
			if len(got) != len("2006-01-02T15:04:05.000Z") {
				t.Errorf("FormatTime(%v) = %q has width %d, want fixed width", tt.in, got, len(got))
			}
			// The rendering must parse back to the same instant, truncated to ms.
			back, err := time.Parse(time.RFC3339Nano, got)
			if err != nil {
				t.Fatalf("output %q does not parse as RFC 3339: %v", got, err)
			}
			if want := tt.in.Truncate(time.Millisecond); !back.Equal(want) {
				t.Errorf("parsed back %v, want %v", back, want)
			}
		})
	}
}

func TestFormatSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		14 * 24 * time.Hour: "14 days", 24 * time.Hour: "1 day", 8 * time.Hour: "8 hours", time.Hour: "1 hour",
		90 * time.Minute: "90 minutes", time.Minute: "1 minute", 36 * time.Hour: "36 hours",
	} {
		if got := FormatSpan(d); got != want {
			t.Errorf("FormatSpan(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatTimeLocalAndUTCAgree(t *testing.T) {
	loc := time.FixedZone("X", 5*60*60+30*60)
	u := time.Date(2023, 7, 1, 0, 0, 0, 5_000_000, time.UTC)
	if a, b := FormatTime(u), FormatTime(u.In(loc)); a != b {
		t.Errorf("same instant rendered differently: %q vs %q", a, b)
	}
}

func TestFormatTimeStringOrderIsTimeOrder(t *testing.T) {
	base := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	zone := time.FixedZone("W", -7*60*60)
	times := []time.Time{
		base,
		base.Add(time.Millisecond),
		base.Add(10 * time.Millisecond),
		base.Add(100 * time.Millisecond),
		base.Add(120 * time.Millisecond),
		base.Add(999 * time.Millisecond),
		base.Add(time.Second),
		base.Add(time.Second + 5*time.Millisecond),
		base.Add(59 * time.Minute),
		base.Add(10 * time.Hour),
		base.Add(-time.Millisecond),
		base.AddDate(0, 0, 9),
		base.AddDate(0, 11, 0),
		base.AddDate(1, 0, 0),
		base.Add(2 * time.Hour).In(zone), // local wall clock earlier than base's, instant later
		base.Add(-2 * time.Hour).In(time.FixedZone("E", 9*60*60)),
	}
	for i, a := range times {
		for j, b := range times {
			sa, sb := FormatTime(a), FormatTime(b)
			if (sa < sb) != a.Before(b) {
				t.Errorf("order mismatch [%d,%d]: %q < %q is %v, but %v.Before(%v) is %v", i, j, sa, sb, sa < sb, a, b, a.Before(b))
			}
			if (sa == sb) != a.Equal(b) {
				t.Errorf("equality mismatch [%d,%d]: %q vs %q", i, j, sa, sb)
			}
		}
	}

	strs := make([]string, len(times))
	for i, tm := range times {
		strs[i] = FormatTime(tm)
	}
	sorted := append([]time.Time(nil), times...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	sort.Strings(strs)
	for i := range sorted {
		if FormatTime(sorted[i]) != strs[i] {
			t.Errorf("position %d: time order gives %q, string order gives %q", i, FormatTime(sorted[i]), strs[i])
		}
	}
}

// TestDeriveID: a create's id is the same for the same caller and key, and a valid UUID
// (version 5) that ParseID accepts; another name gives another id.
func TestDeriveID(t *testing.T) {
	a, again, other := DeriveID("interview\x00alice\x00key:k1"), DeriveID("interview\x00alice\x00key:k1"), DeriveID("interview\x00bob\x00key:k1")
	if a != again || a == other {
		t.Fatalf("DeriveID: %s, %s, %s", a, again, other)
	}
	if id, ok := ParseID(a); !ok || id != a || a[14] != '5' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("%s is not a version 5 UUID in stored form", a)
	}
}
