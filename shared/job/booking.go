package job

import (
	"fmt"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Calendar integrity: a technician is never booked into two overlapping live windows.
//
// A window is booked as the quarter-hours it covers, each a slot of the technician's
// calendar; a store holds one item per booked slot and writes them in the same transaction
// as the assignment, each guarded by there being none, so two bookings that overlap cannot
// both commit. Windows lie on quarter-hours (UTC), so a slot is exactly what it covers.
const (
	// SlotSize is a calendar slot: a window starts and ends on one of its boundaries.
	SlotSize = 15 * time.Minute
	// MaxBooking is the longest window one booking may take: 32 slots. A reassignment
	// releases the old window's slots and books the new one's in one transaction, and a
	// transaction holds at most 100 items: 32 + 32 and the job, the two assignments and the
	// request's record fit with room to spare.
	MaxBooking = 8 * time.Hour
)

// Booking is the technician and the window an assignment books.
type Booking struct {
	TechnicianID string
	Window       Window
}

// Check returns what is wrong with the booking, "" when nothing is: a technician, a window
// on quarter-hours (UTC), start before end, at most MaxBooking long.
func (b Booking) Check() string {
	w := b.Window
	switch {
	case b.TechnicianID == "":
		return "technicianId is required"
	case !w.Start.Before(w.End):
		return "scheduledStart must be before scheduledEnd"
	case w.End.Sub(w.Start) > MaxBooking:
		return "a booking is at most " + lifecycle.FormatSpan(MaxBooking) + " long"
	case !onSlot(w.Start) || !onSlot(w.End):
		return "scheduledStart and scheduledEnd must be on a quarter-hour (00, 15, 30 or 45 minutes past, whole seconds)"
	}
	return ""
}

func onSlot(t time.Time) bool { return t.Equal(t.Truncate(SlotSize)) }

// Slots are the quarter-hours w covers, in order: the slots a booking of w holds.
func (w Window) Slots() []time.Time {
	var out []time.Time
	for t := w.Start.UTC(); t.Before(w.End); t = t.Add(SlotSize) {
		out = append(out, t)
	}
	return out
}

// BookingConflictError says the technician is already booked, on another job, into a slot
// the booking needs.
type BookingConflictError struct {
	TechnicianID string
	// JobID is the job that holds the slot.
	JobID string
	Slot  time.Time
}

func (e *BookingConflictError) Error() string {
	return fmt.Sprintf("technician %s is booked on job %s at %s", e.TechnicianID, e.JobID, lifecycle.FormatTime(e.Slot))
}

// Assign books a technician into a window for the job: from Unassigned, or from Assigned,
// when the current assignment is cancelled in the same write and its slots released.
var Assign = Transition{
	Rule:       lifecycle.Rule[Status]{Action: "assign", From: []Status{Unassigned, Assigned}, To: Assigned},
	Assignment: lifecycle.Rule[AssignmentStatus]{Action: "assign", From: []AssignmentStatus{Pending, Confirmed}, To: AssignmentCancelled},
	Roles:      []string{RoleDispatcher, RoleAdmin},
	Event:      event.TypeJobAssigned,
	Endpoint:   lifecycle.Endpoint{Function: "assign-job", Paths: []string{"/jobs/{id}/assign"}},
	Refusals: lifecycle.Refusals{
		NotFound: "Job not found",
		ByStatus: map[string]string{
			string(InProgress): "Cannot assign a job in progress",
			string(Completed):  "Cannot assign a completed job",
			string(Cancelled):  "Cannot assign a cancelled job",
		},
		Default: "Job cannot be assigned",
	},
}

// Assigned returns j as an assignment a, made at at, leaves it: Assigned, one version
// later, with a as its current assignment (Pending, version 1) and its previous one, if it
// had one, cancelled. The store writes exactly this.
func (j Job) Assigned(a Assignment, at time.Time, by string) Job {
	out := j
	out.PreviousStatus, out.Status = j.Status, Assigned
	out.Version++
	out.UpdatedAt = at
	a.Status, a.Version, a.CreatedAt, a.UpdatedAt, a.JobID = Pending, 1, at, at, j.ID
	out.Assignment = &a
	return out
}

// The technician's transitions: each by the technician the current assignment names (and
// Complete by a dispatcher or an admin too).
var (
	// Confirm: the technician accepts the booking; the job stays Assigned.
	Confirm = Transition{
		Rule:           lifecycle.Rule[Status]{Action: "confirm", From: []Status{Assigned}, To: Assigned},
		Technician:     true,
		AssignmentFrom: []AssignmentStatus{Pending},
		AssignmentTo:   Confirmed,
		StampedAt:      "confirmedAt",
		Event:          event.TypeAssignmentConfirmed,
		Endpoint:       lifecycle.Endpoint{Function: "confirm-job", Paths: []string{"/jobs/{id}/confirm"}},
		Refusals: lifecycle.Refusals{
			NotFound: "Job not found",
			ByStatus: map[string]string{
				string(Confirmed):  "The assignment is already confirmed",
				string(Unassigned): "The job has no assignment to confirm",
				string(InProgress): "The job is already in progress",
				string(Completed):  "The job is completed",
				string(Cancelled):  "The job is cancelled",
			},
			Default: "The assignment cannot be confirmed",
		},
	}
	// Start: the technician starts work on a confirmed assignment.
	Start = Transition{
		Rule:           lifecycle.Rule[Status]{Action: "start", From: []Status{Assigned}, To: InProgress},
		Technician:     true,
		AssignmentFrom: []AssignmentStatus{Confirmed},
		StampedAt:      "startedAt",
		Event:          event.TypeJobStarted,
		Endpoint:       lifecycle.Endpoint{Function: "start-job", Paths: []string{"/jobs/{id}/start"}},
		Refusals: lifecycle.Refusals{
			NotFound: "Job not found",
			ByStatus: map[string]string{
				string(Pending):    "Confirm the assignment before starting the job",
				string(Unassigned): "The job has no assignment to start",
				string(InProgress): "The job is already in progress",
				string(Completed):  "The job is completed",
				string(Cancelled):  "The job is cancelled",
			},
			Default: "The job cannot be started",
		},
	}
	// Complete: the work is done; by the technician, or a dispatcher or an admin.
	Complete = Transition{
		Rule:       lifecycle.Rule[Status]{Action: "complete", From: []Status{InProgress}, To: Completed},
		Roles:      []string{RoleDispatcher, RoleAdmin},
		Technician: true,
		StampedAt:  "completedAt",
		Event:      event.TypeJobCompleted,
		Endpoint:   lifecycle.Endpoint{Function: "complete-job", Paths: []string{"/jobs/{id}/complete"}},
		Refusals: lifecycle.Refusals{
			NotFound: "Job not found",
			ByStatus: map[string]string{
				string(Unassigned): "The job has not started",
				string(Assigned):   "The job has not started",
				string(Completed):  "The job is already completed",
				string(Cancelled):  "The job is cancelled",
			},
			Default: "The job cannot be completed",
		},
	}
)

// Stepped returns j as technician transition t (Confirm, Start, Complete), made at at,
// leaves it: its status, one version later, and its current assignment in the status t
// gives it (one version later) when t changes it. The store writes exactly this.
func (j Job) Stepped(t Transition, at time.Time) Job {
	out := j
	out.PreviousStatus, out.Status = j.Status, t.To
	out.Version++
	out.UpdatedAt = at
	if a := j.CurrentAssignment(); a != nil && t.AssignmentTo != "" && a.Status != t.AssignmentTo {
		moved := *a
		moved.Status, moved.Version, moved.UpdatedAt = t.AssignmentTo, a.Version+1, at
		out.Assignment = &moved
	}
	return out
}

// Reschedule moves the current assignment's window, under the same calendar rule as a
// booking; the technician stays. The assignment goes back to Pending: its technician
// confirmed another time, and confirms the new one.
var Reschedule = Transition{
	Rule:           lifecycle.Rule[Status]{Action: "reschedule", From: []Status{Assigned}, To: Assigned},
	Roles:          []string{RoleDispatcher, RoleAdmin},
	AssignmentFrom: []AssignmentStatus{Pending, Confirmed},
	AssignmentTo:   Pending,
	StampedAt:      "rescheduledAt",
	Event:          event.TypeJobRescheduled,
	Endpoint:       lifecycle.Endpoint{Function: "reschedule-job", Paths: []string{"/jobs/{id}/reschedule"}},
	Refusals: lifecycle.Refusals{
		NotFound: "Job not found",
		ByStatus: map[string]string{
			string(Unassigned): "The job has no assignment to reschedule",
			string(InProgress): "Cannot reschedule a job in progress",
			string(Completed):  "Cannot reschedule a completed job",
			string(Cancelled):  "Cannot reschedule a cancelled job",
		},
		Default: "The job cannot be rescheduled",
	},
}

// Rescheduled returns j as moving its current assignment to w, at at, leaves it: one
// version later, its assignment Pending over w (one version later).
func (j Job) Rescheduled(w Window, at time.Time) Job {
	out := j.Stepped(Reschedule, at)
	if a := out.Assignment; a != nil {
		moved := *a
		if moved.Version == j.Assignment.Version {
			moved.Version++
		}
		moved.ScheduledStart, moved.ScheduledEnd, moved.UpdatedAt = w.Start, w.End, at
		out.Assignment = &moved
	}
	return out
}

// Booked is one booking of a technician's calendar: the job, the assignment and its window.
type Booked struct {
	JobID        string
	AssignmentID string
	Window       Window
}

// Clip returns the part of w that lies in r, and whether there is any. Windows are
// half-open, so a w that only touches r (ends at r's start, or starts at its end) has none.
func (w Window) Clip(r Window) (Window, bool) {
	if w.Start.Before(r.Start) {
		w.Start = r.Start
	}
	if w.End.After(r.End) {
		w.End = r.End
	}
	return w, w.Start.Before(w.End)
}

// ClipSchedule returns the bookings as a schedule of r shows them: each window clipped to
// r, one with nothing in r left out, in the order given. A calendar is read a quarter-hour
// slot at a time, so a booking read for r covers whole slots and may start before r or end
// after it; the schedule shows exactly the part in r, never the rest of a slot r cuts.
func ClipSchedule(booked []Booked, r Window) []Booked {
	out := make([]Booked, 0, len(booked))
	for _, b := range booked {
		if w, ok := b.Window.Clip(r); ok {
			b.Window = w
			out = append(out, b)
		}
	}
	return out
}

// MaxScheduleRange is the longest span one schedule read covers.
const MaxScheduleRange = 14 * 24 * time.Hour

// AuthorizeSchedule returns lifecycle.ErrForbidden unless actor may read technician's
// schedule: a dispatcher or an admin, or that technician.
func AuthorizeSchedule(technician string, actor lifecycle.Actor) error {
	if Authorize(actor) == nil || (actor.Sub != "" && actor.Sub == technician && actor.HasAnyRole(RoleTechnician)) {
		return nil
	}
	return lifecycle.ErrForbidden
}
