package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// JobTransitioner applies job transitions; shared/dynamo implements it.
type JobTransitioner interface {
	// Apply performs transition t for req, and returns the job it left, and whether this
	// was a retry of a request that had already applied.
	Apply(ctx context.Context, t job.Transition, req job.Request) (job.Job, bool, error)
}

// JobReader reads a job with its assignment.
type JobReader interface {
	Get(ctx context.Context, id string) (job.Job, error)
}

// dispatcherFrom authenticates the caller and checks the job roles (Dispatcher or Admin),
// before anything is read.
func dispatcherFrom(r *http.Request) (lifecycle.Actor, error) {
	actor, err := actorFrom(r)
	if err != nil {
		return actor, err
	}
	return actor, job.Authorize(actor)
}

// handleJobTransition serves one job transition: the caller (a role of the row's, or a
// technician for a technician's transition, before anything is read), the id, the body the row takes (a cancel's reason, an assignment's
// booking), one guarded write, and the job it left.
func handleJobTransition(store JobTransitioner, t job.Transition) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, err := actorFrom(r)
		if err != nil {
			return err
		}
		// Who may ask, before anything is read (the store checks which technician).
		if !t.MayAsk(actor) {
			return lifecycle.ErrForbidden
		}
		id, err := parseID("id", r.PathValue("id"))
		if err != nil {
			return err
		}
		log := addLogAttrs(r, "jobId", id, "sub", actor.Sub)
		req := job.Request{Request: lifecycle.Request{ID: id, Actor: actor, CorrelationID: correlationID(r)}}
		var fingerprint string
		switch t.Action {
		case job.Assign.Action:
			var b assignBody
			if err := decode(r, &b); err != nil {
				return err
			}
			req.Booking = b.booking()
			fingerprint = req.Booking.TechnicianID + "\x00" + lifecycle.FormatTime(req.Booking.Window.Start) + "\x00" + lifecycle.FormatTime(req.Booking.Window.End)
		case job.Reschedule.Action:
			var b rescheduleBody
			if err := decode(r, &b); err != nil {
				return err
			}
			req.Booking = &job.Booking{Window: b.window}
			fingerprint = lifecycle.FormatTime(b.window.Start) + "\x00" + lifecycle.FormatTime(b.window.End)
		case job.Cancel.Action:
			var b reasonBody
			if err := decode(r, &b); err != nil {
				return err
			}
			req.Reason, fingerprint = b.reason(), b.reason()
		default: // a technician's transition takes no body
			if err := decode(r, &emptyBody{}); err != nil {
				return err
			}
		}
		if req.Idempotency, err = idempotency(r, t.Function, actor, id, fingerprint); err != nil {
			return err
		}
		j, replay, err := store.Apply(r.Context(), t, req)
		if err != nil {
			return err
		}
		if replay {
			w.Header().Set(ReplayedHeader, "true")
		}
		// Statuses as plain strings: slog would marshal a named string type by reflection.
		attrs := []any{"action", t.Action, "from", string(j.PreviousStatus), "to", string(j.Status), "version", j.Version, "replayed", replay}
		if t.Action == job.Cancel.Action {
			attrs = append(attrs, reasonAttr(r, req.Reason))
		}
		if j.Assignment != nil {
			attrs = append(attrs, "assignmentId", j.Assignment.ID, "assignmentStatus", string(j.Assignment.Status))
		}
		log.Info("job "+t.Action, attrs...)
		w.Header().Set("ETag", etag(j.Version))
		encode(w, http.StatusOK, newJobJSON(j, actor))
		return nil
	}
}

// assignBody is POST /jobs/{id}/assign's body: the technician and the window to book.
type assignBody struct {
	TechnicianID   *string `json:"technicianId"`
	ScheduledStart *string `json:"scheduledStart"`
	ScheduledEnd   *string `json:"scheduledEnd"`
	window         job.Window
}

func (assignBody) fields() []string {
	return []string{"technicianId", "scheduledStart", "scheduledEnd"}
}

func (b *assignBody) valid() error {
	if b.TechnicianID == nil || strings.Trim(*b.TechnicianID, blankSpace) == "" || utf8.RuneCountInString(*b.TechnicianID) > maxIDLength {
		return invalid(fmt.Sprintf("technicianId is required: 1 to %d characters, not blank", maxIDLength))
	}
	w, err := bookingWindow(b.ScheduledStart, b.ScheduledEnd)
	b.window = w
	return err
}

// bookingWindow checks a booking's window as a body gives it (scheduledStart,
// scheduledEnd): RFC 3339 with a zone, on quarter-hours, start before end, at most
// job.MaxBooking; it returns the window in UTC.
func bookingWindow(start, end *string) (job.Window, error) {
	w := windowBody{Start: start, End: end}
	if p := w.problem("the booking", job.MaxBooking); p != "" {
		p = strings.NewReplacer("the booking.start must be before its end", "scheduledStart must be before scheduledEnd",
			"the booking.start", "scheduledStart", "the booking.end", "scheduledEnd").Replace(p)
		return job.Window{}, invalid(p)
	}
	win := job.Window{Start: w.start, End: w.end}
	if p := (job.Booking{TechnicianID: "-", Window: win}).Check(); p != "" {
		return job.Window{}, invalid(p)
	}
	return win, nil
}

// rescheduleBody is POST /jobs/{id}/reschedule's body: the window to move the current
// assignment to (its technician stays).
type rescheduleBody struct {
	ScheduledStart *string `json:"scheduledStart"`
	ScheduledEnd   *string `json:"scheduledEnd"`
	window         job.Window
}

func (rescheduleBody) fields() []string { return []string{"scheduledStart", "scheduledEnd"} }

func (b *rescheduleBody) valid() error {
	w, err := bookingWindow(b.ScheduledStart, b.ScheduledEnd)
	b.window = w
	return err
}

func (b *assignBody) booking() *job.Booking {
	return &job.Booking{TechnicianID: *b.TechnicianID, Window: b.window}
}

// handleGetJob reads a job for a dispatcher or an admin, or for the technician its current
// assignment names. Callers with neither role are refused before anything is read.
func handleGetJob(store JobReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, err := actorFrom(r)
		if err != nil {
			return err
		}
		if !actor.HasAnyRole(job.RoleDispatcher, job.RoleAdmin, job.RoleTechnician) {
			return lifecycle.ErrForbidden
		}
		id, err := parseID("id", r.PathValue("id"))
		if err != nil {
			return err
		}
		addLogAttrs(r, "jobId", id, "sub", actor.Sub)
		j, err := store.Get(r.Context(), id)
		if err == nil {
			err = job.AuthorizeRead(j, actor)
		}
		if err != nil {
			return err
		}
		w.Header().Set("ETag", etag(j.Version))
		encode(w, http.StatusOK, newJobJSON(j, actor))
		return nil
	}
}

// jobJSON is a job as the API returns it, with its current assignment (absent when none).
type jobJSON struct {
	ID           string          `json:"id"`
	Title        string          `json:"title"`
	CustomerID   string          `json:"customerId,omitempty"`
	Address      string          `json:"address,omitempty"`
	Status       job.Status      `json:"status"`
	Version      int64           `json:"version"`
	CreatedAt    string          `json:"createdAt"`
	UpdatedAt    string          `json:"updatedAt"`
	CancelledAt  string          `json:"cancelledAt,omitempty"`
	CancelledBy  string          `json:"cancelledBy,omitempty"`
	CancelReason string          `json:"cancelReason,omitempty"`
	Assignment   *assignmentJSON `json:"assignment,omitempty"`
	// RequestedWindow is when the customer asked for the visit, if they did.
	RequestedWindow *windowJSON `json:"requestedWindow,omitempty"`
	// AllowedActions are what the caller may do to the job now (job.AllowedActions).
	AllowedActions []string `json:"allowedActions"`
}

// windowJSON is a window of time as the API says it: UTC timestamps, [start, end).
type windowJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type assignmentJSON struct {
	ID             string               `json:"id"`
	TechnicianID   string               `json:"technicianId"`
	ScheduledStart string               `json:"scheduledStart"`
	ScheduledEnd   string               `json:"scheduledEnd"`
	Status         job.AssignmentStatus `json:"status"`
	Version        int64                `json:"version"`
	CancelledAt    string               `json:"cancelledAt,omitempty"`
}

func newJobJSON(j job.Job, actor lifecycle.Actor) jobJSON {
	out := jobJSON{
		AllowedActions: job.AllowedActions(j, actor),
		ID:             j.ID,
		Title:          j.Title,
		CustomerID:     j.CustomerID,
		Address:        j.Address,
		Status:         j.Status,
		Version:        j.Version,
		CreatedAt:      lifecycle.FormatTime(j.CreatedAt),
		UpdatedAt:      lifecycle.FormatTime(j.UpdatedAt),
		CancelledAt:    optTime(j.CancelledAt),
		CancelledBy:    j.CancelledBy,
		CancelReason:   j.CancelReason,
	}
	if rw := j.RequestedWindow; rw != nil {
		out.RequestedWindow = &windowJSON{Start: lifecycle.FormatTime(rw.Start), End: lifecycle.FormatTime(rw.End)}
	}
	if a := j.Assignment; a != nil {
		out.Assignment = &assignmentJSON{
			ID:             a.ID,
			TechnicianID:   a.TechnicianID,
			ScheduledStart: lifecycle.FormatTime(a.ScheduledStart),
			ScheduledEnd:   lifecycle.FormatTime(a.ScheduledEnd),
			Status:         a.Status,
			Version:        a.Version,
			CancelledAt:    optTime(a.CancelledAt),
		}
	}
	return out
}
