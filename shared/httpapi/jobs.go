package httpapi

import (
	"context"
	"net/http"

	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// JobCanceller cancels a job with its assignment; shared/dynamo implements it.
type JobCanceller interface {
	// Cancel returns the job the cancel left, and whether this was a retry of a request
	// that had already cancelled it.
	Cancel(ctx context.Context, req job.Request) (job.Job, bool, error)
}

// JobReader reads a job with its assignment.
type JobReader interface {
	Get(ctx context.Context, id string) (job.Job, error)
}

// jobCaller authenticates the caller and checks the job roles (Dispatcher or Admin)
// before anything is read, then validates the id.
func jobCaller(r *http.Request) (lifecycle.Actor, string, error) {
	actor, err := actorFrom(r)
	if err != nil {
		return actor, "", err
	}
	if err := job.Authorize(actor); err != nil {
		return actor, "", err
	}
	id, err := parseID("id", r.PathValue("id"))
	return actor, id, err
}

func handleCancelJob(store JobCanceller, t job.Transition) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, id, err := jobCaller(r)
		if err != nil {
			return err
		}
		log := addLogAttrs(r, "jobId", id, "sub", actor.Sub)
		var b reasonBody
		if err := decode(r, &b); err != nil {
			return err
		}
		idem, err := idempotency(r, t.Function, actor, id, b.reason())
		if err != nil {
			return err
		}
		j, replay, err := store.Cancel(r.Context(), job.Request{ID: id, Actor: actor, Reason: b.reason(), CorrelationID: correlationID(r), Idempotency: idem})
		if err != nil {
			return err
		}
		if replay {
			w.Header().Set(ReplayedHeader, "true")
		}
		// Statuses as plain strings: slog would marshal a named string type by reflection.
		attrs := []any{"from", string(j.PreviousStatus), "version", j.Version, reasonAttr(r, b.reason()), "replayed", replay}
		if j.Assignment != nil {
			attrs = append(attrs, "assignmentId", j.Assignment.ID, "assignmentStatus", string(j.Assignment.Status))
		}
		log.Info("job cancelled", attrs...)
		w.Header().Set("ETag", etag(j.Version))
		encode(w, http.StatusOK, newJobJSON(j, actor))
		return nil
	}
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
