package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lifecycle-api/lifecycle/shared/interview"
)

// MaxMessageBytes bounds one recorded message, as compact JSON: with
// interview.MaxRecentMessages of them, a session's history stays under 80 KB, far below
// DynamoDB's 400 KB item limit (docs/data-model.md).
const MaxMessageBytes = 4096

// interactionBody is POST /interviews/{id}/interactions' body: one message of the
// conversation (seed 001's recentMessages item) and, optionally, the session's progress
// (the fraction of the interview done, 0 to 1, as the console shows it) and score (0 to 100)
// after it.
type interactionBody struct {
	Message  *messageBody `json:"message"`
	Progress *float64     `json:"progress"`
	Score    *float64     `json:"score"`
}

func (interactionBody) fields() []string { return []string{"message", "progress", "score"} }

func (b *interactionBody) valid() error {
	var problems []string
	if b.Message == nil {
		problems = append(problems, "message is required")
	}
	if p := b.Progress; p != nil && (*p < 0 || *p > 1) {
		problems = append(problems, "progress must be from 0 to 1 (the fraction of the interview done)")
	}
	if s := b.Score; s != nil && (*s < 0 || *s > maxScore) {
		problems = append(problems, fmt.Sprintf("score must be from 0 to %d", maxScore))
	}
	if len(problems) > 0 {
		return invalid(strings.Join(problems, "; "))
	}
	return nil
}

// interaction is what the body asks to record.
func (b *interactionBody) interaction() *interview.Interaction {
	return &interview.Interaction{Message: b.Message.raw, MessageID: *b.Message.ID, Progress: b.Progress, Score: b.Score}
}

// fingerprint is what the body adds to a request's identity: a retry with the same key and
// another message, progress or score is another request.
func (b *interactionBody) fingerprint() string {
	num := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	sum := sha256.Sum256([]byte(string(b.Message.raw) + "\x00" + num(b.Progress) + "\x00" + num(b.Score)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// messageBody is one message, held to seed 001's fields: an id, the strings and the
// temperature typed, output, usage and metadata any JSON. It keeps the message as it was
// sent (compacted), which is what the history stores.
type messageBody struct {
	ID             *string         `json:"id"`
	ConversationID *string         `json:"conversationId"`
	Status         *string         `json:"status"`
	Model          *string         `json:"model"`
	Output         json.RawMessage `json:"output"`
	Temperature    *float64        `json:"temperature"`
	Usage          json.RawMessage `json:"usage"`
	Metadata       json.RawMessage `json:"metadata"`
	CreatedAt      *string         `json:"createdAt"`

	raw json.RawMessage
}

// messageFields are a message's fields; output, usage and metadata may be null (any JSON).
var (
	messageFields   = []string{"id", "conversationId", "status", "model", "output", "temperature", "usage", "metadata", "createdAt"}
	messageNullable = []string{"output", "usage", "metadata"}
)

type plainMessage messageBody

func (m *messageBody) UnmarshalJSON(data []byte) error {
	if err := decodeFields(data, (*plainMessage)(m), "message", messageFields, messageNullable); err != nil {
		return err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return invalid("malformed JSON")
	}
	if compact.Len() > MaxMessageBytes {
		return invalid(fmt.Sprintf("message must be at most %d bytes as JSON", MaxMessageBytes))
	}
	if m.ID == nil || strings.Trim(*m.ID, blankSpace) == "" || utf8.RuneCountInString(*m.ID) > maxIDLength {
		return invalid(fmt.Sprintf("message.id is required: 1 to %d characters, not blank", maxIDLength))
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"conversationId", m.ConversationID}, {"status", m.Status}, {"model", m.Model}, {"createdAt", m.CreatedAt}} {
		if f.v != nil && utf8.RuneCountInString(*f.v) > maxIDLength {
			return invalid(fmt.Sprintf("message.%s must be at most %d characters", f.name, maxIDLength))
		}
	}
	m.raw = compact.Bytes()
	return nil
}
