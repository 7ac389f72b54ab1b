package dynamo

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// transitionWrite is the SET clause every transition writes, whatever the entity: the
// status step (remembering the one it left), the version step, the time and who did it.
// Events are derived from these attributes (the table stream), so every entity writes
// them the same way. The request itself is remembered beside the item, in the same
// transaction (requests.go).
type transitionWrite struct {
	to     string
	now    string
	action string
	actor  lifecycle.Actor
	corr   string
	// stampedAt and stampedBy name the attributes that record when and by whom this
	// transition happened (attr.CancelledAt, attr.CancelledBy): a transition row's stamps,
	// which stamps_test.go holds to attr's; stampedBy may be empty.
	stampedAt, stampedBy string
	// reason, when not empty, is stored as attr.Reason.
	reason string
	// score, when set, is stored as the entity's score (a completion's final score).
	score *float64
}

func (w transitionWrite) apply(e *expr) {
	e.setFrom(attr.PreviousStatus, attr.Status)
	e.set(attr.Status, sAV(w.to))
	e.increment(attr.Version)
	e.set(attr.UpdatedAt, sAV(w.now))
	e.set(w.stampedAt, sAV(w.now))
	if w.stampedBy != "" {
		e.set(w.stampedBy, sAV(w.actor.Sub))
	}
	if w.reason != "" {
		e.set(attr.Reason, sAV(w.reason))
	}
	if w.score != nil {
		e.set(attr.Score, nAV(*w.score))
	}
	e.set(attr.LastAction, sAV(w.action))
	e.set(attr.Actor, actorAV(w.actor))
	if w.corr != "" {
		e.set(attr.CorrelationID, sAV(w.corr))
	}
	// The earlier design's every-key set and its last request, so an item that still has
	// them shrinks at its next transition (the slots of the design after it are kept: they
	// are bounded, and a retry of a request made before the upgrade still finds itself).
	for _, a := range []string{attr.AppliedRequests, attr.IdempotencyKey, attr.IdempotencyFingerprint, attr.IdempotencyAt} {
		e.remove(a)
	}
}

// Before request records (requests.go), an item remembered the last legacySlots requests
// that transitioned it in fixed slots, attr.AppliedSlot followed by 0 (the latest) to 7
// (applied0 to applied7): 16 characters identifying the key, then 16 the whole request (key
// and fingerprint), both from SHA-256 in base64url. Each transition shifted them by one, so
// a retry that came after eight other requests had transitioned the item was a new request
// again (issue 21). Before the slots, a set (attr.AppliedRequests) held every key.
// Transitions no longer write the slots and remove the set (transitionWrite); a retry of a
// request made before the upgrade still finds itself in either (replayed), and
// docs/data-model.md says when a later release can drop them.
const (
	legacySlots     = 8
	appliedIDLength = 16
)

func slotName(i int) string { return attr.AppliedSlot + strconv.Itoa(i) }

// appliedID identifies idem's request: the key's id, then the whole request's. A request
// record holds it, as a slot did.
func appliedID(idem lifecycle.Idempotency) string {
	return shortHash(idem.Key) + shortHash(idem.Key+"\x00"+idem.Fingerprint)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:appliedIDLength]
}

// replayed reports whether this request transitioned old, the item as read, before the
// upgrade to request records: a slot (or the older set) holds its key. The same key with
// another fingerprint is lifecycle.ErrIdempotencyKeyReused.
func replayed(old map[string]types.AttributeValue, idem lifecycle.Idempotency) (bool, error) {
	if idem.Key == "" || len(old) == 0 {
		return false, nil
	}
	it := &item{m: old}
	want := appliedID(idem)
	for i := range legacySlots {
		if got := it.str(slotName(i)); len(got) == len(want) && got[:appliedIDLength] == want[:appliedIDLength] {
			if got != want {
				return false, lifecycle.ErrIdempotencyKeyReused
			}
			return true, nil
		}
	}
	legacy := it.strings(attr.AppliedRequests)
	if !slices.Contains(legacy, idem.Key) {
		return false, nil
	}
	if !slices.Contains(legacy, idem.Key+"|"+idem.Fingerprint) {
		return false, lifecycle.ErrIdempotencyKeyReused
	}
	return true, nil
}

// strs converts a list of string-like statuses.
func strs[S ~string](in []S) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}
