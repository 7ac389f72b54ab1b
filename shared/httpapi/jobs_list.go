package httpapi

import (
	"context"
	"net/http"

	"github.com/lifecycle-api/lifecycle/shared/job"
)

// JobLister reads the dispatchers' board; shared/dynamo implements it.
type JobLister interface {
	List(ctx context.Context, q job.ListQuery) (job.Page, error)
}

// jobPageJSON is GET /jobs' answer.
type jobPageJSON struct {
	Items      []jobJSON `json:"items"`
	NextCursor string    `json:"nextCursor,omitempty"`
}

// handleListJobs answers a page of the board, for dispatchers and admins: jobs in the order
// of their board time (job.BoardTime), earliest first, each with its assignment and what the
// caller may do to it.
func handleListJobs(store JobLister) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, err := dispatcherFrom(r)
		if err != nil {
			return err
		}
		q, err := parseJobListQuery(r)
		if err != nil {
			return err
		}
		addLogAttrs(r, "sub", actor.Sub)
		page, err := store.List(r.Context(), q)
		if err != nil {
			return err
		}
		out := jobPageJSON{Items: make([]jobJSON, len(page.Items)), NextCursor: page.Next}
		for i, j := range page.Items {
			out.Items[i] = newJobJSON(j, actor)
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

// parseJobListQuery reads status, from, to, limit and cursor; each may appear at most once,
// and one that is present must be valid ("status=" is not "no filter").
func parseJobListQuery(r *http.Request) (job.ListQuery, error) {
	q := job.ListQuery{Limit: DefaultListLimit}
	values, err := queryValues(r)
	if err != nil {
		return q, err
	}
	for _, k := range []string{"status", "from", "to", "limit", "cursor"} {
		if len(values[k]) > 1 {
			return q, invalid(k + " must be given at most once")
		}
	}
	if v, ok := values["status"]; ok {
		st, ok := job.ParseStatus(v[0])
		if !ok {
			return q, invalid("status must be one of Unassigned, Assigned, InProgress, Completed, Cancelled")
		}
		q.Status = st
	}
	for _, k := range []string{"from", "to"} {
		v, ok := values[k]
		if !ok {
			continue
		}
		t, ok := parseTimestamp(v[0])
		if !ok {
			return q, invalid(k + " must be an RFC 3339 timestamp with its zone, between the years 2000 and 9999")
		}
		if k == "from" {
			q.From = t
		} else {
			q.To = t
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, invalid("from must be before to")
	}
	q.Limit, q.Cursor, err = parsePage(values)
	if err != nil {
		return q, err
	}
	return q, nil
}
