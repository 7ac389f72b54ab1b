package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/measure/capacity"
)

// BoundedTransitionsEnv sets how many requests TestItemStaysBounded sends; make test
// sends the default, make reliability (make item-bound) 10,000.
const BoundedTransitionsEnv = "LIFECYCLE_BOUNDED_TRANSITIONS"

// auditBytes is the most a pause or resume adds to a session besides the remembered
// requests, for the callers of this test: previousStatus, lastAction, actor,
// correlationId, pausedAt and resumedAt, with their names.
const auditBytes = 400

// TestItemStaysBounded drives alternating keyed pause and resume requests through one
// session and checks that what a transition leaves on the item is bounded: the item never
// grows past its first size plus dynamo.AppliedRequestsBytes and auditBytes; at the end it
// is the size it was once its slots had filled, after the same action (but for the
// version number, a byte more per two more digits); and every write consumes the same
// capacity units, table and each index, as DynamoDB Local reports them, from the first to
// the last: 5 in all for this 1 KB-class session (2 on the table, 1 on byOwner, 2 on
// byOwnerStatus).
func TestItemStaysBounded(t *testing.T) {
	n := 200
	if v := lookupEnv(BoundedTransitionsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 4*dynamo.IdempotencyWindow {
			t.Fatalf("%s=%q: want a number of at least %d", BoundedTransitionsEnv, v, 4*dynamo.IdempotencyWindow)
		}
	}
	cfg, err := config.AWS()
	if err != nil {
		t.Fatal(err)
	}
	meter := &capacity.Meter{}
	metered := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true }, meter.Option)
	s := newStack(t, withDB(metered))
	alice := s.token(t, "alice")
	id := demodata.AliceActive
	first := capacity.ItemSize(s.session(t, id))
	limit := first + dynamo.AppliedRequestsBytes + auditBytes
	t.Logf("session %s: %d bytes before; limit %d bytes; %d requests", id, first, limit, n)

	// Slots fill in the first IdempotencyWindow transitions; steady is a request well past
	// them, of the same action as the last.
	steady := 2*dynamo.IdempotencyWindow + (n-1)%2
	var atStart, atSteady capacity.Units
	steadySize := 0
	start := time.Now()
	for i := range n {
		action := "pause"
		if i%2 == 1 {
			action = "resume"
		}
		r := s.do(t, http.MethodPost, "/interviews/"+id+"/"+action, alice, "", "Idempotency-Key", fmt.Sprintf("bounded-%d", i))
		if r.status != 200 || r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("request %d (%s): %d %s", i, action, r.status, r.raw)
		}
		u := meter.Take()
		if u.Requests != 1 {
			t.Fatalf("request %d: %d DynamoDB requests reported capacity, want 1", i, u.Requests)
		}
		switch {
		case i == 0:
			atStart = u
		case i == steady:
			atSteady = u
			steadySize = sizeButVersion(s.session(t, id))
		case i > steady && !sameWrite(u, atSteady):
			t.Fatalf("request %d consumed %s, request %d %s", i, describe(u), steady, describe(atSteady))
		}
		if i%(n/10) == 0 || i == n-1 {
			if size := capacity.ItemSize(s.session(t, id)); size > limit {
				t.Fatalf("after %d requests the item is %d bytes, over %d", i+1, size, limit)
			}
		}
	}
	final := s.session(t, id)
	if got := str(final, "version"); got != strconv.Itoa(1+n) {
		t.Errorf("version %s after %d transitions from 1", got, n)
	}
	if size := sizeButVersion(final); size != steadySize {
		t.Errorf("the item is %d bytes at the end (but its version), %d once its slots had filled", size, steadySize)
	}
	if !sameWrite(atStart, atSteady) {
		t.Errorf("the first write consumed %s, the writes at the end %s", describe(atStart), describe(atSteady))
	}
	if atSteady.Write() > 5 || atSteady.IndexWrites() != 3 {
		t.Errorf("a transition of this session consumed %s: want 3 index units and 5 in all", describe(atSteady))
	}
	t.Logf("%d transitions in %v; item %d bytes at the end (limit %d); every write %s", n, time.Since(start).Round(time.Millisecond), capacity.ItemSize(final), limit, describe(atSteady))
}

// sizeButVersion is an item's size without its version number, which grows by a byte per
// two digits.
func sizeButVersion(item map[string]types.AttributeValue) int {
	without := maps.Clone(item)
	delete(without, "version")
	return capacity.ItemSize(without)
}

func sameWrite(a, b capacity.Units) bool {
	if a.TableWrite != b.TableWrite || len(a.IndexWrite) != len(b.IndexWrite) {
		return false
	}
	for k, v := range a.IndexWrite {
		if b.IndexWrite[k] != v {
			return false
		}
	}
	return true
}

func describe(u capacity.Units) string {
	return fmt.Sprintf("table %v + %s %v + %s %v write units", u.TableWrite,
		dynamo.IndexByOwner, u.IndexWrite[dynamo.IndexByOwner], dynamo.IndexByOwnerStatus, u.IndexWrite[dynamo.IndexByOwnerStatus])
}

// TestIdempotencyWindow checks the window the item keeps: a retry is recognised while fewer
// than dynamo.IdempotencyWindow later requests have transitioned the session, and is a new
// request after that.
func TestIdempotencyWindow(t *testing.T) {
	s := newStack(t)
	alice := s.token(t, "alice")
	id := demodata.AliceActive2
	pause := func(key string) response {
		return s.do(t, http.MethodPost, "/interviews/"+id+"/pause", alice, "", "Idempotency-Key", key)
	}
	resume := func(key string) response {
		return s.do(t, http.MethodPost, "/interviews/"+id+"/resume", alice, "", "Idempotency-Key", key)
	}
	if r := pause("window-0"); r.status != 200 {
		t.Fatalf("pause: %d %s", r.status, r.raw)
	}
	// window-0 plus IdempotencyWindow-1 later requests: still remembered.
	for i := 1; i < dynamo.IdempotencyWindow; i++ {
		do := resume
		if i%2 == 0 {
			do = pause
		}
		if r := do(fmt.Sprintf("window-%d", i)); r.status != 200 {
			t.Fatalf("request %d: %d %s", i, r.status, r.raw)
		}
	}
	// The session is active again (an even number of transitions after the first pause).
	if r := pause("window-0"); r.status != 200 || r.header.Get("Idempotent-Replayed") != "true" || r.body["status"] != "active" {
		t.Fatalf("a retry within the window: %d replayed=%q %s", r.status, r.header.Get("Idempotent-Replayed"), r.raw)
	}
	// One more request pushes window-0 out: its retry is a new pause.
	if r := resume("window-x"); r.status != 404 {
		t.Fatalf("resume of an active session: %d %s", r.status, r.raw)
	}
	if r := pause("window-8"); r.status != 200 {
		t.Fatalf("pause: %d %s", r.status, r.raw)
	}
	if r := resume("window-9"); r.status != 200 {
		t.Fatalf("resume: %d %s", r.status, r.raw)
	}
	if r := pause("window-0"); r.status != 200 || r.header.Get("Idempotent-Replayed") != "" || r.body["status"] != "paused" {
		t.Fatalf("a retry after the window: %d replayed=%q %s", r.status, r.header.Get("Idempotent-Replayed"), r.raw)
	}
}

// TestItemsOfTheEarlierDesignMigrate puts a session as the earlier design left it (every
// key in appliedRequests, the last one beside it) and checks that a retry of a request
// recorded there is still recognised, and that the next transition removes those
// attributes, so the item shrinks to its bounded size.
func TestItemsOfTheEarlierDesignMigrate(t *testing.T) {
	s := newStack(t)
	alice := s.token(t, "alice")
	id := demodata.AlicePaused
	old := s.session(t, id)
	limit := capacity.ItemSize(old) + dynamo.AppliedRequestsBytes + auditBytes
	// What the earlier code wrote: every key and key|fingerprint, 200 requests' worth, the
	// last being alice's pause with Idempotency-Key "old-pause". The fingerprint is the
	// API's (httpapi: the function, caller, entity and reason); a legacy item holds it.
	sum := sha256.Sum256([]byte(httpapi.FnPauseInterview + "\x00alice\x00" + id + "\x00"))
	fingerprint := hex.EncodeToString(sum[:16])
	var applied []string
	for i := range 200 {
		applied = append(applied, fmt.Sprintf("key:history-%d", i), fmt.Sprintf("key:history-%d|%032d", i, i))
	}
	old["appliedRequests"] = &types.AttributeValueMemberSS{Value: append(applied, "key:old-pause", "key:old-pause|"+fingerprint)}
	old["idempotencyKey"] = &types.AttributeValueMemberS{Value: "key:old-pause"}
	old["idempotencyFingerprint"] = &types.AttributeValueMemberS{Value: fingerprint}
	old["idempotencyAt"] = &types.AttributeValueMemberS{Value: "2026-11-01T06:00:00.000Z"}
	if _, err := s.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: old}); err != nil {
		t.Fatal(err)
	}

	if r := s.do(t, http.MethodPost, "/interviews/"+id+"/pause", alice, "", "Idempotency-Key", "old-pause"); r.status != 200 || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a retry recorded by the earlier design: %d replayed=%q %s", r.status, r.header.Get("Idempotent-Replayed"), r.raw)
	}
	if r := s.do(t, http.MethodPost, "/interviews/"+id+"/resume", alice, "", "Idempotency-Key", "new-resume"); r.status != 200 {
		t.Fatalf("resume: %d %s", r.status, r.raw)
	}
	after := s.session(t, id)
	for _, a := range []string{"appliedRequests", "idempotencyKey", "idempotencyFingerprint", "idempotencyAt"} {
		if _, ok := after[a]; ok {
			t.Errorf("%s is still on the item", a)
		}
	}
	if size := capacity.ItemSize(after); size > limit {
		t.Errorf("the item is %d bytes after its first transition, over %d (it was %d)", size, limit, capacity.ItemSize(old))
	}
}
