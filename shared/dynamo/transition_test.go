package dynamo

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func TestReplayed(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	stored := func(key, fp string, at time.Time) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"idempotencyKey": sAV(key), "idempotencyFingerprint": sAV(fp), "idempotencyAt": sAV(lifecycle.FormatTime(at)),
		}
	}
	idem := lifecycle.Idempotency{Key: "key:k", Fingerprint: "f"}
	cases := []struct {
		name   string
		old    map[string]types.AttributeValue
		idem   lifecycle.Idempotency
		replay bool
		err    error
	}{
		{"same key and request", stored("key:k", "f", now.Add(-time.Minute)), idem, true, nil},
		{"same key, other request", stored("key:k", "g", now.Add(-time.Minute)), idem, false, lifecycle.ErrIdempotencyKeyReused},
		{"other key", stored("key:z", "f", now), idem, false, nil},
		{"outside the window", stored("key:k", "f", now.Add(-25*time.Hour)), idem, false, nil},
		{"no key on the item", map[string]types.AttributeValue{"status": sAV("cancelled")}, idem, false, nil},
		{"no key on the request", stored("key:k", "f", now), lifecycle.Idempotency{}, false, nil},
		{"no item", nil, idem, false, nil},
		{"unreadable time", map[string]types.AttributeValue{"idempotencyKey": sAV("key:k"), "idempotencyFingerprint": sAV("f"), "idempotencyAt": sAV("soon")}, idem, false, nil},
	}
	for _, c := range cases {
		got, err := replayed(c.old, c.idem, now)
		if got != c.replay || !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%s: replayed %v err %v, want %v %v", c.name, got, err, c.replay, c.err)
		}
	}
}

func TestTransitionWriteStoresTheIdempotencyKey(t *testing.T) {
	e := newExpr()
	transitionWrite{to: "cancelled", now: "2026-11-21T10:00:00.000Z", action: "cancel", actor: lifecycle.Actor{Sub: "a"},
		stampedAt: "cancelledAt", idem: lifecycle.Idempotency{Key: "key:k", Fingerprint: "f"}}.apply(e)
	got := map[string]string{}
	for _, set := range e.sets {
		lhs, rhs, _ := strings.Cut(set, " = ")
		if v, ok := e.values[rhs].(*types.AttributeValueMemberS); ok {
			got[e.names[lhs]] = v.Value
		}
	}
	for k, v := range map[string]string{"idempotencyKey": "key:k", "idempotencyFingerprint": "f", "idempotencyAt": "2026-11-21T10:00:00.000Z"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
