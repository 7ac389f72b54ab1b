package dynamo

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func TestReplayed(t *testing.T) {
	applied := func(members ...string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{attrAppliedRequests: &types.AttributeValueMemberSS{Value: members}}
	}
	idem := lifecycle.Idempotency{Key: "key:k", Fingerprint: "f"}
	cases := []struct {
		name   string
		old    map[string]types.AttributeValue
		idem   lifecycle.Idempotency
		replay bool
		err    error
	}{
		{"same key and request", applied("key:k", "key:k|f"), idem, true, nil},
		{"among later requests", applied("key:a", "key:a|x", "key:k", "key:k|f", "key:z", "key:z|y"), idem, true, nil},
		{"same key, other request", applied("key:k", "key:k|g"), idem, false, lifecycle.ErrIdempotencyKeyReused},
		{"other keys", applied("key:z", "key:z|f"), idem, false, nil},
		{"no set on the item", map[string]types.AttributeValue{"status": sAV("cancelled")}, idem, false, nil},
		{"no key on the request", applied("key:k", "key:k|f"), lifecycle.Idempotency{}, false, nil},
		{"no item", nil, idem, false, nil},
	}
	for _, c := range cases {
		got, err := replayed(c.old, c.idem)
		if got != c.replay || !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%s: replayed %v err %v, want %v %v", c.name, got, err, c.replay, c.err)
		}
	}
}

func TestNotApplied(t *testing.T) {
	e := newExpr()
	cond := notApplied(e, lifecycle.Idempotency{Key: "key:k", Fingerprint: "f"})
	if !strings.HasPrefix(cond, "NOT contains(#appliedRequests, :v") || e.names["#appliedRequests"] != attrAppliedRequests {
		t.Fatalf("condition %q names %v", cond, e.names)
	}
	if notApplied(newExpr(), lifecycle.Idempotency{}) != "" {
		t.Fatal("no key, no condition")
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
	if len(e.adds) != 1 || !strings.HasPrefix(e.adds[0], "#appliedRequests :v") {
		t.Fatalf("ADD clause %v", e.adds)
	}
	if ss, ok := e.values[strings.TrimPrefix(e.adds[0], "#appliedRequests ")].(*types.AttributeValueMemberSS); !ok || !slices.Equal(ss.Value, []string{"key:k", "key:k|f"}) {
		t.Fatalf("applied requests %#v", e.values)
	}
}
