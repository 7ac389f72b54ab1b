package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// JobCreator stores new jobs; shared/dynamo implements it.
type JobCreator interface {
	// Create stores the job d makes under req.ID, and returns it, and whether this was a
	// retry of a create that had already applied.
	Create(ctx context.Context, d job.Draft, req job.Request) (job.Job, bool, error)
}

// Bounds of a new job's fields (docs/api.md).
const (
	maxAddressLength = 500
	// maxRequestedWindow is the longest window a customer may ask for.
	maxRequestedWindow = 14 * 24 * time.Hour
)

// createJobBody is POST /jobs' body: what a dispatcher knows of a new job.
type createJobBody struct {
	Title           *string     `json:"title"`
	CustomerID      *string     `json:"customerId"`
	Address         *string     `json:"address"`
	RequestedWindow *windowBody `json:"requestedWindow"`
}

func (createJobBody) fields() []string {
	return []string{"title", "customerId", "address", "requestedWindow"}
}

func (b *createJobBody) valid() error {
	var problems []string
	text := func(name string, v *string, limit int) {
		switch {
		case v == nil:
			problems = append(problems, name+" is required")
		case strings.Trim(*v, blankSpace) == "":
			problems = append(problems, name+" must not be blank")
		case utf8.RuneCountInString(*v) > limit:
			problems = append(problems, fmt.Sprintf("%s must be at most %d characters", name, limit))
		}
	}
	text("title", b.Title, maxTitleLength)
	text("customerId", b.CustomerID, maxIDLength)
	text("address", b.Address, maxAddressLength)
	if w := b.RequestedWindow; w != nil {
		if p := w.problem("requestedWindow", maxRequestedWindow); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return invalid(strings.Join(problems, "; "))
	}
	return nil
}

// draft is the job the body describes.
func (b *createJobBody) draft() job.Draft {
	d := job.Draft{Title: strings.Trim(*b.Title, blankSpace), CustomerID: strings.Trim(*b.CustomerID, blankSpace), Address: strings.Trim(*b.Address, blankSpace)}
	if w := b.RequestedWindow; w != nil {
		d.RequestedWindow = &job.Window{Start: w.start, End: w.end}
	}
	return d
}

// windowBody is a window of time in a body: {"start", "end"}, RFC 3339 timestamps with a
// zone, start before end. It is held to the body's rules at its depth (decodeFields), and
// its times are kept in UTC, to the millisecond (lifecycle.TimeLayout).
type windowBody struct {
	Start      *string `json:"start"`
	End        *string `json:"end"`
	start, end time.Time
}

func (w *windowBody) UnmarshalJSON(data []byte) error {
	var raw struct {
		Start *string `json:"start"`
		End   *string `json:"end"`
	}
	if err := decodeFields(data, &raw, "requestedWindow", []string{"start", "end"}, nil); err != nil {
		return err
	}
	w.Start, w.End = raw.Start, raw.End
	return nil
}

// problem says what is wrong with the window named name, "" when nothing is; it keeps the
// parsed times.
func (w *windowBody) problem(name string, longest time.Duration) string {
	parse := func(field string, v *string) (time.Time, string) {
		if v == nil {
			return time.Time{}, fmt.Sprintf("%s.%s is required", name, field)
		}
		// The years are checked below, with a message of their own.
		t, ok := parseRFC3339(*v)
		if !ok {
			return time.Time{}, fmt.Sprintf("%s.%s must be an RFC 3339 timestamp with its zone (2026-12-07T09:00:00Z)", name, field)
		}
		return t, ""
	}
	var p string
	if w.start, p = parse("start", w.Start); p != "" {
		return p
	}
	if w.end, p = parse("end", w.End); p != "" {
		return p
	}
	switch {
	case !w.start.Before(w.end):
		return name + ".start must be before its end"
	case w.end.Sub(w.start) > longest:
		return name + " must be at most " + lifecycle.FormatSpan(longest) + " long"
	case w.start.Year() < 2000 || w.end.Year() > 9999:
		return name + " must lie between the years 2000 and 9999"
	}
	return ""
}

// handleCreateJob creates a job (dispatchers and admins): one conditional put that never
// overwrites an item, answered 201 with the job and its Location. With an Idempotency-Key
// the job's id is derived from the caller and the key, so a retry gets the same job back.
func handleCreateJob(store JobCreator, newID func() string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, err := dispatcherFrom(r)
		if err != nil {
			return err
		}
		var b createJobBody
		if err := decode(r, &b); err != nil {
			return err
		}
		d := b.draft()
		fingerprint, _ := json.Marshal(d) // a Draft holds strings and times only
		idem, err := idempotency(r, FnCreateJob, actor, "", string(fingerprint))
		if err != nil {
			return err
		}
		id := newID()
		if idem.Client {
			id = lifecycle.DeriveID("job\x00" + actor.Sub + "\x00" + idem.Key)
		}
		log := addLogAttrs(r, "jobId", id, "sub", actor.Sub)
		j, replay, err := store.Create(r.Context(), d, job.Request{Request: lifecycle.Request{ID: id, Actor: actor, CorrelationID: correlationID(r), Idempotency: idem}})
		if err != nil {
			return err
		}
		if replay {
			w.Header().Set(ReplayedHeader, "true")
		}
		log.Info("job created", "version", j.Version, "replayed", replay)
		w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+j.ID)
		w.Header().Set("ETag", etag(j.Version))
		encode(w, http.StatusCreated, newJobJSON(j, actor))
		return nil
	}
}
