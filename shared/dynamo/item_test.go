package dynamo

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/interview"
)

func fptr(f float64) *float64 { return &f }

func fullSession() interview.Session {
	t0 := time.Date(2024, 2, 29, 8, 15, 30, 250_000_000, time.UTC)
	return interview.Session{
		ID:                "s-full",
		OwnerID:           "user-1",
		TopicIDs:          []string{"go", "dynamodb"},
		TopicLabels:       []string{"Go", "DynamoDB"},
		Title:             "Backend interview",
		Progress:          0.625,
		Score:             87.5,
		TargetScore:       fptr(90),
		CreatedAt:         t0,
		UpdatedAt:         t0.Add(2 * time.Hour),
		LastInteractionAt: t0.Add(90 * time.Minute),
		InterviewerID:     "bot-7",
		ConversationID:    "conv-9",
		Status:            interview.Cancelled,
		RetryPolicy:       &interview.RetryPolicy{MinCooldownHours: fptr(12.5), AutoSuggestIfBelow: fptr(0)},
		Labels:            []string{"senior", "remote"},
		Notes:             "prefers mornings",
		Language:          "de",
		Difficulty:        3,
		RecentMessages:    json.RawMessage(`[{"role":"user","text":"hi, \"there\""},{"role":"bot","text":"hello"}]`),
		Version:           7,
		CancelledAt:       t0.Add(2 * time.Hour),
		CancelledBy:       "user-1",
		CancelReason:      "schedule conflict",
		PausedAt:          t0.Add(time.Hour),
		ResumedAt:         t0.Add(80 * time.Minute),
	}
}

func minimalSession() interview.Session {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return interview.Session{
		ID:                "s-min",
		OwnerID:           "user-2",
		Title:             "t",
		CreatedAt:         t0,
		UpdatedAt:         t0,
		LastInteractionAt: t0,
		InterviewerID:     "bot",
		Status:            interview.Active,
	}
}

// equalSessions compares two sessions field by field; nil and empty slices are the same.
func equalSessions(t *testing.T, got, want interview.Session) {
	t.Helper()
	norm := func(s interview.Session) interview.Session {
		for _, p := range []*[]string{&s.TopicIDs, &s.TopicLabels, &s.Labels} {
			if len(*p) == 0 {
				*p = nil
			}
		}
		return s
	}
	g, w := norm(got), norm(want)
	gv, wv := reflect.ValueOf(g), reflect.ValueOf(w)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("%s = %#v, want %#v", name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
}

func TestSessionItemRoundTripFull(t *testing.T) {
	s := fullSession()
	m := SessionItem(s)

	if got := sVal(t, m["pk"]); got != "INTERVIEW#s-full" {
		t.Errorf("pk = %q", got)
	}
	if got := sVal(t, m["sk"]); got != "INTERVIEW" {
		t.Errorf("sk = %q", got)
	}
	if got := sVal(t, m["type"]); got != "interview" {
		t.Errorf("type = %q", got)
	}
	if got := sVal(t, m["ownerStatus"]); got != "user-1#cancelled" {
		t.Errorf("ownerStatus = %q", got)
	}
	if got := sVal(t, m["createdAt"]); got != "2024-02-29T08:15:30.250Z" {
		t.Errorf("createdAt = %q", got)
	}
	if got := sVal(t, m["recentMessages"]); got != string(s.RecentMessages) {
		t.Errorf("recentMessages = %q", got)
	}
	if got := nVal(t, m["progress"]); got != "0.625" {
		t.Errorf("progress = %q", got)
	}
	if got := nVal(t, m["version"]); got != "7" {
		t.Errorf("version = %q", got)
	}
	for _, k := range []string{
		"id", "ownerId", "topicIds", "topicLabels", "title", "progress", "score", "targetScore",
		"createdAt", "updatedAt", "lastInteractionAt", "interviewerId", "conversationId", "status",
		"retryPolicy", "labels", "notes", "language", "difficulty", "recentMessages", "version",
		"cancelledAt", "cancelledBy", "cancelReason", "pausedAt", "resumedAt",
	} {
		if _, ok := m[k]; !ok {
			t.Errorf("item lacks %q", k)
		}
	}

	got, err := SessionFromItem(m)
	if err != nil {
		t.Fatalf("SessionFromItem: %v", err)
	}
	equalSessions(t, got, s)
	if !json.Valid(got.RecentMessages) {
		t.Errorf("RecentMessages not valid JSON: %s", got.RecentMessages)
	}
}

func TestSessionItemRoundTripStringSet(t *testing.T) {
	// String lists may also be stored as string sets.
	s := fullSession()
	m := SessionItem(s)
	m["labels"] = &types.AttributeValueMemberSS{Value: []string{"senior", "remote"}}
	got, err := SessionFromItem(m)
	if err != nil {
		t.Fatalf("SessionFromItem: %v", err)
	}
	equalSessions(t, got, s)
}

func TestSessionItemRoundTripMinimal(t *testing.T) {
	s := minimalSession()
	m := SessionItem(s)

	for _, k := range []string{
		"notes", "targetScore", "retryPolicy", "recentMessages", "cancelledAt", "cancelledBy",
		"cancelReason", "pausedAt", "resumedAt", "conversationId", "labels", "topicLabels",
		"language", "difficulty",
	} {
		if v, ok := m[k]; ok {
			t.Errorf("item has %q = %#v, want it absent", k, v)
		}
	}
	for _, k := range []string{"pk", "sk", "type", "id", "ownerId", "ownerStatus", "status", "version", "progress", "score", "title", "interviewerId", "createdAt", "updatedAt", "lastInteractionAt"} {
		if _, ok := m[k]; !ok {
			t.Errorf("item lacks %q", k)
		}
	}
	// topicIds is always written, as an (empty) list.
	if l, ok := m["topicIds"].(*types.AttributeValueMemberL); !ok || len(l.Value) != 0 {
		t.Errorf("topicIds = %#v, want an empty list", m["topicIds"])
	}

	got, err := SessionFromItem(m)
	if err != nil {
		t.Fatalf("SessionFromItem: %v", err)
	}
	equalSessions(t, got, s)
	if got.TargetScore != nil || got.RetryPolicy != nil || got.RecentMessages != nil {
		t.Errorf("optional pointers not nil: %+v", got)
	}
	if !got.CancelledAt.IsZero() || !got.PausedAt.IsZero() || !got.ResumedAt.IsZero() {
		t.Errorf("absent timestamps not zero: %+v", got)
	}
}

func TestSessionItemZeroTargetScoreKept(t *testing.T) {
	// A target of 0 is a value, not "absent".
	s := minimalSession()
	s.TargetScore = fptr(0)
	s.RetryPolicy = &interview.RetryPolicy{}
	m := SessionItem(s)
	if got := nVal(t, m["targetScore"]); got != "0" {
		t.Errorf("targetScore = %q, want 0", got)
	}
	rp, ok := m["retryPolicy"].(*types.AttributeValueMemberM)
	if !ok || len(rp.Value) != 0 {
		t.Errorf("retryPolicy = %#v, want an empty map", m["retryPolicy"])
	}
	got, err := SessionFromItem(m)
	if err != nil {
		t.Fatal(err)
	}
	equalSessions(t, got, s)
}

func TestSessionFromItemErrors(t *testing.T) {
	mut := func(f func(m map[string]types.AttributeValue)) map[string]types.AttributeValue {
		m := SessionItem(fullSession())
		f(m)
		return m
	}
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

	tests := []struct {
		name    string
		item    map[string]types.AttributeValue
		mention string // attribute the error should name ("" to skip)
	}{
		{"status as N", mut(func(m map[string]types.AttributeValue) { m["status"] = n("1") }), "status"},
		{"progress as S", mut(func(m map[string]types.AttributeValue) { m["progress"] = sAV("0.5") }), "progress"},
		{"progress not numeric", mut(func(m map[string]types.AttributeValue) { m["progress"] = n("abc") }), "progress"},
		{"version 1.5", mut(func(m map[string]types.AttributeValue) { m["version"] = n("1.5") }), "version"},
		{"version as S", mut(func(m map[string]types.AttributeValue) { m["version"] = sAV("1") }), "version"},
		{"difficulty 2.5", mut(func(m map[string]types.AttributeValue) { m["difficulty"] = n("2.5") }), "difficulty"},
		{"recentMessages not JSON", mut(func(m map[string]types.AttributeValue) { m["recentMessages"] = sAV("[{not json") }), "recentMessages"},
		{"recentMessages as N", mut(func(m map[string]types.AttributeValue) { m["recentMessages"] = n("1") }), "recentMessages"},
		{"createdAt not a timestamp", mut(func(m map[string]types.AttributeValue) { m["createdAt"] = sAV("yesterday") }), "createdAt"},
		{"updatedAt as N", mut(func(m map[string]types.AttributeValue) { m["updatedAt"] = n("1700000000") }), "updatedAt"},
		{"cancelledAt not a timestamp", mut(func(m map[string]types.AttributeValue) { m["cancelledAt"] = sAV("2024-13-01") }), "cancelledAt"},
		{"topicIds list with a number", mut(func(m map[string]types.AttributeValue) {
			m["topicIds"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{sAV("go"), n("3")}}
		}), "topicIds"},
		{"topicIds as S", mut(func(m map[string]types.AttributeValue) { m["topicIds"] = sAV("go") }), "topicIds"},
		{"labels as M", mut(func(m map[string]types.AttributeValue) {
			m["labels"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
		}), "labels"},
		{"targetScore as S", mut(func(m map[string]types.AttributeValue) { m["targetScore"] = sAV("90") }), "targetScore"},
		{"retryPolicy as S", mut(func(m map[string]types.AttributeValue) { m["retryPolicy"] = sAV("{}") }), "retryPolicy"},
		{"retryPolicy field as S", mut(func(m map[string]types.AttributeValue) {
			m["retryPolicy"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"minCooldownHours": sAV("2")}}
		}), "minCooldownHours"},
		{"ownerId as BOOL", mut(func(m map[string]types.AttributeValue) { m["ownerId"] = &types.AttributeValueMemberBOOL{Value: true} }), "ownerId"},
		{"id missing", mut(func(m map[string]types.AttributeValue) { delete(m, "id") }), ""},
		{"id empty", mut(func(m map[string]types.AttributeValue) { m["id"] = sAV("") }), ""},
		{"status missing", mut(func(m map[string]types.AttributeValue) { delete(m, "status") }), ""},
		{"empty item", map[string]types.AttributeValue{}, ""},
		{"nil item", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				got interview.Session
				err error
			)
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("SessionFromItem panicked: %v", r)
					}
				}()
				got, err = SessionFromItem(tt.item)
			}()
			if err == nil {
				t.Fatalf("SessionFromItem succeeded: %+v", got)
			}
			if !reflect.DeepEqual(got, interview.Session{}) {
				t.Errorf("session on error = %+v, want zero", got)
			}
			if tt.mention != "" && !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not name %q", err, tt.mention)
			}
		})
	}
}

func TestSessionFromItemIgnoresUnknownAttributes(t *testing.T) {
	m := SessionItem(minimalSession())
	m["lastAction"] = sAV("pause")
	m["actor"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"sub": sAV("u")}}
	m["someFutureAttribute"] = sAV("x")
	m["correlationId"] = sAV("c")
	got, err := SessionFromItem(m)
	if err != nil {
		t.Fatalf("SessionFromItem: %v", err)
	}
	equalSessions(t, got, minimalSession())
}

func TestSessionPreviousStatusRoundTrips(t *testing.T) {
	s := minimalSession()
	s.PreviousStatus = interview.Active
	got, err := SessionFromItem(SessionItem(s))
	if err != nil || got.PreviousStatus != interview.Active {
		t.Fatalf("PreviousStatus = %q, err %v", got.PreviousStatus, err)
	}
}

func TestSessionItemDeterministic(t *testing.T) {
	s := fullSession()
	m1 := SessionItem(s)
	m2 := SessionItem(s)
	if len(m1) != len(m2) || !maps.EqualFunc(m1, m2, func(a, b types.AttributeValue) bool { return reflect.DeepEqual(a, b) }) {
		t.Errorf("SessionItem is not deterministic")
	}
}

// TestNumbersDynamoDBCannotHoldAreStoredAsZero: a score of 5e-324 is a valid number for
// the API's schema, but DynamoDB refuses magnitudes under 1E-130 (a 500, found by
// schemathesis); it is stored as the nearest number DynamoDB holds.
func TestNumbersDynamoDBCannotHoldAreStoredAsZero(t *testing.T) {
	for in, want := range map[float64]string{5e-324: "0", -1e-200: "0", 1e-130: "0." + strings.Repeat("0", 129) + "1", 87.5: "87.5", 0: "0"} {
		if got := nAV(in).(*types.AttributeValueMemberN).Value; got != want {
			t.Errorf("nAV(%g) = %q, want %q", in, got, want)
		}
	}
}
