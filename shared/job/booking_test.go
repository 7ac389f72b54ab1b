package job

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func TestBookingCheckAndSlots(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 9, h, m, 0, 0, time.UTC) }
	for _, c := range []struct {
		name    string
		b       Booking
		problem string
		slots   int
	}{
		{"two hours", Booking{"tom", Window{at(9, 0), at(11, 0)}}, "", 8},
		{"one quarter-hour", Booking{"tom", Window{at(9, 45), at(10, 0)}}, "", 1},
		{"eight hours, the longest", Booking{"tom", Window{at(8, 0), at(16, 0)}}, "", 32},
		{"longer", Booking{"tom", Window{at(8, 0), at(16, 15)}}, "at most", 0},
		{"off the quarter-hour", Booking{"tom", Window{at(9, 5), at(10, 0)}}, "quarter-hour", 0},
		{"a second past", Booking{"tom", Window{at(9, 0).Add(time.Second), at(10, 0)}}, "quarter-hour", 0},
		{"empty", Booking{"tom", Window{at(9, 0), at(9, 0)}}, "before", 0},
		{"no technician", Booking{"", Window{at(9, 0), at(10, 0)}}, "technicianId", 0},
	} {
		p := c.b.Check()
		if (c.problem == "") != (p == "") || !strings.Contains(p, c.problem) {
			t.Errorf("%s: Check() = %q, want %q", c.name, p, c.problem)
		}
		if c.problem == "" {
			slots := c.b.Window.Slots()
			if len(slots) != c.slots || !slots[0].Equal(c.b.Window.Start) || !slots[len(slots)-1].Add(SlotSize).Equal(c.b.Window.End) {
				t.Errorf("%s: slots %v", c.name, slots)
			}
		}
	}
	// Windows that only touch share no slot; windows that overlap by a quarter-hour share one.
	a, b, c := Window{at(9, 0), at(11, 0)}.Slots(), Window{at(11, 0), at(12, 0)}.Slots(), Window{at(10, 45), at(12, 0)}.Slots()
	shared := func(x, y []time.Time) int {
		n := 0
		for _, s := range x {
			for _, u := range y {
				if s.Equal(u) {
					n++
				}
			}
		}
		return n
	}
	if shared(a, b) != 0 || shared(a, c) != 1 {
		t.Errorf("touching windows share %d slots, overlapping ones %d; want 0 and 1", shared(a, b), shared(a, c))
	}
}

func TestAssigned(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	j := Job{ID: "j", Status: Unassigned, Version: 3}
	got := j.Assigned(Assignment{ID: "a", TechnicianID: "tom"}, now, "dana")
	if got.Status != Assigned || got.PreviousStatus != Unassigned || got.Version != 4 || got.Assignment == nil ||
		got.Assignment.Status != Pending || got.Assignment.JobID != "j" || got.Assignment.Version != 1 || !got.UpdatedAt.Equal(now) {
		t.Errorf("Assigned = %+v (%+v)", got, got.Assignment)
	}
}

// TestTechnicianSteps: confirm, start and complete are each taken by the technician the
// current assignment names (complete by a dispatcher or an admin too), in order: start
// needs a confirmed assignment, and a refusal names the status that refuses it.
func TestTechnicianSteps(t *testing.T) {
	tom := lifecycle.Actor{Sub: "tom", Roles: []string{RoleTechnician}}
	tess := lifecycle.Actor{Sub: "tess", Roles: []string{RoleTechnician}}
	dana := lifecycle.Actor{Sub: "dana", Roles: []string{RoleDispatcher}}
	booked := func(st Status, as AssignmentStatus) Job {
		return Job{ID: "j", Status: st, Version: 2, Assignment: &Assignment{ID: "a", TechnicianID: "tom", Status: as, Version: 1}}
	}
	current := func(err error) string {
		var ite *lifecycle.InvalidTransitionError
		if errors.As(err, &ite) {
			return ite.Current
		}
		return ""
	}
	for _, c := range []struct {
		name    string
		tr      Transition
		j       Job
		actor   lifecycle.Actor
		err     error
		current string
	}{
		{"tom confirms", Confirm, booked(Assigned, Pending), tom, nil, ""},
		{"tess may not confirm", Confirm, booked(Assigned, Pending), tess, lifecycle.ErrForbidden, ""},
		{"a dispatcher may not confirm", Confirm, booked(Assigned, Pending), dana, lifecycle.ErrForbidden, ""},
		{"confirmed already", Confirm, booked(Assigned, Confirmed), tom, nil, "Confirmed"},
		{"start before confirming", Start, booked(Assigned, Pending), tom, nil, "Pending"},
		{"tom starts", Start, booked(Assigned, Confirmed), tom, nil, ""},
		{"tom completes", Complete, booked(InProgress, Confirmed), tom, nil, ""},
		{"a dispatcher completes", Complete, booked(InProgress, Confirmed), dana, nil, ""},
		{"complete before starting", Complete, booked(Assigned, Confirmed), tom, nil, "Assigned"},
		{"no assignment, no technician", Confirm, Job{ID: "j", Status: Unassigned}, tom, lifecycle.ErrForbidden, ""},
	} {
		err := c.tr.Decide(c.j, c.actor)
		if c.err != nil && !errors.Is(err, c.err) || c.err == nil && current(err) != c.current || c.current == "" && c.err == nil && err != nil {
			t.Errorf("%s: %v, want %v / current %q", c.name, err, c.err, c.current)
		}
	}
	now := time.Date(2026, 12, 10, 9, 0, 0, 0, time.UTC)
	if got := booked(Assigned, Pending).Stepped(Confirm, now); got.Status != Assigned || got.Version != 3 || got.Assignment.Status != Confirmed || got.Assignment.Version != 2 {
		t.Errorf("confirmed: %+v %+v", got, got.Assignment)
	}
	if got := booked(Assigned, Confirmed).Stepped(Start, now); got.Status != InProgress || got.PreviousStatus != Assigned || got.Assignment.Version != 1 {
		t.Errorf("started: %+v %+v", got, got.Assignment)
	}
	if got := AllowedActions(booked(Assigned, Pending), tom); len(got) != 1 || got[0] != "confirm" {
		t.Errorf("tom may %v on a pending booking, want [confirm]", got)
	}
}

// TestClipSchedule: a schedule shows exactly the part of each booking in [from, to), to the
// millisecond, not the whole quarter-hours the calendar holds; a booking that only touches
// the range (windows are half-open) is not on it.
func TestClipSchedule(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2028, 1, 10, h, m, 0, 0, time.UTC) }
	ms := func(h, m, s, milli int) time.Time {
		return time.Date(2028, 1, 10, h, m, s, milli*int(time.Millisecond), time.UTC)
	}
	booked := func(ws ...Window) []Booked {
		var out []Booked
		for i, w := range ws {
			out = append(out, Booked{JobID: "job-" + string(rune('a'+i)), AssignmentID: "a-" + string(rune('a'+i)), Window: w})
		}
		return out
	}
	for _, c := range []struct {
		name   string
		booked []Booked
		r      Window
		want   []string
	}{
		{"a booking over the whole range", booked(Window{at(10, 0), at(12, 0)}), Window{at(10, 7), at(11, 50)},
			[]string{"job-a 2028-01-10T10:07:00.000Z 2028-01-10T11:50:00.000Z"}},
		{"a range inside one slot", booked(Window{at(10, 0), at(10, 15)}), Window{at(10, 7), at(10, 8)},
			[]string{"job-a 2028-01-10T10:07:00.000Z 2028-01-10T10:08:00.000Z"}},
		{"a booking inside the range, whole", booked(Window{at(10, 0), at(12, 0)}), Window{at(9, 0), at(13, 0)},
			[]string{"job-a 2028-01-10T10:00:00.000Z 2028-01-10T12:00:00.000Z"}},
		{"begun before from", booked(Window{at(10, 0), at(12, 0)}), Window{at(11, 1), at(13, 0)},
			[]string{"job-a 2028-01-10T11:01:00.000Z 2028-01-10T12:00:00.000Z"}},
		{"ending after to", booked(Window{at(10, 0), at(12, 0)}), Window{at(9, 0), at(10, 59)},
			[]string{"job-a 2028-01-10T10:00:00.000Z 2028-01-10T10:59:00.000Z"}},
		{"the range exactly", booked(Window{at(10, 0), at(12, 0)}), Window{at(10, 0), at(12, 0)},
			[]string{"job-a 2028-01-10T10:00:00.000Z 2028-01-10T12:00:00.000Z"}},
		{"from and to with milliseconds", booked(Window{at(10, 0), at(12, 0)}), Window{ms(10, 7, 30, 250), ms(11, 49, 59, 999)},
			[]string{"job-a 2028-01-10T10:07:30.250Z 2028-01-10T11:49:59.999Z"}},
		{"ending exactly at from", booked(Window{at(9, 0), at(10, 0)}), Window{at(10, 0), at(11, 0)}, nil},
		{"starting exactly at to", booked(Window{at(11, 0), at(12, 0)}), Window{at(10, 0), at(11, 0)}, nil},
		{"ending a millisecond after from", booked(Window{at(9, 0), at(10, 0)}), Window{ms(9, 59, 59, 999), at(11, 0)},
			[]string{"job-a 2028-01-10T09:59:59.999Z 2028-01-10T10:00:00.000Z"}},
		{"in the part of a slot before from", booked(Window{at(10, 0), at(10, 15)}), Window{at(10, 15), at(11, 0)}, nil},
		{"several, in order, the touching ones left out",
			booked(Window{at(8, 0), at(10, 0)}, Window{at(10, 0), at(10, 30)}, Window{at(10, 45), at(12, 0)}, Window{at(12, 0), at(13, 0)}),
			Window{at(10, 0).Add(time.Second), at(12, 0)},
			[]string{"job-b 2028-01-10T10:00:01.000Z 2028-01-10T10:30:00.000Z", "job-c 2028-01-10T10:45:00.000Z 2028-01-10T12:00:00.000Z"}},
		{"none", nil, Window{at(10, 0), at(11, 0)}, nil},
	} {
		var got []string
		for _, b := range ClipSchedule(c.booked, c.r) {
			got = append(got, b.JobID+" "+lifecycle.FormatTime(b.Window.Start)+" "+lifecycle.FormatTime(b.Window.End))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
