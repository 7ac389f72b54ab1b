package job

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func TestCancelRule(t *testing.T) {
	if Cancel.Action != "cancel" {
		t.Errorf("Cancel.Action = %q, want cancel", Cancel.Action)
	}
	if Cancel.To != Cancelled {
		t.Errorf("Cancel.To = %q, want %q", Cancel.To, Cancelled)
	}
	tests := []struct {
		status  Status
		allowed bool
	}{
		{Unassigned, true},
		{Assigned, true},
		{InProgress, true},
		{Completed, false},
		{Cancelled, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			if got := Cancel.Allows(tt.status); got != tt.allowed {
				t.Errorf("Allows(%q) = %v, want %v", tt.status, got, tt.allowed)
			}
			err := Cancel.Rule.Check(tt.status)
			if tt.allowed {
				if err != nil {
					t.Errorf("Check(%q) = %v, want nil", tt.status, err)
				}
				return
			}
			var ite *lifecycle.InvalidTransitionError
			if !errors.As(err, &ite) {
				t.Fatalf("Check(%q) = %v, want *lifecycle.InvalidTransitionError", tt.status, err)
			}
			if ite.Current != string(tt.status) {
				t.Errorf("Current = %q, want %q", ite.Current, tt.status)
			}
			if ite.Action != "cancel" {
				t.Errorf("Action = %q, want cancel", ite.Action)
			}
		})
	}
}

// Every status in Statuses is covered by the table above, and the cancel rule leaves
// exactly the non-terminal ones.
func TestCancelRuleMatchesTerminal(t *testing.T) {
	if len(Statuses) != 5 {
		t.Fatalf("Statuses = %v, want 5 statuses", Statuses)
	}
	for _, s := range Statuses {
		if Cancel.Allows(s) == s.Terminal() {
			t.Errorf("status %q: Allows = %v, Terminal = %v; cancel must leave exactly the non-terminal statuses", s, Cancel.Allows(s), s.Terminal())
		}
	}
}

func TestStatusTerminal(t *testing.T) {
	tests := []struct {
		status Status
		want   bool
	}{
		{Unassigned, false},
		{Assigned, false},
		{InProgress, false},
		{Completed, true},
		{Cancelled, true},
	}
	for _, tt := range tests {
		if got := tt.status.Terminal(); got != tt.want {
			t.Errorf("%q.Terminal() = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestCancelAssignmentRule(t *testing.T) {
	if CancelAssignment.Action != "cancel" {
		t.Errorf("CancelAssignment.Action = %q, want cancel", CancelAssignment.Action)
	}
	if CancelAssignment.To != AssignmentCancelled {
		t.Errorf("CancelAssignment.To = %q, want %q", CancelAssignment.To, AssignmentCancelled)
	}
	if string(AssignmentCancelled) != "Cancelled" {
		t.Errorf("AssignmentCancelled = %q, want Cancelled", AssignmentCancelled)
	}
	tests := []struct {
		status  AssignmentStatus
		allowed bool
	}{
		{Pending, true},
		{Confirmed, true},
		{AssignmentCancelled, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			if got := CancelAssignment.Allows(tt.status); got != tt.allowed {
				t.Errorf("Allows(%q) = %v, want %v", tt.status, got, tt.allowed)
			}
			err := CancelAssignment.Check(tt.status)
			if tt.allowed {
				if err != nil {
					t.Errorf("Check(%q) = %v, want nil", tt.status, err)
				}
				return
			}
			var ite *lifecycle.InvalidTransitionError
			if !errors.As(err, &ite) {
				t.Fatalf("Check(%q) = %v, want *lifecycle.InvalidTransitionError", tt.status, err)
			}
			if ite.Current != string(tt.status) {
				t.Errorf("Current = %q, want %q", ite.Current, tt.status)
			}
		})
	}
	if len(AssignmentStatuses) != 3 {
		t.Errorf("AssignmentStatuses = %v, want 3 statuses", AssignmentStatuses)
	}
}

func TestAuthorize(t *testing.T) {
	tests := []struct {
		name    string
		roles   []string
		allowed bool
	}{
		{"dispatcher", []string{"Dispatcher"}, true},
		{"admin", []string{"Admin"}, true},
		{"dispatcher among others", []string{"Technician", "Dispatcher"}, true},
		{"admin among others", []string{"Viewer", "Admin", "Technician"}, true},
		{"both", []string{"Admin", "Dispatcher"}, true},
		{"nil roles", nil, false},
		{"empty roles", []string{}, false},
		{"technician", []string{"Technician"}, false},
		{"lower-case dispatcher", []string{"dispatcher"}, false},
		{"lower-case admin", []string{"admin"}, false},
		{"plural dispatchers", []string{"Dispatchers"}, false},
		{"empty role string", []string{""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Authorize(lifecycle.Actor{Sub: "u-1", Roles: tt.roles})
			if tt.allowed {
				if err != nil {
					t.Errorf("Authorize(%q) = %v, want nil", tt.roles, err)
				}
				return
			}
			if !errors.Is(err, lifecycle.ErrForbidden) {
				t.Errorf("Authorize(%q) = %v, want lifecycle.ErrForbidden", tt.roles, err)
			}
		})
	}
}

func TestCurrentAssignment(t *testing.T) {
	tests := []struct {
		name string
		a    *Assignment
		want bool
	}{
		{"no assignment", nil, false},
		{"cancelled assignment", &Assignment{ID: "a-1", Status: AssignmentCancelled}, false},
		{"pending assignment", &Assignment{ID: "a-1", Status: Pending}, true},
		{"confirmed assignment", &Assignment{ID: "a-1", Status: Confirmed}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := Job{ID: "j-1", Status: Assigned, Assignment: tt.a}
			got := j.CurrentAssignment()
			if !tt.want {
				if got != nil {
					t.Errorf("CurrentAssignment() = %+v, want nil", got)
				}
				return
			}
			if got != tt.a {
				t.Errorf("CurrentAssignment() = %p, want the job's assignment %p", got, tt.a)
			}
		})
	}
}

func TestJobCancelled(t *testing.T) {
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	updated := created.Add(time.Hour)
	at := time.Date(2024, 6, 7, 8, 9, 10, 123_000_000, time.UTC)
	start, end := created.Add(48*time.Hour), created.Add(50*time.Hour)

	assignment := func(st AssignmentStatus) *Assignment {
		a := &Assignment{
			ID:             "a-1",
			JobID:          "j-1",
			TechnicianID:   "tech-9",
			ScheduledStart: start,
			ScheduledEnd:   end,
			Status:         st,
			Version:        4,
			CreatedAt:      created,
			UpdatedAt:      updated,
		}
		if st == AssignmentCancelled {
			a.CancelledAt = updated
			a.CancelledBy = "someone-else"
			a.CancelReason = "old reason"
		}
		return a
	}

	tests := []struct {
		name       string
		status     Status
		assignment *Assignment
		reason     string
		// wantCancelAssignment: the result's assignment is a cancelled copy.
		wantCancelAssignment bool
	}{
		{name: "unassigned without assignment", status: Unassigned, reason: "no longer needed"},
		{name: "assigned with pending", status: Assigned, assignment: assignment(Pending), reason: "customer rescheduled", wantCancelAssignment: true},
		{name: "assigned with confirmed", status: Assigned, assignment: assignment(Confirmed), reason: "r", wantCancelAssignment: true},
		{name: "in progress with confirmed, empty reason", status: InProgress, assignment: assignment(Confirmed), wantCancelAssignment: true},
		{name: "unassigned with cancelled assignment", status: Unassigned, assignment: assignment(AssignmentCancelled), reason: "r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := Job{
				ID:         "j-1",
				Title:      "Fix boiler",
				CustomerID: "c-1",
				Address:    "1 Main St",
				Status:     tt.status,
				Version:    7,
				CreatedAt:  created,
				UpdatedAt:  updated,
				Assignment: tt.assignment,
			}
			origJob := j
			var origAssignment Assignment
			if tt.assignment != nil {
				origAssignment = *tt.assignment
			}

			got := j.Cancelled(at, "dana", tt.reason)

			// The job.
			if got.Status != Cancelled {
				t.Errorf("Status = %q, want Cancelled", got.Status)
			}
			if got.PreviousStatus != tt.status {
				t.Errorf("PreviousStatus = %q, want %q", got.PreviousStatus, tt.status)
			}
			if got.Version != 8 {
				t.Errorf("Version = %d, want 8", got.Version)
			}
			if !got.UpdatedAt.Equal(at) || !got.CancelledAt.Equal(at) {
				t.Errorf("UpdatedAt = %v, CancelledAt = %v, want both %v", got.UpdatedAt, got.CancelledAt, at)
			}
			if got.CancelledBy != "dana" {
				t.Errorf("CancelledBy = %q, want dana", got.CancelledBy)
			}
			if got.CancelReason != tt.reason {
				t.Errorf("CancelReason = %q, want %q", got.CancelReason, tt.reason)
			}
			if got.ID != j.ID || got.Title != j.Title || got.CustomerID != j.CustomerID || got.Address != j.Address || !got.CreatedAt.Equal(created) {
				t.Errorf("identity fields changed: %+v", got)
			}

			// The assignment.
			switch {
			case tt.assignment == nil:
				if got.Assignment != nil {
					t.Errorf("Assignment = %+v, want nil", got.Assignment)
				}
			case tt.wantCancelAssignment:
				if got.Assignment == nil {
					t.Fatal("Assignment = nil, want the cancelled assignment")
				}
				if got.Assignment == tt.assignment {
					t.Error("the result shares the receiver's *Assignment; want a copy")
				}
				want := origAssignment
				want.Status = AssignmentCancelled
				want.Version = origAssignment.Version + 1
				want.UpdatedAt, want.CancelledAt = at, at
				want.CancelledBy, want.CancelReason = "dana", tt.reason
				if !reflect.DeepEqual(*got.Assignment, want) {
					t.Errorf("Assignment = %+v\nwant         %+v", *got.Assignment, want)
				}
			default: // already cancelled: left exactly as it was
				if got.Assignment == nil {
					t.Fatal("Assignment = nil, want the (already cancelled) assignment kept")
				}
				if !reflect.DeepEqual(*got.Assignment, origAssignment) {
					t.Errorf("already-cancelled Assignment = %+v\nwant unchanged %+v", *got.Assignment, origAssignment)
				}
			}

			// The receiver is not mutated, through the value or the pointer.
			if !reflect.DeepEqual(j, origJob) {
				t.Errorf("receiver changed: %+v\nwas %+v", j, origJob)
			}
			if tt.assignment != nil {
				if j.Assignment != tt.assignment {
					t.Error("receiver's Assignment pointer changed")
				}
				if !reflect.DeepEqual(*tt.assignment, origAssignment) {
					t.Errorf("receiver's assignment mutated: %+v\nwas %+v", *tt.assignment, origAssignment)
				}
			}
		})
	}
}

// Cancelled is a value transformation: calling it twice from the same job gives the same
// result and does not accumulate versions.
func TestJobCancelledIdempotentOnReceiver(t *testing.T) {
	at := time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC)
	a := &Assignment{ID: "a-1", JobID: "j-1", Status: Pending, Version: 1}
	j := Job{ID: "j-1", Status: Assigned, Version: 2, Assignment: a}
	first := j.Cancelled(at, "dana", "x")
	second := j.Cancelled(at, "dana", "x")
	if !reflect.DeepEqual(first, second) {
		t.Errorf("two calls differ:\n%+v\n%+v", first, second)
	}
	if first.Version != 3 || first.Assignment.Version != 2 {
		t.Errorf("versions = job %d, assignment %d, want 3 and 2", first.Version, first.Assignment.Version)
	}
	if a.Status != Pending || a.Version != 1 {
		t.Errorf("original assignment mutated: %+v", *a)
	}
}

// TestAllowedActions: a dispatcher or an admin may cancel a job that is not final, assign
// one that is Unassigned or Assigned, and complete one in progress; a technician no
// assignment names may do nothing to it.
func TestAllowedActions(t *testing.T) {
	dana, tom := lifecycle.Actor{Sub: "dana", Roles: []string{RoleDispatcher}}, lifecycle.Actor{Sub: "tom", Roles: []string{"Technician"}}
	for _, st := range Statuses {
		want := []string{}
		if !st.Terminal() {
			want = []string{"cancel"}
		}
		if Assign.Allows(st) {
			want = append(want, "assign")
		}
		if Complete.Allows(st) {
			want = append(want, "complete")
		}
		if got := AllowedActions(Job{Status: st}, dana); !slices.Equal(got, want) {
			t.Errorf("%s: a dispatcher may %v, want %v", st, got, want)
		}
		if got := AllowedActions(Job{Status: st}, tom); len(got) != 0 || got == nil {
			t.Errorf("%s: a technician may %v, want []", st, got)
		}
	}
}

func TestAuthorizeRead(t *testing.T) {
	j := Job{ID: "j", Status: Assigned, Assignment: &Assignment{ID: "a", TechnicianID: "tom", Status: Pending}}
	for _, c := range []struct {
		actor lifecycle.Actor
		may   bool
	}{
		{lifecycle.Actor{Sub: "dana", Roles: []string{RoleDispatcher}}, true},
		{lifecycle.Actor{Sub: "adam", Roles: []string{RoleAdmin}}, true},
		{lifecycle.Actor{Sub: "tom", Roles: []string{RoleTechnician}}, true},
		{lifecycle.Actor{Sub: "tom"}, false},
		{lifecycle.Actor{Sub: "tess", Roles: []string{RoleTechnician}}, false},
		{lifecycle.Actor{Roles: []string{RoleTechnician}}, false},
	} {
		if err := AuthorizeRead(j, c.actor); (err == nil) != c.may {
			t.Errorf("%+v reads the job: %v, want allowed %v", c.actor, err, c.may)
		}
	}
	j.Assignment.Status = AssignmentCancelled
	if AuthorizeRead(j, lifecycle.Actor{Sub: "tom", Roles: []string{RoleTechnician}}) == nil {
		t.Error("tom reads a job whose assignment to him is cancelled")
	}
}
