package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"sync/atomic"
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

// auditBytes is the most a pause or resume adds to a session, for the callers of this
// test: previousStatus, lastAction, actor, correlationId, pausedAt and resumedAt, with
// their names.
const auditBytes = 400

// minBoundedTransitions is the fewest requests TestItemStaysBounded makes sense with.
const minBoundedTransitions = 32

// TestItemStaysBounded drives alternating keyed pause and resume requests through one
// session and checks that what a transition leaves on the item is bounded: the item never
// grows past its first size plus auditBytes (each request's record is an item of its own,
// beside it); at the end it is the size it was after the same action early on (but for
// the version number, a byte more per two more digits); and every request costs the same
// DynamoDB requests and capacity units, table and each index, by DynamoDB's rules, from
// the first to the last.
func TestItemStaysBounded(t *testing.T) {
	n := 100
	if v := lookupEnv(BoundedTransitionsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < minBoundedTransitions {
			t.Fatalf("%s=%q: want a number of at least %d", BoundedTransitionsEnv, v, minBoundedTransitions)
		}
	}
	cfg, err := config.AWS()
	if err != nil {
		t.Fatal(err)
	}
	meter := &capacity.Meter{}
	metered := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true }, meter.Option)
	s := newStack(t, withDB(metered))
	meter.On(s.db, map[string]capacity.Schema{s.table: capacity.SchemaOf(dynamo.CreateTableInput(s.table))})
	alice := s.token(t, "alice")
	id := demodata.AliceActive
	first := capacity.ItemSize(s.session(t, id))
	limit := first + auditBytes
	t.Logf("session %s: %d bytes before; limit %d bytes; %d requests", id, first, limit, n)

	// steady is an early request (every audit field written), of the same action as the
	// last.
	steady := 4 + (n-1)%2
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
		if u.Requests != 2 {
			t.Fatalf("request %d: %d DynamoDB requests reported capacity, want 2 (the read, the transaction)", i, u.Requests)
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
		t.Errorf("the item is %d bytes at the end (but its version), %d after request %d", size, steadySize, steady)
	}
	if !sameWrite(atStart, atSteady) {
		t.Errorf("the first write consumed %s, the writes at the end %s", describe(atStart), describe(atSteady))
	}
	// By DynamoDB's rules (the meter computes them): the transaction's table writes twice,
	// the session (a 2 KB-class item, 2 units) and the request's record (1); its byOwner
	// entry updated (1) and its byOwnerStatus entry moved (a delete and a put, 2); and the
	// strongly consistent read of the session (1). DynamoDB Local, before moto, measured the
	// same but for the index writes, which it doubled too (6, 2, 4).
	if atSteady.TableWrite != 6 || atSteady.IndexWrite[dynamo.IndexByOwner] != 1 || atSteady.IndexWrite[dynamo.IndexByOwnerStatus] != 2 || atSteady.Read() != 1 {
		t.Errorf("a transition of this session consumed %s and %v read units: want table 6 + byOwner 1 + byOwnerStatus 2, and 1", describe(atSteady), atSteady.Read())
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

// TestIdempotencyWindow checks the window a request is remembered for: a retry is
// recognised for dynamo.RequestWindow after its request applied, however many other
// requests transition the session in between (21 here, where the earlier design
// remembered 8), and is a new request after that.
func TestIdempotencyWindow(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	s := newStack(t, withNow(now))
	alice := s.token(t, "alice")
	id := demodata.AliceActive2
	do := func(action, key string) response {
		return s.do(t, http.MethodPost, "/interviews/"+id+"/"+action, alice, "", "Idempotency-Key", key)
	}
	first := do("pause", "window-0")
	if first.status != 200 {
		t.Fatalf("pause: %d %s", first.status, first.raw)
	}
	for i := range 21 {
		action := "resume"
		if i%2 == 1 {
			action = "pause"
		}
		if r := do(action, fmt.Sprintf("window-%d", i+1)); r.status != 200 {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.raw)
		}
	}
	// The session is active again, so a pause would apply: the retry is answered as the
	// request it is, with the session as it is now, and changes nothing.
	clock.Add(int64(dynamo.RequestWindow - time.Second))
	if r := do("pause", "window-0"); r.status != 200 || r.header.Get("Idempotent-Replayed") != "true" || r.body["status"] != "active" || r.header.Get("ETag") != `"23"` {
		t.Fatalf("a retry within the window: %d replayed=%q ETag %s %s", r.status, r.header.Get("Idempotent-Replayed"), r.header.Get("ETag"), r.body["status"])
	}
	// The same key for another request, within the window.
	if r := do("resume", "window-0"); r.status != 422 {
		t.Fatalf("the key reused for a resume: %d %s", r.status, r.raw)
	}
	// A day after it applied, the request is forgotten: its retry is a new pause.
	clock.Add(int64(time.Second))
	if r := do("pause", "window-0"); r.status != 200 || r.header.Get("Idempotent-Replayed") != "" || r.body["status"] != "paused" || r.header.Get("ETag") != `"24"` {
		t.Fatalf("a retry after the window: %d replayed=%q ETag %s %s", r.status, r.header.Get("Idempotent-Replayed"), r.header.Get("ETag"), r.body["status"])
	}
	// And that new pause is remembered in turn.
	if r := do("pause", "window-0"); r.status != 200 || r.header.Get("Idempotent-Replayed") != "true" || r.header.Get("ETag") != `"24"` {
		t.Fatalf("a retry of the new pause: %d %s", r.status, r.raw)
	}
	if v := str(s.session(t, id), "version"); v != "24" {
		t.Errorf("version %s, want 24: 23 transitions and nothing applied twice", v)
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
	limit := capacity.ItemSize(old) + auditBytes
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
