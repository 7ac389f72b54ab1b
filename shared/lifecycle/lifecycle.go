// Package lifecycle holds what every entity's lifecycle shares: the actor who asks for a
// transition, the rule that says which states a transition may leave, and the errors a
// transition can end in. It has no AWS imports; adapters translate their failures into
// these errors and the HTTP layer maps them to responses.
package lifecycle

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Actor is the authenticated caller asking for a transition: a user (Sub, Roles) or a
// service (Sub is its client id; Scopes are what its token grants).
type Actor struct {
	Sub    string
	Roles  []string
	Scopes []string
}

// HasScope reports whether the actor's token grants scope.
func (a Actor) HasScope(scope string) bool { return scope != "" && slices.Contains(a.Scopes, scope) }

// HasAnyRole reports whether the actor holds at least one of roles.
func (a Actor) HasAnyRole(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(a.Roles, r) {
			return true
		}
	}
	return false
}

var (
	// ErrNotFound: the entity does not exist.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the entity exists but the actor may not act on it.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: the request carries no usable identity.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrConflict: the entity changed between the read and the guarded write;
	// the caller may retry.
	ErrConflict = errors.New("concurrent modification")
	// ErrInvalidCursor: a pagination cursor that is malformed or that another listing (another
	// caller, another status filter) issued.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrIdempotencyKeyReused: an idempotency key came back with a different request.
	ErrIdempotencyKeyReused = errors.New("idempotency key reused for a different request")
	// ErrUnavailable: the store throttled or failed after its own retries; the
	// caller may retry later.
	ErrUnavailable = errors.New("temporarily unavailable")
)

// RateLimitedError says the caller has used up a per-caller allowance (Limit, in words)
// until RetryAfter has passed.
type RateLimitedError struct {
	Limit      string
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited: %s; retry after %s", e.Limit, e.RetryAfter)
}

// InvalidInputError says a value the request gave is out of what the domain accepts at the
// time of the request (a pause's resumeAt too soon or too far ahead): a client mistake that
// no schema can state.
type InvalidInputError struct{ Details string }

func (e *InvalidInputError) Error() string { return "invalid input: " + e.Details }

// InvalidTransitionError says the entity's current status does not allow the action.
type InvalidTransitionError struct {
	Action  string
	Current string
}

func (e *InvalidTransitionError) Error() string {
	return fmt.Sprintf("cannot %s from status %q", e.Action, e.Current)
}

// Rule is one transition of a lifecycle: the statuses it may leave and the one it enters.
// It is data: stores build their write conditions from From, and classify a failed write
// with Check, so the legal source states are written down once.
type Rule[S ~string] struct {
	Action string
	From   []S
	To     S
}

// Allows reports whether the rule may leave status s.
func (r Rule[S]) Allows(s S) bool { return slices.Contains(r.From, s) }

// Check returns nil when the rule may leave current, else an *InvalidTransitionError.
func (r Rule[S]) Check(current S) error {
	if r.Allows(current) {
		return nil
	}
	return &InvalidTransitionError{Action: r.Action, Current: string(current)}
}

// Endpoint is where a transition is served: the Lambda function (functions/<Function>) and
// the paths of its POST routes, each also served under /api.
type Endpoint struct {
	Function string
	Paths    []string
}

// Refusals are how a transition's routes word what they refuse; the seeds give each route
// its own texts.
type Refusals struct {
	// NotFound is the message when the entity does not exist.
	NotFound string
	// ByStatus is the message of an illegal transition by the entity's current status;
	// Default covers the statuses it does not list.
	ByStatus map[string]string
	Default  string
	// AsNotFound: an illegal transition is answered with not found's status, 404 (seed 001's
	// pause and resume); otherwise it is a 400 (seed 000's cancel). Either way its code and
	// currentStatus tell it from a malformed request or a missing entity.
	AsNotFound bool
}

// Message returns the refusal's message for an illegal transition from current.
func (r Refusals) Message(current string) string {
	if m, ok := r.ByStatus[current]; ok {
		return m
	}
	return r.Default
}

// TimeLayout is how every timestamp is stored and returned: UTC with a fixed millisecond
// width, so that string order is time order.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime renders t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// FormatSpan writes a length of time as a refusal tells it to a person, in the largest
// whole unit: "14 days", "8 hours", "1 hour", "90 minutes" (time.Duration's own "336h0m0s"
// is for programmers).
func FormatSpan(d time.Duration) string {
	unit, name := time.Minute, "minute"
	switch {
	case d%(24*time.Hour) == 0:
		unit, name = 24*time.Hour, "day"
	case d%time.Hour == 0:
		unit, name = time.Hour, "hour"
	}
	n := d / unit
	if n == 1 {
		return "1 " + name
	}
	return fmt.Sprintf("%d %ss", n, name)
}

// ParseID accepts an entity id: a UUID in canonical 8-4-4-4-12 form, any case. It returns
// the lower-case form, which is how ids are stored.
func ParseID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}

// NewID returns a random (version 4) UUID.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// DeriveID returns the name-based UUID of name in the lifecycle's own namespace: the same
// name always gives the same id (so a retried create, named by its caller and
// Idempotency-Key, names the entity its first attempt created).
func DeriveID(name string) string { return NameUUID(idNamespace, name) }

// NameUUID returns the name-based (version 5, RFC 9562) UUID of name in namespace.
func NameUUID(namespace [16]byte, name string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	s := hex.EncodeToString(u[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// idNamespace is DeriveID's UUID namespace ("lifecycle-entity").
var idNamespace = [16]byte{0x6c, 0x69, 0x66, 0x65, 0x63, 0x79, 0x63, 0x6c, 0x65, 0x2d, 0x65, 0x6e, 0x74, 0x69, 0x74, 0x79}

// Request is what every transition's request carries, whatever the entity: which one
// (ID), who asks, the reason they gave (empty when none or the transition takes none), the
// correlation id of the call, and the key that makes its retries safe. interview.Request
// and job.Request embed it and add what their transitions take.
type Request struct {
	ID            string
	Actor         Actor
	Reason        string
	CorrelationID string
	Idempotency   Idempotency
}

// Idempotency identifies one request across its retries. A transition records it in the
// same transaction as its write; a later attempt finds the record and is answered with
// the original outcome instead of being applied again or refused.
type Idempotency struct {
	// Key is the client's Idempotency-Key, or a token of the invocation (so the SDK's own
	// retry of a write whose response was lost is recognised too).
	Key string
	// Fingerprint summarises the request (caller, entity, action, body): the same key
	// with a different fingerprint is ErrIdempotencyKeyReused.
	Fingerprint string
	// Client is true when Key is the client's own: a retry of it may come in a later
	// invocation, after the entity has moved on, so a request the entity's status refuses
	// is first looked up among those already applied.
	Client bool
}
