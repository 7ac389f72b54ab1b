package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// ScheduleReader reads a technician's calendar; shared/dynamo implements it.
type ScheduleReader interface {
	// Schedule returns the technician's bookings that meet [from, to), in time order. A
	// window may reach outside the range (the calendar is read by whole quarter-hours);
	// the handler clips it.
	Schedule(ctx context.Context, technician string, from, to time.Time) ([]job.Booked, error)
}

// scheduleJSON is GET /technicians/{id}/assignments' answer.
type scheduleJSON struct {
	TechnicianID string        `json:"technicianId"`
	From         string        `json:"from"`
	To           string        `json:"to"`
	Bookings     []bookingJSON `json:"bookings"`
}

type bookingJSON struct {
	JobID        string `json:"jobId"`
	AssignmentID string `json:"assignmentId"`
	// Start and End are the booking's window within [from, to).
	Start string `json:"start"`
	End   string `json:"end"`
}

// handleSchedule answers a technician's bookings between from and to (both required, RFC
// 3339, at most job.MaxScheduleRange apart): for a dispatcher or an admin, or for that
// technician ("me" names the caller).
func handleSchedule(store ScheduleReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, err := actorFrom(r)
		if err != nil {
			return err
		}
		tech := r.PathValue("id")
		if tech == "me" {
			tech = actor.Sub
		}
		if tech == "" || utf8.RuneCountInString(tech) > maxIDLength || strings.Trim(tech, blankSpace) == "" {
			return invalid(fmt.Sprintf("id must be a technician's id (1 to %d characters) or me", maxIDLength))
		}
		if err := job.AuthorizeSchedule(tech, actor); err != nil {
			return err
		}
		from, to, err := scheduleRange(r)
		if err != nil {
			return err
		}
		addLogAttrs(r, "technicianId", tech, "sub", actor.Sub)
		booked, err := store.Schedule(r.Context(), tech, from, to)
		if err != nil {
			return err
		}
		out := scheduleJSON{TechnicianID: tech, From: lifecycle.FormatTime(from), To: lifecycle.FormatTime(to), Bookings: []bookingJSON{}}
		for _, b := range job.ClipSchedule(booked, job.Window{Start: from, End: to}) {
			out.Bookings = append(out.Bookings, bookingJSON{JobID: b.JobID, AssignmentID: b.AssignmentID,
				Start: lifecycle.FormatTime(b.Window.Start), End: lifecycle.FormatTime(b.Window.End)})
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

// scheduleRange reads from and to: each exactly once, RFC 3339 with a zone, from before to,
// at most job.MaxScheduleRange apart.
func scheduleRange(r *http.Request) (time.Time, time.Time, error) {
	values, err := queryValues(r)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	var times [2]time.Time
	for i, k := range []string{"from", "to"} {
		v, ok := values[k]
		if !ok || len(v) != 1 {
			return time.Time{}, time.Time{}, invalid(k + " is required, once (an RFC 3339 timestamp with its zone)")
		}
		t, ok := parseTimestamp(v[0])
		if !ok {
			return time.Time{}, time.Time{}, invalid(k + " must be an RFC 3339 timestamp with its zone, between the years 2000 and 9999")
		}
		times[i] = t
	}
	from, to := times[0], times[1]
	if !from.Before(to) || to.Sub(from) > job.MaxScheduleRange {
		return time.Time{}, time.Time{}, invalid(fmt.Sprintf("from must be before to, at most %d days apart", int(job.MaxScheduleRange.Hours()/24)))
	}
	return from, to, nil
}
