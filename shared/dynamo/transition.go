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
// them the same way.
type transitionWrite struct {
	to     string
	now    string
	action string
	actor  lifecycle.Actor
	corr   string
	// stampedAt and stampedBy name the attributes that record when and by whom this
	// transition happened ("cancelledAt", "cancelledBy"); stampedBy may be empty.
	stampedAt, stampedBy string
	// reason, when not empty, is stored as cancelReason.
	reason string
	// idem identifies the request, so a retry finds its own write (see replayed).
	idem lifecycle.Idempotency
}

func (w transitionWrite) apply(e *expr) {
	e.setFrom("previousStatus", attr.Status)
	e.set(attr.Status, sAV(w.to))
	e.increment(attr.Version)
	e.set(attr.UpdatedAt, sAV(w.now))
	e.set(w.stampedAt, sAV(w.now))
	if w.stampedBy != "" {
		e.set(w.stampedBy, sAV(w.actor.Sub))
	}
	if w.reason != "" {
		e.set(attr.CancelReason, sAV(w.reason))
	}
	e.set("lastAction", sAV(w.action))
	e.set(attr.Actor, actorAV(w.actor))
	if w.corr != "" {
		e.set(attr.CorrelationID, sAV(w.corr))
	}
	if w.idem.Key != "" {
		remember(e, w.idem)
	}
}

// IdempotencyWindow is how many requests an item remembers: the latest ones that
// transitioned it. A retry is recognised (and never applied twice) while fewer than this
// many later requests have transitioned the same item; a retry that comes later than that
// is a new request.
const IdempotencyWindow = 8

// An item remembers a request in one of IdempotencyWindow fixed-length slots,
// applied0 (the latest) to applied7: 16 characters identifying the key, then 16 the whole
// request (key and fingerprint), both from SHA-256 in base64url. Each transition shifts the
// slots by one in its own write (applied7 = applied6, ..., applied0 = this request), so an
// item's slots never take more than AppliedRequestsBytes, however many transitions it has
// been through.
const (
	appliedSlot     = "applied"
	appliedIDLength = 16
	// AppliedRequestsBytes is the most the remembered requests take in an item (attribute
	// names included, by DynamoDB's item-size rules).
	AppliedRequestsBytes = IdempotencyWindow * (len(appliedSlot) + 1 + 2*appliedIDLength)
)

// legacyApplied is the set of the earlier design, to which every request's key was added
// and never pruned; the last request's idempotencyKey, idempotencyFingerprint and
// idempotencyAt were kept beside it. A transition still honours the set, so a retry of a
// request made before the upgrade is recognised, and removes all four, so an old item
// shrinks to its bounded size at its next transition. Drop this once the release that
// introduced the slots has run for a day (docs/data-model.md, "Migrating an existing
// table").
const legacyApplied = "appliedRequests"

func slotName(i int) string { return appliedSlot + strconv.Itoa(i) }

// appliedID is what a slot holds for idem: the key's id, then the request's.
func appliedID(idem lifecycle.Idempotency) string {
	return shortHash(idem.Key) + shortHash(idem.Key+"\x00"+idem.Fingerprint)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:appliedIDLength]
}

// remember shifts the slots by one and puts idem in the first: every slot is set (an
// empty string for a slot the item does not have yet), so the write is the same, and
// costs the same, at every transition.
func remember(e *expr, idem lifecycle.Idempotency) {
	empty := e.value(sAV(""))
	if !e.replaying {
		for i := IdempotencyWindow - 1; i > 0; i-- {
			e.setFromOr(slotName(i), slotName(i-1), empty)
		}
	}
	e.set(appliedSlot+"0", sAV(appliedID(idem)))
	for _, a := range []string{legacyApplied, "idempotencyKey", "idempotencyFingerprint", "idempotencyAt"} {
		e.remove(a)
	}
}

// notApplied is the condition that this request has not transitioned the item already:
// no slot holds its key (nor does the earlier design's set). With it, a retry within the
// window can never apply twice, whatever happened in between.
func notApplied(e *expr, idem lifecycle.Idempotency) string {
	if idem.Key == "" {
		return ""
	}
	key := e.value(sAV(shortHash(idem.Key)))
	var conds []string
	if !e.replaying {
		conds = make([]string, 0, IdempotencyWindow+1)
		for i := range IdempotencyWindow {
			conds = append(conds, "NOT begins_with("+e.name(slotName(i))+", "+key+")")
		}
	}
	conds = append(conds, e.notContains(legacyApplied, sAV(idem.Key)))
	return e.and(conds...)
}

// replayed reports whether this request already transitioned old, the item as a refused
// write found it (a slot holds its key). The same key with another fingerprint is
// lifecycle.ErrIdempotencyKeyReused.
func replayed(old map[string]types.AttributeValue, idem lifecycle.Idempotency) (bool, error) {
	if idem.Key == "" || len(old) == 0 {
		return false, nil
	}
	it := &item{m: old}
	want := appliedID(idem)
	for i := range IdempotencyWindow {
		if got := it.str(slotName(i)); len(got) == len(want) && got[:appliedIDLength] == want[:appliedIDLength] {
			if got != want {
				return false, lifecycle.ErrIdempotencyKeyReused
			}
			return true, nil
		}
	}
	legacy := it.strings(legacyApplied)
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
