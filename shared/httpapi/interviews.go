package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// InterviewTransitioner applies interview transitions; shared/dynamo implements it.
type InterviewTransitioner interface {
	// Apply returns the session the transition left, and whether this was a retry of a
	// request that had already applied it.
	Apply(ctx context.Context, t interview.Transition, req interview.Request) (interview.Session, bool, error)
}

// InterviewReader reads one session.
type InterviewReader interface {
	Get(ctx context.Context, id string) (interview.Session, error)
}

// InterviewLister lists one owner's sessions.
type InterviewLister interface {
	List(ctx context.Context, q interview.ListQuery) (interview.Page, error)
}

// MaxReasonLength is the longest cancellation reason accepted, in characters.
const MaxReasonLength = 500

// reasonBody is the optional body of the cancel routes: { "reason"?: string | null }; a
// null reason, like an absent or blank one, means none (frontends send null for an empty
// field).
type reasonBody struct {
	Reason *string `json:"reason"`
}

func (reasonBody) fields() []string   { return []string{"reason"} }
func (reasonBody) nullable() []string { return []string{"reason"} }

func (b *reasonBody) valid() error {
	if b.Reason == nil {
		return nil
	}
	if n := utf8.RuneCountInString(*b.Reason); n > MaxReasonLength {
		return invalid("reason must be at most 500 characters")
	}
	return nil
}

// reason returns the trimmed reason, "" when none was given.
func (b *reasonBody) reason() string {
	if b.Reason == nil {
		return ""
	}
	return strings.TrimSpace(*b.Reason)
}

// scoreBody is the optional body of the complete routes: { "score"?: number | null }, the
// session's final score (0–100); absent or null keeps the score it has.
type scoreBody struct {
	Score *float64 `json:"score"`
}

func (scoreBody) fields() []string   { return []string{"score"} }
func (scoreBody) nullable() []string { return []string{"score"} }

func (b *scoreBody) valid() error {
	if b.Score != nil && (*b.Score < 0 || *b.Score > maxScore) {
		return invalid("score must be from 0 to 100")
	}
	return nil
}

// fingerprint is what the body adds to a request's identity.
func (b *scoreBody) fingerprint() string {
	if b.Score == nil {
		return ""
	}
	return strconv.FormatFloat(*b.Score, 'g', -1, 64)
}

// pauseBody is the optional body of the pause route: { "resumeAt"?: RFC 3339 | null }, when
// the session resumes itself; absent or null, it stays paused until resumed.
type pauseBody struct {
	ResumeAt *string `json:"resumeAt"`
	at       time.Time
}

func (pauseBody) fields() []string   { return []string{"resumeAt"} }
func (pauseBody) nullable() []string { return []string{"resumeAt"} }

func (b *pauseBody) valid() error {
	if b.ResumeAt == nil {
		return nil
	}
	t, ok := parseTimestamp(*b.ResumeAt)
	if !ok {
		return invalid("resumeAt must be an RFC 3339 timestamp with its zone")
	}
	b.at = t
	return nil
}

// fingerprint is what the body adds to a request's identity.
func (b *pauseBody) fingerprint() string {
	if b.at.IsZero() {
		return ""
	}
	return "resumeAt=" + lifecycle.FormatTime(b.at)
}

// emptyBody is the body of routes that take none: absent, empty, or {}.
type emptyBody struct{}

func (emptyBody) fields() []string { return nil }
func (emptyBody) valid() error     { return nil }

// cancelInterviewResponse is seed 000's success body; the updated session is added to it as
// "session" (sessionBody).
type cancelInterviewResponse struct {
	Success   bool   `json:"success"`
	Message   string `json:"message"`
	SessionID string `json:"sessionId"`
}

func respondCancelled(w http.ResponseWriter, s interview.Session, actor lifecycle.Actor) {
	envelope, err := json.Marshal(cancelInterviewResponse{Success: true, Message: "Interview cancelled successfully", SessionID: s.ID})
	session, serr := sessionBody(s, actor)
	write(w, http.StatusOK, withRawField(envelope, "session", session), errors.Join(err, serr))
}

// respondSession answers with the session object itself (seed 001).
func respondSession(w http.ResponseWriter, s interview.Session, actor lifecycle.Actor) {
	b, err := sessionBody(s, actor)
	write(w, http.StatusOK, b, err)
}

// sessionBody is the session's JSON, seed 001's object. Its conversation history is added
// as it was stored (withRawField): the store checked that it is JSON when it read it.
func sessionBody(s interview.Session, actor lifecycle.Actor) ([]byte, error) {
	j := newSessionJSON(s, actor)
	j.RecentMessages = nil
	b, err := json.Marshal(j)
	if err != nil || len(s.RecentMessages) == 0 {
		return b, err
	}
	return withRawField(b, "recentMessages", s.RecentMessages), nil
}

// handleInterviewTransition serves one interview transition: caller, id, body, one
// conditional write, then respond with the updated session in the route's shape.
func handleInterviewTransition(store InterviewTransitioner, t interview.Transition, respond func(http.ResponseWriter, interview.Session, lifecycle.Actor)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, err := actorFrom(r)
		if err != nil {
			return err
		}
		id, err := parseID("id", r.PathValue("id"))
		if err != nil {
			return err
		}
		log := addLogAttrs(r, "sessionId", id, "sub", actor.Sub)
		var b reasonBody
		var sb scoreBody
		var ib interactionBody
		var pb pauseBody
		var dst body = &emptyBody{}
		switch {
		case t.TakesReason:
			dst = &b
		case t.TakesScore:
			dst = &sb
		case t.TakesInteraction:
			dst = &ib
		case t.TakesResumeAt:
			dst = &pb
		}
		if err := decode(r, dst); err != nil {
			return err
		}
		req := interview.Request{Request: lifecycle.Request{ID: id, Actor: actor, Reason: b.reason(), CorrelationID: correlationID(r)}, Score: sb.Score, ResumeAt: pb.at}
		fingerprint := b.reason() + sb.fingerprint() + pb.fingerprint()
		if t.TakesInteraction {
			req.Interaction, fingerprint = ib.interaction(), ib.fingerprint()
			log = addLogAttrs(r, "messageId", req.Interaction.MessageID)
		}
		idem, err := idempotency(r, t.Function, actor, id, fingerprint)
		if err != nil {
			return err
		}
		req.Idempotency = idem
		s, replay, err := store.Apply(r.Context(), t, req)
		if err != nil {
			return err
		}
		if replay {
			w.Header().Set(ReplayedHeader, "true")
		}
		// Statuses as plain strings: slog would marshal a named string type by reflection.
		attrs := []any{"action", t.Action, "from", string(s.PreviousStatus), "to", string(s.Status), "version", s.Version, "replayed", replay}
		if t.TakesReason {
			attrs = append(attrs, reasonAttr(r, b.reason()))
		}
		log.Info("interview "+string(t.To), attrs...)
		w.Header().Set("ETag", etag(s.Version))
		respond(w, s, actor)
		return nil
	}
}

func handleGetInterview(store InterviewReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, err := actorFrom(r)
		if err != nil {
			return err
		}
		id, err := parseID("id", r.PathValue("id"))
		if err != nil {
			return err
		}
		addLogAttrs(r, "sessionId", id, "sub", actor.Sub)
		s, err := store.Get(r.Context(), id)
		if err == nil {
			err = interview.Authorize(s, actor)
		}
		if err != nil {
			return err
		}
		w.Header().Set("ETag", etag(s.Version))
		respondSession(w, s, actor)
		return nil
	}
}

// List paging bounds.
const (
	DefaultListLimit = 20
	MaxListLimit     = 100
)

// listResponse is one page of session summaries: each session without its conversation
// history (recentMessages), which GET /interviews/{id} returns.
type listResponse struct {
	Items      []sessionJSON `json:"items"`
	NextCursor string        `json:"nextCursor,omitempty"`
}

func handleListInterviews(store InterviewLister) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, err := actorFrom(r)
		if err != nil {
			return err
		}
		q, err := parseListQuery(r)
		if err != nil {
			return err
		}
		q.Owner = actor.Sub
		page, err := store.List(r.Context(), q)
		if err != nil {
			return err
		}
		resp := listResponse{Items: make([]sessionJSON, len(page.Items)), NextCursor: page.Next}
		for i, s := range page.Items {
			resp.Items[i] = newSessionJSON(s, actor)
			resp.Items[i].RecentMessages = nil
		}
		encode(w, http.StatusOK, resp)
		return nil
	}
}

// parseListQuery reads status, limit and cursor; each may appear at most once.
func parseListQuery(r *http.Request) (interview.ListQuery, error) {
	q := interview.ListQuery{Limit: DefaultListLimit}
	values, err := queryValues(r)
	if err != nil {
		return q, err
	}
	for _, k := range []string{"status", "limit", "cursor"} {
		if len(values[k]) > 1 {
			return q, invalid(k + " must be given at most once")
		}
	}
	// A parameter that is present must be valid: "status=" is not "no filter".
	if v, ok := values["status"]; ok {
		st, ok := interview.ParseStatus(v[0])
		if !ok {
			return q, invalid("status must be one of active, paused, completed, cancelled")
		}
		q.Status = st
	}
	q.Limit, q.Cursor, err = parsePage(values)
	return q, err
}

// parsePage reads a listing's limit (DefaultListLimit when absent) and cursor ("" when
// absent); each was checked to appear at most once.
func parsePage(values url.Values) (int, string, error) {
	limit, cursor := DefaultListLimit, ""
	if v, ok := values["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > MaxListLimit {
			return 0, "", invalid("limit must be an integer from 1 to 100")
		}
		limit = n
	}
	if v, ok := values["cursor"]; ok {
		if v[0] == "" {
			return 0, "", invalid("cursor must not be empty; leave it out for the first page")
		}
		cursor = v[0]
	}
	return limit, cursor, nil
}

// optTime formats t, or returns "" for the zero time (an absent optional timestamp).
func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return lifecycle.FormatTime(t)
}

// etag is the entity tag of a version.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// sessionJSON is the session object as seed 001 lists it, with what a cancel recorded;
// optional fields are left out when empty.
type sessionJSON struct {
	ID                string           `json:"id"`
	TopicIDs          []string         `json:"topicIds"`
	TopicLabels       []string         `json:"topicLabels,omitempty"`
	Title             string           `json:"title"`
	Progress          float64          `json:"progress"`
	Score             float64          `json:"score"`
	TargetScore       *float64         `json:"targetScore,omitempty"`
	CreatedAt         string           `json:"createdAt"`
	UpdatedAt         string           `json:"updatedAt"`
	LastInteractionAt string           `json:"lastInteractionAt,omitempty"`
	InterviewerID     string           `json:"interviewerId"`
	ConversationID    string           `json:"conversationId,omitempty"`
	Status            interview.Status `json:"status"`
	RetryPolicy       *retryPolicyJSON `json:"retryPolicy,omitempty"`
	Labels            []string         `json:"labels,omitempty"`
	Notes             string           `json:"notes,omitempty"`
	Language          string           `json:"language,omitempty"`
	Difficulty        int              `json:"difficulty,omitempty"`
	RecentMessages    json.RawMessage  `json:"recentMessages,omitempty"`
	// What a cancel recorded, once there is one.
	CancelledAt  string `json:"cancelledAt,omitempty"`
	CancelledBy  string `json:"cancelledBy,omitempty"`
	CancelReason string `json:"cancelReason,omitempty"`
	// When a completion recorded it.
	CompletedAt string `json:"completedAt,omitempty"`
	// ResumeAt is when a session paused until a time resumes itself (only while it is).
	ResumeAt string `json:"resumeAt,omitempty"`
	// AllowedActions are what the caller may do to the session now (interview.AllowedActions).
	AllowedActions []string `json:"allowedActions"`
}

type retryPolicyJSON struct {
	MinCooldownHours   *float64 `json:"minCooldownHours,omitempty"`
	AutoSuggestIfBelow *float64 `json:"autoSuggestIfBelow,omitempty"`
}

func newSessionJSON(s interview.Session, actor lifecycle.Actor) sessionJSON {
	out := sessionJSON{
		AllowedActions: interview.AllowedActions(s, actor),
		ID:             s.ID,
		TopicIDs:       s.TopicIDs,
		TopicLabels:    s.TopicLabels,
		Title:          s.Title,
		Progress:       s.Progress,
		Score:          s.Score,
		TargetScore:    s.TargetScore,
		CreatedAt:      lifecycle.FormatTime(s.CreatedAt),
		UpdatedAt:      lifecycle.FormatTime(s.UpdatedAt),
		InterviewerID:  s.InterviewerID,
		ConversationID: s.ConversationID,
		Status:         s.Status,
		Labels:         s.Labels,
		Notes:          s.Notes,
		Language:       s.Language,
		Difficulty:     s.Difficulty,
		RecentMessages: s.RecentMessages,
		CancelledAt:    optTime(s.CancelledAt),
		CancelledBy:    s.CancelledBy,
		CancelReason:   s.CancelReason,
		CompletedAt:    optTime(s.CompletedAt),
		ResumeAt:       optTime(s.ResumeAt),
	}
	if out.TopicIDs == nil {
		out.TopicIDs = []string{}
	}
	out.LastInteractionAt = optTime(s.LastInteractionAt)
	if rp := s.RetryPolicy; rp != nil && (rp.MinCooldownHours != nil || rp.AutoSuggestIfBelow != nil) {
		out.RetryPolicy = &retryPolicyJSON{MinCooldownHours: rp.MinCooldownHours, AutoSuggestIfBelow: rp.AutoSuggestIfBelow}
	}
	return out
}
