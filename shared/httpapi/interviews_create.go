package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// InterviewCreator stores new sessions; shared/dynamo implements it.
type InterviewCreator interface {
	// Create stores the session d makes for req.Actor under req.ID, and returns it, and
	// whether this was a retry of a create that had already applied.
	Create(ctx context.Context, d interview.Draft, req interview.Request) (interview.Session, bool, error)
}

// Bounds of a new session's fields (docs/api.md). Seed 001 gives their types; the bounds
// keep an item far below DynamoDB's 400 KB and a screen readable.
const (
	maxTitleLength  = 200
	maxIDLength     = 100
	maxListItems    = 50
	maxNotesLength  = 2000
	maxScore        = 100
	maxCooldownHour = 8760
)

// blankSpace is what a title or an interviewer may not consist of only, and what is
// trimmed from text: ASCII's whitespace, exactly what openapi.yaml's pattern [^ \t\n\r\f\v]
// says in every regex dialect (\s differs between them).
const blankSpace = " \t\n\r\f\v"

// createInterviewBody is POST /interviews' body: seed 001's fields that are the creator's
// to choose. Progress, score, status, the timestamps and the conversation history are the
// lifecycle's and the conversation service's.
type createInterviewBody struct {
	Title         *string          `json:"title"`
	TopicIDs      []string         `json:"topicIds"`
	TopicLabels   []string         `json:"topicLabels"`
	InterviewerID *string          `json:"interviewerId"`
	TargetScore   *float64         `json:"targetScore"`
	RetryPolicy   *retryPolicyBody `json:"retryPolicy"`
	Labels        []string         `json:"labels"`
	Notes         *string          `json:"notes"`
	Language      *string          `json:"language"`
	// Difficulty is an integer, which JSON may write as 3 or 3.0 (openapi.yaml's integer,
	// JSON Schema's: a number with no fraction): decoded as a number, checked whole.
	Difficulty     *float64 `json:"difficulty"`
	ConversationID *string  `json:"conversationId"`
}

func (createInterviewBody) fields() []string {
	return []string{"title", "topicIds", "topicLabels", "interviewerId", "targetScore", "retryPolicy", "labels", "notes",
		"language", "difficulty", "conversationId"}
}

func (b *createInterviewBody) valid() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	text := func(name string, v *string, required bool, limit int) {
		switch {
		case v == nil && required:
			bad("%s is required", name)
		case v == nil:
		case required && strings.Trim(*v, blankSpace) == "":
			bad("%s must not be blank", name)
		case utf8.RuneCountInString(*v) > limit:
			bad("%s must be at most %d characters", name, limit)
		}
	}
	list := func(name string, v []string, required bool) {
		if v == nil && required {
			bad("%s is required (an array of strings)", name)
		}
		if len(v) > maxListItems {
			bad("%s must have at most %d items", name, maxListItems)
		}
		for _, s := range v {
			if s == "" || utf8.RuneCountInString(s) > maxIDLength {
				bad("each of %s must be 1 to %d characters", name, maxIDLength)
				break
			}
		}
	}
	score := func(name string, v *float64) {
		if v != nil && (*v < 0 || *v > maxScore) {
			bad("%s must be from 0 to %d", name, maxScore)
		}
	}
	text("title", b.Title, true, maxTitleLength)
	list("topicIds", b.TopicIDs, true)
	list("topicLabels", b.TopicLabels, false)
	text("interviewerId", b.InterviewerID, true, maxIDLength)
	score("targetScore", b.TargetScore)
	if rp := b.RetryPolicy; rp != nil {
		if h := rp.MinCooldownHours; h != nil && (*h < 0 || *h > maxCooldownHour) {
			bad("retryPolicy.minCooldownHours must be from 0 to %d", maxCooldownHour)
		}
		score("retryPolicy.autoSuggestIfBelow", rp.AutoSuggestIfBelow)
	}
	list("labels", b.Labels, false)
	text("notes", b.Notes, false, maxNotesLength)
	if l := b.Language; l != nil && *l != "ko" && *l != "en" && *l != "ja" {
		bad("language must be one of ko, en, ja")
	}
	if d := b.Difficulty; d != nil && (*d != math.Trunc(*d) || *d < 1 || *d > 5) {
		bad("difficulty must be an integer from 1 to 5")
	}
	text("conversationId", b.ConversationID, false, maxIDLength)
	if len(problems) > 0 {
		return invalid(strings.Join(problems, "; "))
	}
	return nil
}

// retryPolicyBody is createInterviewBody's retryPolicy: an object held to the same rules
// as the body (no unknown, duplicate or null fields); valid checks its values.
type retryPolicyBody retryPolicyJSON

func (rp *retryPolicyBody) UnmarshalJSON(data []byte) error {
	return decodeFields(data, (*retryPolicyJSON)(rp), "retryPolicy", []string{"minCooldownHours", "autoSuggestIfBelow"}, nil)
}

// draft is the session the body describes.
func (b *createInterviewBody) draft() interview.Draft {
	str := func(v *string) string {
		if v == nil {
			return ""
		}
		return strings.Trim(*v, blankSpace)
	}
	d := interview.Draft{
		Title: str(b.Title), TopicIDs: b.TopicIDs, TopicLabels: b.TopicLabels, InterviewerID: str(b.InterviewerID),
		TargetScore: b.TargetScore, Labels: b.Labels, Notes: str(b.Notes), Language: str(b.Language), ConversationID: str(b.ConversationID),
	}
	if b.Difficulty != nil {
		d.Difficulty = int(*b.Difficulty)
	}
	if rp := b.RetryPolicy; rp != nil && (rp.MinCooldownHours != nil || rp.AutoSuggestIfBelow != nil) {
		d.RetryPolicy = &interview.RetryPolicy{MinCooldownHours: rp.MinCooldownHours, AutoSuggestIfBelow: rp.AutoSuggestIfBelow}
	}
	if d.TopicIDs == nil {
		d.TopicIDs = []string{}
	}
	return d
}

// handleCreateInterview creates a session owned by the caller: one conditional put that
// never overwrites an item, answered 201 with the session and its Location. With an
// Idempotency-Key the session's id is derived from the caller and the key, so a retry
// names the session its first attempt created and gets it back (Idempotent-Replayed).
func handleCreateInterview(store InterviewCreator, newID func() string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, err := actorFrom(r)
		if err != nil {
			return err
		}
		var b createInterviewBody
		if err := decode(r, &b); err != nil {
			return err
		}
		d := b.draft()
		idem, err := idempotency(r, FnCreateInterview, actor, "", draftFingerprint(d))
		if err != nil {
			return err
		}
		id := newID()
		if idem.Client {
			id = lifecycle.DeriveID("interview\x00" + actor.Sub + "\x00" + idem.Key)
		}
		log := addLogAttrs(r, "sessionId", id, "sub", actor.Sub)
		s, replay, err := store.Create(r.Context(), d, interview.Request{Request: lifecycle.Request{ID: id, Actor: actor, CorrelationID: correlationID(r), Idempotency: idem}})
		if err != nil {
			return err
		}
		if replay {
			w.Header().Set(ReplayedHeader, "true")
		}
		log.Info("interview created", "version", s.Version, "replayed", replay)
		w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+s.ID)
		w.Header().Set("ETag", etag(s.Version))
		b2, err := sessionBody(s, actor)
		write(w, http.StatusCreated, b2, err)
		return nil
	}
}

// draftFingerprint is what tells two creates apart for the Idempotency-Key's fingerprint: the
// session they describe, normalised (a draft's JSON: fields in a fixed order, trimmed).
func draftFingerprint(d interview.Draft) string {
	b, _ := json.Marshal(d) // a Draft holds strings, numbers and slices only
	return string(b)
}
