package dynamo

import (
	"slices"

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
		e.set("idempotencyKey", sAV(w.idem.Key))
		e.set("idempotencyFingerprint", sAV(w.idem.Fingerprint))
		e.set("idempotencyAt", sAV(w.now))
		e.add(attrAppliedRequests, &types.AttributeValueMemberSS{Value: []string{w.idem.Key, w.idem.Key + "|" + w.idem.Fingerprint}})
	}
}

// attrAppliedRequests is the string set of every request that transitioned the item: its
// idempotency key, and key|fingerprint. It outlives later transitions, so a retry is
// recognised however the entity has moved on since.
const attrAppliedRequests = "appliedRequests"

// notApplied is the condition that this request has not transitioned the item already:
// with it, a retry can never apply twice, whatever happened in between.
func notApplied(e *expr, idem lifecycle.Idempotency) string {
	if idem.Key == "" {
		return ""
	}
	return e.notContains(attrAppliedRequests, sAV(idem.Key))
}

// replayed reports whether this request already transitioned old, the item as a refused
// write found it (its key is in appliedRequests). The same key with another fingerprint is
// lifecycle.ErrIdempotencyKeyReused.
func replayed(old map[string]types.AttributeValue, idem lifecycle.Idempotency) (bool, error) {
	if idem.Key == "" || len(old) == 0 {
		return false, nil
	}
	applied := (&item{m: old}).strings(attrAppliedRequests)
	if !slices.Contains(applied, idem.Key) {
		return false, nil
	}
	if !slices.Contains(applied, idem.Key+"|"+idem.Fingerprint) {
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
