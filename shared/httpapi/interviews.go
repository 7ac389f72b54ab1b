package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// InterviewStore applies interview transitions; shared/dynamo implements it.
type InterviewStore interface {
	Apply(ctx context.Context, t interview.Transition, req interview.Request) (interview.Session, error)
}

// MaxReasonLength is the longest cancellation reason accepted, in characters.
const MaxReasonLength = 500

// reasonBody is the optional body of the cancel routes: { "reason"?: string }.
type reasonBody struct {
	Reason *string `json:"reason"`
}

func (reasonBody) fields() []string { return []string{"reason"} }

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

// cancelInterviewResponse is seed 000's success body, plus the updated session.
type cancelInterviewResponse struct {
	Success   bool        `json:"success"`
	Message   string      `json:"message"`
	SessionID string      `json:"sessionId"`
	Session   sessionJSON `json:"session"`
}

func handleCancelInterview(logger *slog.Logger, store InterviewStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := requestLogger(logger, r)
		actor, err := actorFrom(r)
		if err != nil {
			respondError(w, r, log, opCancelInterview, err)
			return
		}
		id, err := parseID("id", r.PathValue("id"))
		if err != nil {
			respondError(w, r, log, opCancelInterview, err)
			return
		}
		log = log.With("sessionId", id, "sub", actor.Sub)
		var b reasonBody
		if err := decode(r, &b); err != nil {
			respondError(w, r, log, opCancelInterview, err)
			return
		}
		s, err := store.Apply(r.Context(), interview.Cancel, interview.Request{
			ID: id, Actor: actor, Reason: b.reason(), CorrelationID: correlationID(r),
		})
		if err != nil {
			respondError(w, r, log, opCancelInterview, err)
			return
		}
		log.Info("interview cancelled", "reason", b.reason(), "version", s.Version)
		encode(w, http.StatusOK, cancelInterviewResponse{
			Success:   true,
			Message:   "Interview cancelled successfully",
			SessionID: s.ID,
			Session:   newSessionJSON(s),
		})
	})
}

// sessionJSON is the session object exactly as seed 001 lists it; optional fields are
// left out when empty.
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
}

type retryPolicyJSON struct {
	MinCooldownHours   *float64 `json:"minCooldownHours,omitempty"`
	AutoSuggestIfBelow *float64 `json:"autoSuggestIfBelow,omitempty"`
}

func newSessionJSON(s interview.Session) sessionJSON {
	out := sessionJSON{
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
	}
	if out.TopicIDs == nil {
		out.TopicIDs = []string{}
	}
	if !s.LastInteractionAt.IsZero() {
		out.LastInteractionAt = lifecycle.FormatTime(s.LastInteractionAt)
	}
	if rp := s.RetryPolicy; rp != nil && (rp.MinCooldownHours != nil || rp.AutoSuggestIfBelow != nil) {
		out.RetryPolicy = &retryPolicyJSON{MinCooldownHours: rp.MinCooldownHours, AutoSuggestIfBelow: rp.AutoSuggestIfBelow}
	}
	return out
}
