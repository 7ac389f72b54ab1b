package dynamo

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func sVal(t *testing.T, av types.AttributeValue) string {
	t.Helper()
	s, ok := av.(*types.AttributeValueMemberS)
	if !ok {
		t.Fatalf("value %#v is not S", av)
	}
	return s.Value
}

func nVal(t *testing.T, av types.AttributeValue) string {
	t.Helper()
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("value %#v is not N", av)
	}
	return n.Value
}

func TestExprName(t *testing.T) {
	e := newExpr()
	tests := []struct{ attr, want string }{
		{"status", "#status"},
		{"version", "#version"},
		{"ownerId", "#ownerId"},
		{"status", "#status"}, // same attribute, same placeholder
	}
	for _, tt := range tests {
		if got := e.name(tt.attr); got != tt.want {
			t.Errorf("name(%q) = %q, want %q", tt.attr, got, tt.want)
		}
	}
	want := map[string]string{"#status": "status", "#version": "version", "#ownerId": "ownerId"}
	if !maps.Equal(e.names, want) {
		t.Errorf("names = %v, want %v", e.names, want)
	}
	if len(e.values) != 0 {
		t.Errorf("values = %v, want none", e.values)
	}
}

func TestExprValueSequential(t *testing.T) {
	e := newExpr()
	for i, want := range []string{":v0", ":v1", ":v2", ":v3", ":v4", ":v5", ":v6", ":v7", ":v8", ":v9", ":v10", ":v11"} {
		v := sAV("x" + want)
		if got := e.value(v); got != want {
			t.Fatalf("value #%d = %q, want %q", i, got, want)
		}
		if e.values[want] != v {
			t.Errorf("values[%q] not the value passed", want)
		}
	}
	if len(e.values) != 12 {
		t.Errorf("len(values) = %d, want 12", len(e.values))
	}
	// The same value twice still gets two placeholders.
	e2 := newExpr()
	a, b := e2.value(sAV("same")), e2.value(sAV("same"))
	if a == b {
		t.Errorf("two values share placeholder %q", a)
	}
}

func TestExprSetAndUpdate(t *testing.T) {
	e := newExpr()
	e.set("status", sAV("paused"))
	if got, want := e.update(), "SET #status = :v0"; got != want {
		t.Errorf("update() = %q, want %q", got, want)
	}
	e.set("updatedAt", sAV("2024"))
	e.set("title", sAV("t"))
	if got, want := e.update(), "SET #status = :v0, #updatedAt = :v1, #title = :v2"; got != want {
		t.Errorf("update() = %q, want %q", got, want)
	}
	if sVal(t, e.values[":v0"]) != "paused" || sVal(t, e.values[":v1"]) != "2024" || sVal(t, e.values[":v2"]) != "t" {
		t.Errorf("values = %v", e.values)
	}
	wantNames := map[string]string{"#status": "status", "#updatedAt": "updatedAt", "#title": "title"}
	if !maps.Equal(e.names, wantNames) {
		t.Errorf("names = %v, want %v", e.names, wantNames)
	}
}

func TestExprSetFrom(t *testing.T) {
	e := newExpr()
	e.setFrom("previousStatus", "status")
	if got, want := e.update(), "SET #previousStatus = #status"; got != want {
		t.Errorf("update() = %q, want %q", got, want)
	}
	if len(e.values) != 0 {
		t.Errorf("setFrom used values: %v", e.values)
	}
	want := map[string]string{"#previousStatus": "previousStatus", "#status": "status"}
	if !maps.Equal(e.names, want) {
		t.Errorf("names = %v, want %v", e.names, want)
	}
}

func TestExprSetFromOr(t *testing.T) {
	e := newExpr()
	empty := e.value(sAV(""))
	e.setFromOr("applied1", "applied0", empty)
	e.remove("appliedRequests")
	if got, want := e.update(), "SET #applied1 = if_not_exists(#applied0, :v0) REMOVE #appliedRequests"; got != want {
		t.Errorf("update() = %q, want %q", got, want)
	}
}

func TestExprIncrement(t *testing.T) {
	e := newExpr()
	e.increment("version")
	if got, want := e.update(), "SET #version = #version + :v0"; got != want {
		t.Errorf("update() = %q, want %q", got, want)
	}
	if got := nVal(t, e.values[":v0"]); got != "1" {
		t.Errorf(":v0 = %q, want N 1", got)
	}
	if !maps.Equal(e.names, map[string]string{"#version": "version"}) {
		t.Errorf("names = %v", e.names)
	}
}

func TestExprEquals(t *testing.T) {
	e := newExpr()
	e.value(sAV("earlier")) // takes :v0
	if got, want := e.equals("ownerId", sAV("u1")), "#ownerId = :v1"; got != want {
		t.Errorf("equals = %q, want %q", got, want)
	}
	if sVal(t, e.values[":v1"]) != "u1" {
		t.Errorf(":v1 = %v", e.values[":v1"])
	}
}

func TestExprIn(t *testing.T) {
	tests := []struct {
		name string
		vals []string
		want string
	}{
		{"one", []string{"active"}, "#status IN (:v0)"},
		{"two", []string{"active", "paused"}, "#status IN (:v0, :v1)"},
		{"three", []string{"a", "b", "c"}, "#status IN (:v0, :v1, :v2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExpr()
			if got := e.in("status", tt.vals); got != tt.want {
				t.Errorf("in = %q, want %q", got, tt.want)
			}
			if len(e.values) != len(tt.vals) {
				t.Fatalf("values = %v", e.values)
			}
			for i, v := range tt.vals {
				ph := ":v" + strconv.Itoa(i)
				if got := sVal(t, e.values[ph]); got != v {
					t.Errorf("%s = %q, want %q", ph, got, v)
				}
			}
			if e.names["#status"] != "status" {
				t.Errorf("names = %v", e.names)
			}
		})
	}
}

func TestExprInContinuesNumbering(t *testing.T) {
	e := newExpr()
	e.set("status", sAV("cancelled"))
	e.increment("version")
	if got, want := e.in("status", []string{"active", "paused"}), "#status IN (:v2, :v3)"; got != want {
		t.Errorf("in = %q, want %q", got, want)
	}
}

func TestAnd(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"a = b"}, "a = b"},
		{[]string{"a = b", "c IN (d)"}, "a = b AND c IN (d)"},
		{[]string{"x", "y", "z"}, "x AND y AND z"},
	}
	for _, tt := range tests {
		if got := newExpr().and(tt.in...); got != tt.want {
			t.Errorf("and(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExprCombined(t *testing.T) {
	e := newExpr()
	e.setFrom("previousStatus", "status")
	e.set("status", sAV("cancelled"))
	e.increment("version")
	want := "SET #previousStatus = #status, #status = :v0, #version = #version + :v1"
	if got := e.update(); got != want {
		t.Errorf("update() = %q, want %q", got, want)
	}
}

// term is one operand of a resolved expression: an attribute (name) or a value (val).
type term struct {
	name string
	val  types.AttributeValue
}

// resolved is a transition's UpdateItemInput with every placeholder replaced, so tests
// assert what the write means rather than how its strings happen to be spelled.
type resolved struct {
	sets    map[string][]term   // attribute -> operands joined by "+"
	equals  map[string]term     // condition "attr = operand"
	in      map[string][]string // condition "attr IN (...)" over string values
	removes []string            // the REMOVE clause's attributes
	clauses int
}

func resolveInput(t *testing.T, in *dynamodb.UpdateItemInput) resolved {
	t.Helper()
	usedNames := map[string]bool{}
	usedValues := map[string]bool{}
	operand := func(tok string) term {
		t.Helper()
		tok = strings.TrimSpace(tok)
		switch {
		case strings.HasPrefix(tok, "#"):
			n, ok := in.ExpressionAttributeNames[tok]
			if !ok {
				t.Fatalf("name placeholder %q is not defined", tok)
			}
			usedNames[tok] = true
			return term{name: n}
		case strings.HasPrefix(tok, ":"):
			v, ok := in.ExpressionAttributeValues[tok]
			if !ok {
				t.Fatalf("value placeholder %q is not defined", tok)
			}
			usedValues[tok] = true
			return term{val: v}
		default:
			t.Fatalf("unexpected token %q", tok)
			return term{}
		}
	}
	attr := func(tok string) string {
		t.Helper()
		op := operand(tok)
		if op.name == "" {
			t.Fatalf("%q is not an attribute name placeholder", tok)
		}
		return op.name
	}

	r := resolved{sets: map[string][]term{}, equals: map[string]term{}, in: map[string][]string{}}

	if in.UpdateExpression == nil {
		t.Fatal("no UpdateExpression")
	}
	upd := *in.UpdateExpression
	if !strings.HasPrefix(upd, "SET ") {
		t.Fatalf("UpdateExpression %q does not start with SET", upd)
	}
	upd, removes, _ := strings.Cut(upd, " REMOVE ")
	for _, tok := range strings.Split(removes, ", ") {
		if tok != "" {
			r.removes = append(r.removes, attr(tok))
		}
	}
	if strings.Count(upd, "SET") != 1 || strings.Contains(upd, "REMOVE") || strings.Contains(upd, "ADD ") || strings.Contains(upd, "DELETE") {
		t.Fatalf("UpdateExpression %q has more than a SET and a REMOVE clause", upd)
	}
	for _, a := range strings.Split(strings.TrimPrefix(upd, "SET "), ", ") {
		lhs, rhs, ok := strings.Cut(a, " = ")
		if !ok {
			t.Fatalf("assignment %q has no ' = '", a)
		}
		name := attr(lhs)
		if _, dup := r.sets[name]; dup {
			t.Fatalf("attribute %q is set twice (DynamoDB rejects overlapping paths)", name)
		}
		var ops []term
		for _, tok := range strings.Split(rhs, " + ") {
			ops = append(ops, operand(tok))
		}
		r.sets[name] = ops
	}

	if in.ConditionExpression == nil {
		t.Fatal("no ConditionExpression")
	}
	for _, c := range strings.Split(*in.ConditionExpression, " AND ") {
		r.clauses++
		if lhs, rhs, ok := strings.Cut(c, " IN "); ok {
			if !strings.HasPrefix(rhs, "(") || !strings.HasSuffix(rhs, ")") {
				t.Fatalf("IN clause %q is not parenthesised", c)
			}
			var vals []string
			for _, tok := range strings.Split(strings.Trim(rhs, "()"), ", ") {
				op := operand(tok)
				s, ok := op.val.(*types.AttributeValueMemberS)
				if !ok {
					t.Fatalf("IN operand %q is not a string value", tok)
				}
				vals = append(vals, s.Value)
			}
			r.in[attr(lhs)] = vals
			continue
		}
		lhs, rhs, ok := strings.Cut(c, " = ")
		if !ok {
			t.Fatalf("condition clause %q is neither '=' nor 'IN'", c)
		}
		r.equals[attr(lhs)] = operand(rhs)
	}

	// DynamoDB rejects unused placeholders; every defined one must appear.
	for k := range in.ExpressionAttributeNames {
		if !usedNames[k] {
			t.Errorf("name placeholder %q is defined but unused", k)
		}
	}
	for k := range in.ExpressionAttributeValues {
		if !usedValues[k] {
			t.Errorf("value placeholder %q is defined but unused", k)
		}
	}
	return r
}

// setString asserts attr is set to exactly one string value and returns it.
func (r resolved) setString(t *testing.T, attr string) string {
	t.Helper()
	ops, ok := r.sets[attr]
	if !ok {
		t.Fatalf("%q is not set", attr)
	}
	if len(ops) != 1 || ops[0].val == nil {
		t.Fatalf("%q is not set to a single value: %+v", attr, ops)
	}
	return sVal(t, ops[0].val)
}

func TestTransitionInput(t *testing.T) {
	fixed := time.Date(2024, 3, 5, 10, 0, 0, 120_000_000, time.FixedZone("CET", 3600))
	const wantNow = "2024-03-05T09:00:00.120Z"
	if lifecycle.FormatTime(fixed) != wantNow {
		t.Fatalf("FormatTime(fixed) = %q, want %q", lifecycle.FormatTime(fixed), wantNow)
	}
	s := NewInterviews(nil, "tbl", func() time.Time { return fixed }, func() string { return "tok" })

	actor := lifecycle.Actor{Sub: "user-1", Roles: []string{"Admin", "Dispatcher"}}
	tests := []struct {
		name        string
		tr          interview.Transition
		req         interview.Request
		wantReason  string // "" means cancelReason must be absent
		wantBy      bool
		wantCorr    string // "" means correlationId must be absent
		wantStamped string
	}{
		{
			name:        "cancel with reason",
			tr:          interview.Cancel,
			req:         interview.Request{Request: lifecycle.Request{ID: "s-42", Actor: actor, Reason: "changed my mind", CorrelationID: "corr-1"}},
			wantReason:  "changed my mind",
			wantBy:      true,
			wantCorr:    "corr-1",
			wantStamped: "cancelledAt",
		},
		{
			name:        "cancel without reason or correlation",
			tr:          interview.Cancel,
			req:         interview.Request{Request: lifecycle.Request{ID: "s-42", Actor: actor}},
			wantBy:      true,
			wantStamped: "cancelledAt",
		},
		{
			name:        "pause ignores a reason",
			tr:          interview.Pause,
			req:         interview.Request{Request: lifecycle.Request{ID: "s-7", Actor: actor, Reason: "should be ignored", CorrelationID: "corr-2"}},
			wantCorr:    "corr-2",
			wantStamped: "pausedAt",
		},
		{
			name:        "pause plain",
			tr:          interview.Pause,
			req:         interview.Request{Request: lifecycle.Request{ID: "s-7", Actor: lifecycle.Actor{Sub: "user-2"}}},
			wantStamped: "pausedAt",
		},
		{
			name:        "resume",
			tr:          interview.Resume,
			req:         interview.Request{Request: lifecycle.Request{ID: "s-8", Actor: actor, Reason: "ignored"}},
			wantStamped: "resumedAt",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := interview.Session{ID: tt.req.ID, OwnerID: tt.req.Actor.Sub, Status: tt.tr.From[0], Version: 7}
			tx := s.transitionInput(tt.tr, old, tt.req, fixed)
			if aws.ToString(tx.ClientRequestToken) != "tok" {
				t.Errorf("ClientRequestToken = %q, want the store's token", aws.ToString(tx.ClientRequestToken))
			}
			if len(tx.TransactItems) != 2 || tx.TransactItems[0].Update == nil || tx.TransactItems[1].Put == nil {
				t.Fatalf("transaction %+v, want the session's update and the request's record", tx.TransactItems)
			}
			put := tx.TransactItems[1].Put
			if aws.ToString(put.TableName) != "tbl" || sVal(t, put.Item["pk"]) != "INTERVIEW#"+tt.req.ID || !strings.HasPrefix(sVal(t, put.Item["sk"]), "REQUEST#") {
				t.Errorf("the request's record is %v in %q, want it beside the session", put.Item, aws.ToString(put.TableName))
			}
			if got := nVal(t, put.Item["version"]); got != "8" {
				t.Errorf("the record's version = %s, want the one the transition makes (8)", got)
			}
			if got, want := nVal(t, put.Item["expiresAt"]), strconv.FormatInt(fixed.Add(RequestWindow).Unix(), 10); got != want {
				t.Errorf("the record expires at %s, want %s (RequestWindow after the write)", got, want)
			}
			in := updateAsInput(tx.TransactItems[0].Update)

			if aws.ToString(in.TableName) != "tbl" {
				t.Errorf("TableName = %q, want tbl", aws.ToString(in.TableName))
			}
			if len(in.Key) != 2 {
				t.Errorf("Key = %v, want pk and sk only", in.Key)
			}
			if got := sVal(t, in.Key["pk"]); got != "INTERVIEW#"+tt.req.ID {
				t.Errorf("pk = %q, want %q", got, "INTERVIEW#"+tt.req.ID)
			}
			if got := sVal(t, in.Key["sk"]); got != "INTERVIEW" {
				t.Errorf("sk = %q, want INTERVIEW", got)
			}
			if in.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
				t.Errorf("ReturnValuesOnConditionCheckFailure = %q, want ALL_OLD", in.ReturnValuesOnConditionCheckFailure)
			}

			r := resolveInput(t, in)

			// Condition: the version read, ownerId = caller AND status IN exactly the rule's
			// sources.
			if r.clauses != 3 {
				t.Errorf("condition %q has %d clauses, want 3", aws.ToString(in.ConditionExpression), r.clauses)
			}
			if v, ok := r.equals["version"]; !ok || v.val == nil || nVal(t, v.val) != "7" {
				t.Errorf("condition does not hold the version read (7): %q", aws.ToString(in.ConditionExpression))
			}
			owner, ok := r.equals["ownerId"]
			if !ok || owner.val == nil {
				t.Fatalf("condition does not compare ownerId to a value: %q", aws.ToString(in.ConditionExpression))
			}
			if got := sVal(t, owner.val); got != tt.req.Actor.Sub {
				t.Errorf("condition ownerId = %q, want %q", got, tt.req.Actor.Sub)
			}
			from := r.in["status"]
			want := make([]string, len(tt.tr.From))
			for i, st := range tt.tr.From {
				want[i] = string(st)
			}
			gotSorted, wantSorted := slices.Sorted(slices.Values(from)), slices.Sorted(slices.Values(want))
			if !slices.Equal(gotSorted, wantSorted) {
				t.Errorf("condition status IN %q, want exactly %q", from, want)
			}
			for _, st := range interview.Statuses {
				if slices.Contains(from, string(st)) != tt.tr.Allows(st) {
					t.Errorf("condition and rule disagree about %q", st)
				}
			}

			// Update.
			if got := r.setString(t, "status"); got != string(tt.tr.To) {
				t.Errorf("status = %q, want %q", got, tt.tr.To)
			}
			if ops := r.sets["previousStatus"]; len(ops) != 1 || ops[0].name != "status" {
				t.Errorf("previousStatus = %+v, want the old status attribute", ops)
			}
			if ops := r.sets["version"]; len(ops) != 2 || ops[0].name != "version" || ops[1].val == nil || nVal(t, ops[1].val) != "1" {
				t.Errorf("version = %+v, want version + 1", ops)
			}
			if got := r.setString(t, "updatedAt"); got != wantNow {
				t.Errorf("updatedAt = %q, want %q", got, wantNow)
			}
			if got, want := r.setString(t, "ownerStatus"), tt.req.Actor.Sub+"#"+string(tt.tr.To); got != want {
				t.Errorf("ownerStatus = %q, want %q", got, want)
			}
			if got := r.setString(t, tt.wantStamped); got != wantNow {
				t.Errorf("%s = %q, want %q", tt.wantStamped, got, wantNow)
			}
			for _, other := range []string{"cancelledAt", "pausedAt", "resumedAt"} {
				if _, ok := r.sets[other]; ok && other != tt.wantStamped {
					t.Errorf("%s is set by %s", other, tt.tr.Action)
				}
			}
			if tt.wantBy {
				if got := r.setString(t, "cancelledBy"); got != tt.req.Actor.Sub {
					t.Errorf("cancelledBy = %q, want %q", got, tt.req.Actor.Sub)
				}
			} else if _, ok := r.sets["cancelledBy"]; ok {
				t.Errorf("cancelledBy is set by %s", tt.tr.Action)
			}
			if tt.wantReason != "" {
				if got := r.setString(t, "cancelReason"); got != tt.wantReason {
					t.Errorf("cancelReason = %q, want %q", got, tt.wantReason)
				}
			} else if _, ok := r.sets["cancelReason"]; ok {
				t.Errorf("cancelReason is set (reason %q, action %s)", tt.req.Reason, tt.tr.Action)
			}
			if tt.wantCorr != "" {
				if got := r.setString(t, "correlationId"); got != tt.wantCorr {
					t.Errorf("correlationId = %q, want %q", got, tt.wantCorr)
				}
			} else if _, ok := r.sets["correlationId"]; ok {
				t.Errorf("correlationId is set without one being given")
			}
			if got := r.setString(t, "lastAction"); got != tt.tr.Action {
				t.Errorf("lastAction = %q, want %q", got, tt.tr.Action)
			}
			if ops := r.sets["actor"]; len(ops) != 1 {
				t.Errorf("actor not set to a single value: %+v", ops)
			} else if m, ok := ops[0].val.(*types.AttributeValueMemberM); !ok {
				t.Errorf("actor = %#v, want a map", ops[0].val)
			} else {
				if got := sVal(t, m.Value["sub"]); got != tt.req.Actor.Sub {
					t.Errorf("actor.sub = %q, want %q", got, tt.req.Actor.Sub)
				}
				l, ok := m.Value["roles"].(*types.AttributeValueMemberL)
				if !ok {
					t.Fatalf("actor.roles = %#v, want a list", m.Value["roles"])
				}
				var roles []string
				for _, e := range l.Value {
					roles = append(roles, sVal(t, e))
				}
				if !slices.Equal(roles, tt.req.Actor.Roles) {
					t.Errorf("actor.roles = %q, want %q", roles, tt.req.Actor.Roles)
				}
			}

			// Nothing else is written: no key attributes, no ownerId, no unexpected fields.
			allowed := map[string]bool{
				"previousStatus": true, "status": true, "version": true, "updatedAt": true,
				"ownerStatus": true, tt.wantStamped: true, "lastAction": true, "actor": true,
				"cancelledBy": tt.wantBy, "cancelReason": tt.wantReason != "", "correlationId": tt.wantCorr != "",
			}
			for a := range r.sets {
				if !allowed[a] {
					t.Errorf("unexpected attribute %q in the update", a)
				}
			}
			// Only the earlier design's set and its last request are removed, and a planned
			// resume (a transition without one ends it).
			if got := slices.Sorted(slices.Values(r.removes)); !slices.Equal(got, []string{"appliedRequests", "idempotencyAt", "idempotencyFingerprint", "idempotencyKey", "resumeAt"}) {
				t.Errorf("REMOVE %v", got)
			}
		})
	}
}
