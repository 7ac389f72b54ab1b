// Package job is the field-service domain: jobs, their technician assignment, and the
// cancel transition that ends both. It has no AWS imports.
package job

import (
	"slices"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Status is a job's lifecycle status.
type Status string

const (
	Unassigned Status = "Unassigned"
	Assigned   Status = "Assigned"
	InProgress Status = "InProgress"
	Completed  Status = "Completed"
	Cancelled  Status = "Cancelled"
)

// Statuses lists every job status, in lifecycle order.
var Statuses = []Status{Unassigned, Assigned, InProgress, Completed, Cancelled}

// Terminal reports whether no transition leaves s.
func (s Status) Terminal() bool { return s == Completed || s == Cancelled }

// AssignmentStatus is an assignment's status.
type AssignmentStatus string

const (
	Pending             AssignmentStatus = "Pending"
	Confirmed           AssignmentStatus = "Confirmed"
	AssignmentCancelled AssignmentStatus = "Cancelled"
)

// AssignmentStatuses lists every assignment status.
var AssignmentStatuses = []AssignmentStatus{Pending, Confirmed, AssignmentCancelled}

// Assignment books one technician for a job's scheduled window.
type Assignment struct {
	ID             string
	JobID          string
	TechnicianID   string
	ScheduledStart time.Time
	ScheduledEnd   time.Time
	Status         AssignmentStatus
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CancelledAt    time.Time
	CancelledBy    string
	CancelReason   string
}

// Window is a span of time, [Start, End), in UTC.
type Window struct {
	Start, End time.Time
}

// Job is a field-service job. Assignment is its current assignment, nil when it has none;
// a job has at most one.
type Job struct {
	ID         string
	Title      string
	CustomerID string
	Address    string
	// RequestedWindow is when the customer asked for the visit, if they did; the
	// assignment's window is the one booked.
	RequestedWindow *Window
	Status          Status
	PreviousStatus  Status
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
	CancelledAt     time.Time
	CancelledBy     string
	CancelReason    string
	Assignment      *Assignment
}

// Transition is one row of the job lifecycle: the rule (legal source states and target),
// what it does to the job's current assignment, who may take it, the event that announces
// it, where it is served and how its routes word their refusals.
type Transition struct {
	lifecycle.Rule[Status]
	// Assignment is the rule for the job's current assignment, which the transition changes
	// in the same atomic write.
	Assignment lifecycle.Rule[AssignmentStatus]
	// Roles may take it (any one of them).
	Roles []string
	// Technician: the technician the job's current assignment names may take it too.
	Technician bool
	// AssignmentFrom, when set, are the statuses the current assignment must be in (a
	// technician confirms a Pending one, starts on a Confirmed one); AssignmentTo, when set,
	// is the status the transition gives it.
	AssignmentFrom []AssignmentStatus
	AssignmentTo   AssignmentStatus
	// StampedAt names the job's timestamp the transition sets ("startedAt").
	StampedAt string
	// Event is the detail-type that announces it (shared/event), derived by the stream's
	// publisher from the action the write records.
	Event string
	lifecycle.Endpoint
	Refusals lifecycle.Refusals
}

// The job lifecycle. Cancel is allowed from every non-terminal status, and it cancels the
// job's current assignment in the same atomic write.
var (
	Cancel = Transition{
		Rule:       lifecycle.Rule[Status]{Action: "cancel", From: []Status{Unassigned, Assigned, InProgress}, To: Cancelled},
		Assignment: lifecycle.Rule[AssignmentStatus]{Action: "cancel", From: []AssignmentStatus{Pending, Confirmed}, To: AssignmentCancelled},
		Roles:      []string{RoleDispatcher, RoleAdmin},
		Event:      event.TypeJobCancelled,
		Endpoint:   lifecycle.Endpoint{Function: "cancel-job", Paths: []string{"/jobs/{id}/cancel"}},
		Refusals: lifecycle.Refusals{
			NotFound: "Job not found",
			ByStatus: map[string]string{string(Completed): "Cannot cancel a completed job", string(Cancelled): "Job is already cancelled"},
			Default:  "Job cannot be cancelled",
		},
	}
	// CancelAssignment is what Cancel does to the job's current assignment.
	CancelAssignment = Cancel.Assignment
)

// Transitions lists every job transition.
var Transitions = []Transition{Cancel, Assign, Reschedule, Confirm, Start, Complete}

// TransitionFor returns the transition of Transitions whose action is action.
func TransitionFor(action string) (Transition, bool) {
	for _, t := range Transitions {
		if t.Action == action {
			return t, true
		}
	}
	return Transition{}, false
}

// Authorize returns lifecycle.ErrForbidden unless the actor may act on jobs: dispatchers
// and admins.
func Authorize(actor lifecycle.Actor) error {
	if !actor.HasAnyRole(RoleDispatcher, RoleAdmin) {
		return lifecycle.ErrForbidden
	}
	return nil
}

// Decide explains why t may not be applied to j by actor: lifecycle.ErrForbidden when the
// actor holds none of its roles, an *lifecycle.InvalidTransitionError when the job's status
// forbids it, nil when it is legal.
func (t Transition) Decide(j Job, actor lifecycle.Actor) error {
	if !t.MayTake(j, actor) {
		return lifecycle.ErrForbidden
	}
	if err := t.Rule.Check(j.Status); err != nil {
		return err
	}
	if len(t.AssignmentFrom) > 0 {
		a := j.CurrentAssignment()
		if a == nil {
			return &lifecycle.InvalidTransitionError{Action: t.Action, Current: string(j.Status)}
		}
		if !slices.Contains(t.AssignmentFrom, a.Status) {
			// The assignment's status is what refuses it: the refusal says that one.
			return &lifecycle.InvalidTransitionError{Action: t.Action, Current: string(a.Status)}
		}
	}
	return nil
}

// MayTake reports whether actor is one t names for j: a holder of one of its roles, or,
// for a technician's transition, the technician j's current assignment names.
func (t Transition) MayTake(j Job, actor lifecycle.Actor) bool {
	if actor.HasAnyRole(t.Roles...) {
		return true
	}
	a := j.CurrentAssignment()
	return t.Technician && a != nil && actor.Sub != "" && a.TechnicianID == actor.Sub && actor.HasAnyRole(RoleTechnician)
}

// MayAsk reports whether actor may ask for t before the job is read: a holder of one of its
// roles, or, for a technician's transition, any technician (the read says which).
func (t Transition) MayAsk(actor lifecycle.Actor) bool {
	return actor.HasAnyRole(t.Roles...) || (t.Technician && actor.HasAnyRole(RoleTechnician))
}

// AllowedActions are the actions of Transitions that actor may take on j now, in the
// table's order: what a frontend offers (the API returns them with every job).
func AllowedActions(j Job, actor lifecycle.Actor) []string {
	out := []string{}
	for _, t := range Transitions {
		if t.Decide(j, actor) == nil {
			out = append(out, t.Action)
		}
	}
	return out
}

// ActionCreate is the action a job's creation records (its lastAction), from which its
// JobCreated event is derived.
const ActionCreate = "create"

// Draft is a new job as its creator describes it.
type Draft struct {
	Title           string
	CustomerID      string
	Address         string
	RequestedWindow *Window
}

// New returns the job id that creator makes from d at at: Unassigned, at version 1.
func New(id string, d Draft, at time.Time) Job {
	return Job{
		ID: id, Title: d.Title, CustomerID: d.CustomerID, Address: d.Address, RequestedWindow: d.RequestedWindow,
		Status: Unassigned, Version: 1, CreatedAt: at, UpdatedAt: at,
	}
}

// The roles of jobs. A dispatcher or an admin reads any job and creates, books, moves and
// cancels them; a technician reads the job they are booked on and confirms, starts and
// completes it.
const (
	RoleDispatcher = "Dispatcher"
	RoleAdmin      = "Admin"
	RoleTechnician = "Technician"
)

// AuthorizeRead returns lifecycle.ErrForbidden unless actor may read j: a dispatcher or an
// admin, or the technician its current assignment names.
func AuthorizeRead(j Job, actor lifecycle.Actor) error {
	if Authorize(actor) == nil {
		return nil
	}
	if a := j.CurrentAssignment(); a != nil && actor.Sub != "" && a.TechnicianID == actor.Sub && actor.HasAnyRole(RoleTechnician) {
		return nil
	}
	return lifecycle.ErrForbidden
}

// CurrentAssignment returns the assignment a cancel must end with the job: the current
// one when it is not already cancelled.
func (j Job) CurrentAssignment() *Assignment {
	if j.Assignment == nil || !CancelAssignment.Allows(j.Assignment.Status) {
		return nil
	}
	return j.Assignment
}

// Request is a job transition's request: the common part, and the booking an
// assignment or a reschedule takes.
type Request struct {
	lifecycle.Request
	// Booking is what an Assign books.
	Booking *Booking
}

// Cancelled returns j as a cancel at time at by actor leaves it: Cancelled, one version
// later, stamped, and its current assignment cancelled the same way. The store writes
// exactly this, guarded by the versions it read, so it can answer a transaction (which
// returns no item) with the state it committed.
func (j Job) Cancelled(at time.Time, by, reason string) Job {
	out := j
	out.PreviousStatus, out.Status = j.Status, Cancelled
	out.Version++
	out.UpdatedAt, out.CancelledAt, out.CancelledBy, out.CancelReason = at, at, by, reason
	if a := j.CurrentAssignment(); a != nil {
		ca := *a
		ca.Status = AssignmentCancelled
		ca.Version++
		ca.UpdatedAt, ca.CancelledAt, ca.CancelledBy, ca.CancelReason = at, at, by, reason
		out.Assignment = &ca
	}
	return out
}
