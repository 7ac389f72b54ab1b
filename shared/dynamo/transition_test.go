package dynamo

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// slots is an item whose applied slots hold the given requests, latest first.
func slots(reqs ...lifecycle.Idempotency) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{}
	for i := range legacySlots {
		m[slotName(i)] = sAV("")
		if i < len(reqs) {
			m[slotName(i)] = sAV(appliedID(reqs[i]))
		}
	}
	return m
}

func TestReplayed(t *testing.T) {
	idem := lifecycle.Idempotency{Key: "key:k", Fingerprint: "f"}
	other := func(k string) lifecycle.Idempotency { return lifecycle.Idempotency{Key: "key:" + k, Fingerprint: "f"} }
	oldest := slots(other("a"), other("b"), other("c"), other("d"), other("e"), other("f"), other("g"), idem)
	legacy := func(members ...string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{attr.AppliedRequests: &types.AttributeValueMemberSS{Value: members}}
	}
	cases := []struct {
		name   string
		old    map[string]types.AttributeValue
		idem   lifecycle.Idempotency
		replay bool
		err    error
	}{
		{"the latest request", slots(idem), idem, true, nil},
		{"the oldest the item remembers", oldest, idem, true, nil},
		{"same key, other request", slots(other("a"), lifecycle.Idempotency{Key: "key:k", Fingerprint: "g"}), idem, false, lifecycle.ErrIdempotencyKeyReused},
		{"other keys", slots(other("a"), other("b")), idem, false, nil},
		{"a key that only shares a prefix", slots(lifecycle.Idempotency{Key: "key:kk", Fingerprint: "f"}), idem, false, nil},
		{"no slots on the item", map[string]types.AttributeValue{"status": sAV("cancelled")}, idem, false, nil},
		{"no key on the request", slots(idem), lifecycle.Idempotency{}, false, nil},
		{"no item", nil, idem, false, nil},
		{"the earlier design's set", legacy("key:a", "key:a|x", "key:k", "key:k|f"), idem, true, nil},
		{"the earlier design's set, other request", legacy("key:k", "key:k|g"), idem, false, lifecycle.ErrIdempotencyKeyReused},
		{"the earlier design's set, other keys", legacy("key:z", "key:z|f"), idem, false, nil},
	}
	for _, c := range cases {
		got, err := replayed(c.old, c.idem)
		if got != c.replay || !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%s: replayed %v err %v, want %v %v", c.name, got, err, c.replay, c.err)
		}
	}
}

// TestCompiledTransitionsMatchTheFullBuild checks that a write made from a compiled
// transition is the write built afresh, for every transition and shape of request.
func TestCompiledTransitionsMatchTheFullBuild(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	s := NewInterviews(nil, "tbl", func() time.Time { return now }, func() string { return "tok" })
	actor := lifecycle.Actor{Sub: "alice", Roles: []string{"Admin"}}
	for _, tr := range interview.Transitions {
		for _, req := range []interview.Request{
			{Request: lifecycle.Request{ID: "s-1", Actor: actor}},
			{Request: lifecycle.Request{ID: "s-1", Actor: actor, Reason: "why", CorrelationID: "corr", Idempotency: lifecycle.Idempotency{Key: "key:k", Fingerprint: "f"}}},
			{Request: lifecycle.Request{ID: "s-1", Actor: actor, CorrelationID: "corr"}},
			{Request: lifecycle.Request{ID: "s-1", Actor: actor, Reason: "why", Idempotency: lifecycle.Idempotency{Key: "invocation:i", Fingerprint: "g"}}},
		} {
			old := interview.Session{ID: req.ID, Version: 5}
			got := updateAsInput(s.transitionInput(tr, old, req, now).TransactItems[0].Update)
			e, cond := transitionExpr(newExpr(), tr, old, req, lifecycle.FormatTime(now))
			if aws.ToString(got.UpdateExpression) != e.update() || aws.ToString(got.ConditionExpression) != cond ||
				!maps.Equal(got.ExpressionAttributeNames, e.names) || !reflect.DeepEqual(got.ExpressionAttributeValues, e.values) {
				t.Errorf("%s %+v: compiled\n%s\n%s\n%v\n%v\nbuilt\n%s\n%s\n%v\n%v", tr.Action, req,
					aws.ToString(got.UpdateExpression), aws.ToString(got.ConditionExpression), got.ExpressionAttributeNames, got.ExpressionAttributeValues,
					e.update(), cond, e.names, e.values)
			}
		}
	}
	// A transition the store did not compile (here: pause from any status) is built afresh.
	other := interview.Pause
	other.From = []interview.Status{interview.Active, interview.Paused}
	got := updateAsInput(s.transitionInput(other, interview.Session{ID: "s-1", Version: 5}, interview.Request{Request: lifecycle.Request{ID: "s-1", Actor: actor}}, now).TransactItems[0].Update)
	if n := strings.Count(aws.ToString(got.ConditionExpression), ":v"); n != 4 {
		t.Errorf("condition %q: want the version, the owner and both source statuses", aws.ToString(got.ConditionExpression))
	}
}

// TestCompiledJobWritesMatchTheFullBuild checks the same for both halves of a job cancel.
func TestCompiledJobWritesMatchTheFullBuild(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	s := NewJobs(nil, "tbl", func() time.Time { return now }, func() string { return "token" })
	a := job.Assignment{ID: "a-1", JobID: "j-1", TechnicianID: "tech", Status: job.Pending, Version: 3, ScheduledStart: now, ScheduledEnd: now.Add(time.Hour)}
	actor := lifecycle.Actor{Sub: "dana", Roles: []string{"Dispatcher"}}
	same := func(what string, got *types.Update, e *expr, cond string) {
		t.Helper()
		if aws.ToString(got.UpdateExpression) != e.update() || aws.ToString(got.ConditionExpression) != cond ||
			!maps.Equal(got.ExpressionAttributeNames, e.names) || !reflect.DeepEqual(got.ExpressionAttributeValues, e.values) {
			t.Errorf("%s: compiled %s / %s / %v, built %s / %s / %v", what, aws.ToString(got.UpdateExpression), aws.ToString(got.ConditionExpression),
				got.ExpressionAttributeValues, e.update(), cond, e.values)
		}
	}
	for _, req := range []job.Request{
		{Request: lifecycle.Request{ID: "j-1", Actor: actor}},
		{Request: lifecycle.Request{ID: "j-1", Actor: actor, Reason: "why", CorrelationID: "corr", Idempotency: lifecycle.Idempotency{Key: "key:k", Fingerprint: "f"}}},
		{Request: lifecycle.Request{ID: "j-1", Actor: actor, CorrelationID: "corr", Idempotency: lifecycle.Idempotency{Key: "invocation:i", Fingerprint: "g"}}},
	} {
		for _, j := range []job.Job{{ID: "j-1", Status: job.Unassigned, Version: 2}, {ID: "j-1", Status: job.Assigned, Version: 4, Assignment: &a}} {
			after := j.Cancelled(now, req.Actor.Sub, req.Reason)
			e, cond := cancelJobExpr(newExpr(), j, after, req, lifecycle.FormatTime(now))
			same(fmt.Sprintf("job %+v", req), s.cancelJobUpdate(j, after, req, now), e, cond)
		}
		e, cond := cancelAssignmentExpr(newExpr(), a, req, lifecycle.FormatTime(now))
		same(fmt.Sprintf("assignment %+v", req), s.cancelAssignmentUpdate(a, req, now), e, cond)
	}
}
