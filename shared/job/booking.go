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
		return fmt.Sprintf("a booking is at most %s long", MaxBooking)
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
	Assignment: lifecycle.Rule[AssignmentStatus]{Action: "assign", From: []AssignmentStatus{Pending, Confirmed}, To: AssignmentCanceled},
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
