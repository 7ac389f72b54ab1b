package dynamo

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

var recordNow = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// record is idem's request record as the store writes it at at.
func record(idem lifecycle.Idempotency, at time.Time) map[string]types.AttributeValue {
	return requestPut("tbl", sAV("INTERVIEW#s-1"), idem, 4, at).Put.Item
}

func TestRemembered(t *testing.T) {
	idem := lifecycle.Idempotency{Key: "key:k", Fingerprint: "f", Client: true}
	cases := []struct {
		name string
		rec  map[string]types.AttributeValue
		idem lifecycle.Idempotency
		want bool
		err  error
	}{
		{"its own record", record(idem, recordNow), idem, true, nil},
		{"its record, a second before it expires", record(idem, recordNow.Add(-RequestWindow+time.Second)), idem, true, nil},
		{"its record, expired (DynamoDB's TTL deletes it some time later)", record(idem, recordNow.Add(-RequestWindow)), idem, false, nil},
		{"the key's record of another request", record(lifecycle.Idempotency{Key: "key:k", Fingerprint: "g"}, recordNow), idem, false, lifecycle.ErrIdempotencyKeyReused},
		{"no record", nil, idem, false, nil},
		{"no key", record(idem, recordNow), lifecycle.Idempotency{}, false, nil},
	}
	for _, c := range cases {
		got, err := remembered(c.rec, c.idem, recordNow)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%s: remembered %v, %v; want %v, %v", c.name, got, err, c.want, c.err)
		}
	}
}

func TestRequestPut(t *testing.T) {
	idem := lifecycle.Idempotency{Key: "key:k", Fingerprint: "f"}
	put := requestPut("tbl", sAV("JOB#j-1"), idem, 9, recordNow).Put
	if got := sVal(t, put.Item["sk"]); got != "REQUEST#"+shortHash("key:k") {
		t.Errorf("sk %q: want the key's id, so every retry of the key meets the same record", got)
	}
	if sVal(t, put.Item["pk"]) != "JOB#j-1" || sVal(t, put.Item["type"]) != "request" || nVal(t, put.Item["version"]) != "9" {
		t.Errorf("record %v", put.Item)
	}
	if got, want := nVal(t, put.Item["expiresAt"]), strconv.FormatInt(recordNow.Add(RequestWindow).Unix(), 10); got != want {
		t.Errorf("expiresAt %s, want %s", got, want)
	}
	// The guard: no record, or only an expired one.
	cond := aws.ToString(put.ConditionExpression)
	if cond != "attribute_not_exists(#pk) OR #expiresAt <= :now" || nVal(t, put.ExpressionAttributeValues[":now"]) != strconv.FormatInt(recordNow.Unix(), 10) {
		t.Errorf("condition %q with %v", cond, put.ExpressionAttributeValues)
	}
	if put.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
		t.Errorf("a failed put must return the record it met")
	}
	// Records carry no index key, so listings never see them.
	for _, k := range []string{"ownerId", "ownerStatus", "createdAt"} {
		if _, ok := put.Item[k]; ok {
			t.Errorf("the record carries %s, an index key", k)
		}
	}
}

func TestExplainCanceled(t *testing.T) {
	idem := lifecycle.Idempotency{Key: "key:k", Fingerprint: "f"}
	reason := func(code string, it map[string]types.AttributeValue) types.CancellationReason {
		return types.CancellationReason{Code: aws.String(code), Item: it}
	}
	none := reason("None", nil)
	entity := JobItem(job.Job{ID: "j-1", Title: "t", Status: job.Assigned, Version: 3})
	type want struct {
		replay bool
		err    error // a sentinel; errOther for an unclassified error
		race   bool
	}
	errOther := errors.New("other")
	tests := []struct {
		name    string
		reasons []types.CancellationReason
		want    want
	}{
		{"its record is there: it applied before", []types.CancellationReason{reason("ConditionalCheckFailed", entity), reason("ConditionalCheckFailed", record(idem, recordNow))}, want{replay: true}},
		{"its record, the entity unchanged", []types.CancellationReason{none, reason("ConditionalCheckFailed", record(idem, recordNow))}, want{replay: true}},
		{"the key's record of another request", []types.CancellationReason{none, reason("ConditionalCheckFailed", record(lifecycle.Idempotency{Key: "key:k", Fingerprint: "g"}, recordNow))}, want{err: lifecycle.ErrIdempotencyKeyReused}},
		{"the entity changed since the read", []types.CancellationReason{reason("ConditionalCheckFailed", entity), none}, want{race: true}},
		{"the assignment changed since the read", []types.CancellationReason{none, reason("ConditionalCheckFailed", nil), none}, want{race: true}},
		{"a conflicting transaction", []types.CancellationReason{reason("TransactionConflict", nil), none}, want{race: true}},
		{"throttled", []types.CancellationReason{reason("ThrottlingError", nil), none}, want{err: lifecycle.ErrUnavailable}},
		{"throughput exceeded", []types.CancellationReason{none, reason("ProvisionedThroughputExceeded", nil)}, want{err: lifecycle.ErrUnavailable}},
		{"request limit", []types.CancellationReason{reason("RequestLimitExceeded", nil), none}, want{err: lifecycle.ErrUnavailable}},
		{"a validation error", []types.CancellationReason{reason("ValidationError", nil), none}, want{err: errOther}},
		{"all none", []types.CancellationReason{none, none}, want{err: errOther}},
		{"no reasons", nil, want{err: errOther}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: tt.reasons}
			got := explainCanceled(e, idem, recordNow)
			switch {
			case tt.want.replay:
				if !got.replay || got.err != nil {
					t.Errorf("got %+v, want a replay", got)
				}
			case tt.want.race:
				if got.replay || got.err != nil {
					t.Errorf("got %+v, want a race (read again)", got)
				}
			case tt.want.err == errOther:
				if got.err == nil || errors.Is(got.err, lifecycle.ErrUnavailable) || errors.Is(got.err, lifecycle.ErrConflict) {
					t.Errorf("got %+v, want an unclassified error", got)
				} else if c, ok := errors.AsType[*types.TransactionCanceledException](got.err); !ok || c != e {
					t.Errorf("error %v does not wrap the cancellation, for the logs", got.err)
				}
			default:
				if !errors.Is(got.err, tt.want.err) || got.replay {
					t.Errorf("got %+v, want %v", got, tt.want.err)
				}
			}
			if errors.Is(got.err, lifecycle.ErrUnavailable) && !strings.Contains(got.err.Error(), "Throttling") && !strings.Contains(got.err.Error(), "Exceeded") {
				t.Errorf("%v does not name the codes", got.err)
			}
		})
	}
}

// scripted is an in-process stand-in for the few DynamoDB calls Apply makes, for the
// store's own logic: GetItem answers the session (or a request record) as the script
// holds them now; each TransactWriteItems takes the script's next answer, and a nil
// answer applies the transaction's update to the stored session the way the domain
// says it does.
type scripted struct {
	API
	session map[string]types.AttributeValue
	record  map[string]types.AttributeValue
	answers []error
	// between runs after each GetItem of the session: another writer's change.
	between func(s *scripted)
	gets    int
	writes  int
}

func (s *scripted) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if strings.HasPrefix(sValOf(in.Key["sk"]), "REQUEST#") {
		return &dynamodb.GetItemOutput{Item: s.record}, nil
	}
	s.gets++
	out := &dynamodb.GetItemOutput{Item: s.session}
	if s.between != nil {
		s.between(s)
	}
	return out, nil
}

func (s *scripted) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	s.writes++
	if len(s.answers) > 0 {
		err := s.answers[0]
		s.answers = s.answers[1:]
		if err != nil {
			return nil, err
		}
	}
	s.record = in.TransactItems[1].Put.Item
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func TestBackOffStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	backOff(ctx, 30) // an ended context does not wait
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("backOff waited %v on an ended context", d)
	}
}

func sValOf(av types.AttributeValue) string {
	if v, ok := av.(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func TestApply(t *testing.T) {
	alice := lifecycle.Actor{Sub: "alice"}
	key := lifecycle.Idempotency{Key: "key:k", Fingerprint: "f", Client: true}
	session := func(st interview.Status, v int64) map[string]types.AttributeValue {
		return SessionItem(interview.Session{ID: "s-1", OwnerID: "alice", Title: "t", TopicIDs: []string{"x"}, Status: st, Version: v})
	}
	canceledBy := func(reasons ...types.CancellationReason) error {
		return &types.TransactionCanceledException{Message: aws.String("cancelled"), CancellationReasons: reasons}
	}
	ccf := func(it map[string]types.AttributeValue) types.CancellationReason {
		return types.CancellationReason{Code: aws.String("ConditionalCheckFailed"), Item: it}
	}
	none := types.CancellationReason{Code: aws.String("None")}
	pause := func(db *scripted, idem lifecycle.Idempotency) (interview.Session, bool, error) {
		s := NewInterviews(db, "tbl", func() time.Time { return recordNow }, func() string { return "tok" })
		s.backOff = func(context.Context, int) {}
		return s.Apply(context.Background(), interview.Pause, interview.Request{Request: lifecycle.Request{ID: "s-1", Actor: alice, Idempotency: idem}})
	}

	t.Run("a fresh write answers what it wrote", func(t *testing.T) {
		db := &scripted{session: session(interview.Active, 3)}
		got, replay, err := pause(db, key)
		if err != nil || replay || got.Status != interview.Paused || got.Version != 4 || !got.PausedAt.Equal(recordNow) {
			t.Fatalf("%+v %v %v", got, replay, err)
		}
	})
	t.Run("its record met in the transaction: a replay of the session as it is now", func(t *testing.T) {
		db := &scripted{session: session(interview.Active, 3), answers: []error{canceledBy(ccf(session(interview.Paused, 9)), ccf(record(key, recordNow)))}}
		db.between = func(s *scripted) { s.session = session(interview.Paused, 9) }
		got, replay, err := pause(db, key)
		if err != nil || !replay || got.Version != 9 || db.gets != 2 {
			t.Fatalf("%+v replay %v err %v after %d reads", got, replay, err, db.gets)
		}
	})
	t.Run("refused by the status, but its record is there: a replay", func(t *testing.T) {
		db := &scripted{session: session(interview.Paused, 12), record: record(key, recordNow.Add(-time.Hour))}
		got, replay, err := pause(db, key)
		if err != nil || !replay || got.Version != 12 || db.writes != 0 {
			t.Fatalf("%+v replay %v err %v, %d writes", got, replay, err, db.writes)
		}
	})
	t.Run("refused by the status, its record expired: refused", func(t *testing.T) {
		db := &scripted{session: session(interview.Paused, 12), record: record(key, recordNow.Add(-RequestWindow-time.Second))}
		if _, _, err := pause(db, key); !errors.As(err, new(*lifecycle.InvalidTransitionError)) {
			t.Fatalf("err %v, want the refusal", err)
		}
	})
	t.Run("an invocation's own key is not looked up when refused", func(t *testing.T) {
		db := &scripted{session: session(interview.Paused, 12), record: record(lifecycle.Idempotency{Key: "invocation:i"}, recordNow)}
		if _, _, err := pause(db, lifecycle.Idempotency{Key: "invocation:i"}); !errors.As(err, new(*lifecycle.InvalidTransitionError)) {
			t.Fatalf("err %v, want the refusal", err)
		}
	})
	t.Run("a race: read again, decide again", func(t *testing.T) {
		db := &scripted{session: session(interview.Active, 3), answers: []error{canceledBy(ccf(session(interview.Active, 4)), none)}}
		db.between = func(s *scripted) { s.session = session(interview.Active, 4); s.between = nil }
		got, replay, err := pause(db, key)
		if err != nil || replay || got.Version != 5 || db.gets != 2 || db.writes != 2 {
			t.Fatalf("%+v %v %v after %d reads, %d writes", got, replay, err, db.gets, db.writes)
		}
	})
	t.Run("a race lost to a transition that makes it illegal: refused", func(t *testing.T) {
		db := &scripted{session: session(interview.Active, 3), answers: []error{canceledBy(ccf(session(interview.Paused, 4)), none)}}
		db.between = func(s *scripted) { s.session = session(interview.Paused, 4); s.between = nil }
		if _, _, err := pause(db, key); !errors.As(err, new(*lifecycle.InvalidTransitionError)) {
			t.Fatalf("err %v, want the refusal", err)
		}
	})
	t.Run("races lost maxRaces times: a conflict", func(t *testing.T) {
		race := canceledBy(ccf(session(interview.Active, 4)), none)
		db := &scripted{session: session(interview.Active, 3)}
		for range maxRaces {
			db.answers = append(db.answers, race)
		}
		if _, _, err := pause(db, key); !errors.Is(err, lifecycle.ErrConflict) || db.writes != maxRaces {
			t.Fatalf("err %v after %d writes, want ErrConflict after %d", err, db.writes, maxRaces)
		}
	})
	t.Run("throttled past the SDK's retries: unavailable", func(t *testing.T) {
		db := &scripted{session: session(interview.Active, 3), answers: []error{canceledBy(types.CancellationReason{Code: aws.String("ThrottlingError")}, none)}}
		if _, _, err := pause(db, key); !errors.Is(err, lifecycle.ErrUnavailable) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("not the owner: forbidden, nothing written", func(t *testing.T) {
		db := &scripted{session: SessionItem(interview.Session{ID: "s-1", OwnerID: "bob", Title: "t", Status: interview.Active, Version: 1})}
		if _, _, err := pause(db, key); !errors.Is(err, lifecycle.ErrForbidden) || db.writes != 0 {
			t.Fatalf("err %v, %d writes", err, db.writes)
		}
	})
	t.Run("no session: not found", func(t *testing.T) {
		if _, _, err := pause(&scripted{}, key); !errors.Is(err, lifecycle.ErrNotFound) {
			t.Fatalf("err %v", err)
		}
	})
}
