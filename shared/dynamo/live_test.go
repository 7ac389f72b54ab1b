package dynamo

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/live"
)

// liveAPI records the live store's requests and answers with canned results. Its
// behaviour against real DynamoDB is tested in tests/integration (live_test.go).
type liveAPI struct {
	puts    []*dynamodb.PutItemInput
	updates []*dynamodb.UpdateItemInput
	// updErrs answer the updates in turn (nil once they run out); err does not.
	updErrs []error
	updOut  *dynamodb.UpdateItemOutput
	deletes []*dynamodb.DeleteItemInput
	queries []*dynamodb.QueryInput
	delOut  *dynamodb.DeleteItemOutput
	pages   []*dynamodb.QueryOutput
	err     error
}

func (f *liveAPI) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts = append(f.puts, in)
	return &dynamodb.PutItemOutput{}, f.err
}

func (f *liveAPI) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.updates = append(f.updates, in)
	var err error
	if len(f.updErrs) > 0 {
		err, f.updErrs = f.updErrs[0], f.updErrs[1:]
	}
	if f.updOut != nil && err == nil {
		return f.updOut, nil
	}
	return &dynamodb.UpdateItemOutput{}, err
}

func (f *liveAPI) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	f.deletes = append(f.deletes, in)
	if f.err != nil {
		return nil, f.err
	}
	if f.delOut == nil {
		return &dynamodb.DeleteItemOutput{}, nil
	}
	return f.delOut, nil
}

func (f *liveAPI) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.queries = append(f.queries, in)
	if f.err != nil {
		return nil, f.err
	}
	p := f.pages[0]
	f.pages = f.pages[1:]
	return p, nil
}

var liveT0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const secret = "sample-ticket-alice-for-events-live-connect"

func newTestLive(api *liveAPI) *Live {
	return NewLive(api, "live", func() time.Time { return liveT0 }, func() string { return secret }, live.UserLimits{Connections: 3, TicketsPerMinute: 2})
}

func s(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}

func TestIssueTicketStoresOnlyItsHash(t *testing.T) {
	api := &liveAPI{}
	tk, err := newTestLive(api).IssueTicket(context.Background(), lifecycle.Actor{Sub: "dana", Roles: []string{"Dispatcher"}}, liveT0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if tk.Secret != secret || !tk.ExpiresAt.Equal(liveT0.Add(live.TicketTTL)) {
		t.Errorf("ticket %+v", tk)
	}
	in := api.puts[0]
	if got := s(in.Item["pk"]); got != "TICKET#"+live.TicketKey(secret) {
		t.Errorf("pk %q", got)
	}
	for k, v := range in.Item {
		if strings.Contains(s(v), secret) {
			t.Errorf("attribute %s holds the secret", k)
		}
	}
	if s(in.Item["sub"]) != "dana" || s(in.Item["expiresAt"]) != "1795255230" || s(in.Item["until"]) != "1795258800" || in.Item["userId"] != nil || in.Item["jobReader"] != nil {
		t.Errorf("ticket item %v: want sub and TTL, and no index key (a ticket is no connection)", in.Item)
	}
	if aws.ToString(in.ConditionExpression) != "attribute_not_exists(pk)" {
		t.Errorf("a ticket must never overwrite an item: %q", aws.ToString(in.ConditionExpression))
	}
}

// TestATicketRetriedAfterALostAnswerIsStored: the SDK retries a put whose answer was lost
// and meets the ticket its first attempt stored: that is the ticket stored, not a failure.
// Another ticket under the same key (a collision of 256 random bits) still fails.
func TestATicketRetriedAfterALostAnswerIsStored(t *testing.T) {
	api := &liveAPI{}
	dana := lifecycle.Actor{Sub: "dana", Roles: []string{"Dispatcher"}}
	if _, err := newTestLive(api).IssueTicket(context.Background(), dana, liveT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if api.puts[0].ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
		t.Fatal("a refused put must return the item it met")
	}
	api.err = &types.ConditionalCheckFailedException{Message: aws.String("exists"), Item: api.puts[0].Item}
	if _, err := newTestLive(api).IssueTicket(context.Background(), dana, liveT0.Add(time.Hour)); err != nil {
		t.Errorf("the retry met its own ticket: %v", err)
	}
	if _, err := newTestLive(api).IssueTicket(context.Background(), lifecycle.Actor{Sub: "bob"}, liveT0.Add(time.Hour)); err == nil {
		t.Error("a ticket of someone else under the same key was taken as stored")
	}
}

// TestRedeemIsOneConditionalWrite: a ticket is spent by one conditional update that
// records the connection, so the same connection's retry succeeds and any other fails.
func TestRedeemIsOneConditionalWrite(t *testing.T) {
	stored := map[string]types.AttributeValue{
		"pk": sAV("TICKET#x"), "sub": sAV("dana"), "roles": listAV([]string{"Dispatcher"}), "expiresAt": iAV(liveT0.Unix() + 10), "until": iAV(liveT0.Unix() + 3600),
	}
	api := &liveAPI{updOut: &dynamodb.UpdateItemOutput{Attributes: stored}}
	caller, err := newTestLive(api).Redeem(context.Background(), secret, "conn-1")
	if err != nil || caller.Sub != "dana" || len(caller.Roles) != 1 || !caller.Until.Equal(liveT0.Add(time.Hour)) {
		t.Fatalf("caller %+v, err %v", caller, err)
	}
	in := api.updates[0]
	if len(api.updates) != 1 || len(api.deletes) != 0 || s(in.Key["pk"]) != "TICKET#"+live.TicketKey(secret) ||
		aws.ToString(in.UpdateExpression) != "SET redeemedBy = :conn" || s(in.ExpressionAttributeValues[":conn"]) != "conn-1" ||
		aws.ToString(in.ConditionExpression) != "attribute_exists(pk) AND expiresAt > :now AND (attribute_not_exists(redeemedBy) OR redeemedBy = :conn)" ||
		s(in.ExpressionAttributeValues[":now"]) != "1795255200" ||
		in.ReturnValues != types.ReturnValueAllNew || in.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
		t.Errorf("redeem request %+v", in)
	}
	spent := maps.Clone(stored)
	spent["redeemedBy"] = sAV("conn-other")
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"no such ticket", &types.ConditionalCheckFailedException{}, live.ErrTicketUnknown},
		{"expired", &types.ConditionalCheckFailedException{Item: stored}, live.ErrTicketExpired},
		{"spent by another connection", &types.ConditionalCheckFailedException{Item: spent}, live.ErrTicketUnknown},
		{"throttled", sdkShaped(400, &types.ProvisionedThroughputExceededException{}), lifecycle.ErrUnavailable},
	}
	for _, c := range cases {
		_, err := newTestLive(&liveAPI{updErrs: []error{c.err}}).Redeem(context.Background(), secret, "conn-1")
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	for name, attrs := range map[string]map[string]types.AttributeValue{
		"sub not a string": {"sub": iAV(1)},
		"no sub":           {"roles": &types.AttributeValueMemberL{}},
	} {
		_, err := newTestLive(&liveAPI{updOut: &dynamodb.UpdateItemOutput{Attributes: attrs}}).Redeem(context.Background(), secret, "conn-1")
		if err == nil || strings.Contains(err.Error(), "<nil>") {
			t.Errorf("%s: redeemed, or refused without its reason: %v", name, err)
		}
	}
}

func TestOpenExpiresTheRecordWithTheConnection(t *testing.T) {
	for _, c := range []struct {
		until time.Time
		want  string
	}{
		{time.Time{}, "1795262700"},                  // API Gateway's 2 h, plus 5 min
		{liveT0.Add(30 * time.Minute), "1795257300"}, // the token's expiry, plus 5 min
		{liveT0.Add(3 * time.Hour), "1795262700"},    // a token outliving the connection
	} {
		api := &liveAPI{}
		if err := newTestLive(api).Open(context.Background(), live.Connection{ID: "c", Sub: "alice", ConnectedAt: liveT0, Until: c.until}); err != nil {
			t.Fatal(err)
		}
		if got := s(api.puts[0].Item["expiresAt"]); got != c.want {
			t.Errorf("until %v: record expires at %s, want %s", c.until, got, c.want)
		}
	}
}

func TestOpenIndexesTheConnectionForItsAudiences(t *testing.T) {
	for _, c := range []struct {
		conn      live.Connection
		jobReader bool
	}{
		{live.Connection{ID: "c1", Sub: "alice", ConnectedAt: liveT0}, false},
		{live.Connection{ID: "c2", Sub: "tom", Roles: []string{"Technician"}, ConnectedAt: liveT0}, false},
		{live.Connection{ID: "c3", Sub: "dana", Roles: []string{"Dispatcher"}, ConnectedAt: liveT0}, true},
		{live.Connection{ID: "c4", Sub: "adam", Roles: []string{"Admin"}, ConnectedAt: liveT0}, true},
	} {
		api := &liveAPI{}
		if err := newTestLive(api).Open(context.Background(), c.conn); err != nil {
			t.Fatal(err)
		}
		it := api.puts[0].Item
		if s(it["pk"]) != "CONN#"+c.conn.ID || s(it["userId"]) != c.conn.Sub || s(it["expiresAt"]) != "1795262700" {
			t.Errorf("%s: item %v", c.conn.ID, it)
		}
		if (s(it["jobReader"]) == "jobs") != c.jobReader {
			t.Errorf("%s in the job readers' index: %v, want %v", c.conn.ID, it["jobReader"], c.jobReader)
		}
	}
}

func TestAudienceQueriesItsIndexPageByPage(t *testing.T) {
	conn := func(id, sub string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": sAV("CONN#" + id), "userId": sAV(sub), "roles": listAV([]string{"Dispatcher"}), "until": iAV(liveT0.Unix())}
	}
	api := &liveAPI{pages: []*dynamodb.QueryOutput{
		{Items: []map[string]types.AttributeValue{conn("a", "dana")}, LastEvaluatedKey: map[string]types.AttributeValue{"pk": sAV("CONN#a")}},
		{Items: []map[string]types.AttributeValue{conn("b", "dana")}},
	}}
	got, err := newTestLive(api).Audience(context.Background(), live.Audience{JobReaders: true})
	if err != nil || len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" || got[1].Sub != "dana" || got[1].Roles[0] != "Dispatcher" || !got[1].Until.Equal(liveT0) {
		t.Fatalf("got %+v, %v", got, err)
	}
	if aws.ToString(api.queries[0].IndexName) != IndexByJobReader || api.queries[1].ExclusiveStartKey == nil {
		t.Errorf("queries %+v", api.queries)
	}
	api = &liveAPI{pages: []*dynamodb.QueryOutput{{}}}
	if _, err := newTestLive(api).Audience(context.Background(), live.Audience{Owner: "alice"}); err != nil ||
		aws.ToString(api.queries[0].IndexName) != IndexByUser || s(api.queries[0].ExpressionAttributeValues[":k"]) != "alice" {
		t.Errorf("owner audience: %v %+v", err, api.queries)
	}
}

// places is a user item's conns: each connection id with the epoch second its place ends.
func places(ends map[string]int64) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{}
	for id, end := range ends {
		m[id] = iAV(end)
	}
	return map[string]types.AttributeValue{"pk": sAV("USER#alice"), "conns": &types.AttributeValueMemberM{Value: m}}
}

// TestOpenClaimsAPlaceFirst: the usual connect is two writes, the claim (room is left) and
// the record; both end at the same second.
func TestOpenClaimsAPlaceFirst(t *testing.T) {
	api := &liveAPI{}
	if err := newTestLive(api).Open(context.Background(), live.Connection{ID: "c1", Sub: "alice", ConnectedAt: liveT0}); err != nil {
		t.Fatal(err)
	}
	if len(api.updates) != 1 || len(api.puts) != 1 {
		t.Fatalf("%d updates, %d puts: want one claim, then the record", len(api.updates), len(api.puts))
	}
	u := api.updates[0]
	if s(u.Key["pk"]) != "USER#alice" || aws.ToString(u.UpdateExpression) != "SET conns.#c = :exp, expiresAt = :itemExp" ||
		aws.ToString(u.ConditionExpression) != "attribute_exists(conns) AND size(conns) < :limit" || s(u.ExpressionAttributeValues[":limit"]) != "3" || u.ExpressionAttributeNames["#c"] != "c1" {
		t.Errorf("claim %+v", u)
	}
	if s(u.ExpressionAttributeValues[":exp"]) != s(api.puts[0].Item["expiresAt"]) {
		t.Errorf("the place ends at %s, the record at %s", s(u.ExpressionAttributeValues[":exp"]), s(api.puts[0].Item["expiresAt"]))
	}
}

// TestOpenDecidesFromTheItemItsClaimMet: a refused claim returns the user item, and the
// next write follows from it: the first place of a caller, a refusal when every place is
// live, expired places dropped in the same write, or a retry of our own claim.
func TestOpenDecidesFromTheItemItsClaimMet(t *testing.T) {
	live1, gone := liveT0.Unix()+60, liveT0.Unix()-1
	ccf := func(it map[string]types.AttributeValue) error {
		return &types.ConditionalCheckFailedException{Item: it}
	}
	cases := []struct {
		name       string
		met        map[string]types.AttributeValue
		want       error
		update     string
		condition  string
		limit      string
		wantRecord bool
	}{
		{"no user item yet", nil, nil, "SET conns = :conns, expiresAt = :itemExp", "attribute_not_exists(conns)", "", true},
		{"every place live", places(map[string]int64{"a": live1, "b": live1, "c": live1}), live.ErrTooManyConnections, "", "", "", false},
		{"two places expired", places(map[string]int64{"a": live1, "b": gone, "c": gone}), nil,
			"REMOVE conns.#s0, conns.#s1 SET conns.#c = :exp, expiresAt = :itemExp", "attribute_exists(conns) AND size(conns) < :limit AND conns.#s0 = :s0 AND conns.#s1 = :s1", "5", true},
		{"our own claim, retried by the SDK", places(map[string]int64{"a": live1, "b": live1, "c1": live1}), nil, "", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := &liveAPI{updErrs: []error{ccf(c.met)}}
			err := newTestLive(api).Open(context.Background(), live.Connection{ID: "c1", Sub: "alice", ConnectedAt: liveT0})
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if (len(api.puts) == 1) != c.wantRecord {
				t.Errorf("%d records put, want record: %v", len(api.puts), c.wantRecord)
			}
			if c.update == "" {
				if len(api.updates) != 1 {
					t.Errorf("%d writes after the refused claim, want none", len(api.updates)-1)
				}
				return
			}
			u := api.updates[1]
			if aws.ToString(u.UpdateExpression) != c.update || aws.ToString(u.ConditionExpression) != c.condition ||
				(c.limit != "" && s(u.ExpressionAttributeValues[":limit"]) != c.limit) {
				t.Errorf("second write %q if %q (limit %s)", aws.ToString(u.UpdateExpression), aws.ToString(u.ConditionExpression), s(u.ExpressionAttributeValues[":limit"]))
			}
			if c.name == "two places expired" && (u.ExpressionAttributeNames["#s0"] != "b" || u.ExpressionAttributeNames["#s1"] != "c" || s(u.ExpressionAttributeValues[":s0"]) != strconv.FormatInt(gone, 10)) {
				t.Errorf("drops %v %v", u.ExpressionAttributeNames, u.ExpressionAttributeValues)
			}
		})
	}
	// Others' connects keep changing the item: a bounded number of tries, then 503.
	races := make([]error, 20)
	for i := range races {
		races[i] = ccf(places(map[string]int64{"a": live1, "b": gone, "c": live1}))
	}
	api := &liveAPI{updErrs: races}
	if err := newTestLive(api).Open(context.Background(), live.Connection{ID: "c1", Sub: "alice", ConnectedAt: liveT0}); !errors.Is(err, lifecycle.ErrUnavailable) || len(api.updates) != claimRaces(3) {
		t.Errorf("after %d writes: %v", len(api.updates), err)
	}
}

// TestCloseGivesThePlaceBack: forgetting a connection frees its caller's place; forgetting
// an unknown one writes nothing more.
func TestCloseGivesThePlaceBack(t *testing.T) {
	api := &liveAPI{delOut: &dynamodb.DeleteItemOutput{Attributes: map[string]types.AttributeValue{"pk": sAV("CONN#c1"), "userId": sAV("alice")}}}
	if err := newTestLive(api).Close(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	if len(api.updates) != 1 || s(api.updates[0].Key["pk"]) != "USER#alice" || aws.ToString(api.updates[0].UpdateExpression) != "REMOVE conns.#c" || api.updates[0].ExpressionAttributeNames["#c"] != "c1" {
		t.Fatalf("release %+v", api.updates)
	}
	api = &liveAPI{}
	if err := newTestLive(api).Close(context.Background(), "unknown"); err != nil || len(api.updates) != 0 {
		t.Errorf("an unknown connection: %v, %d updates", err, len(api.updates))
	}
}

// TestIssueTicketCountsTheCallersMinute: each ticket is counted in the caller's minute
// first; once the minute's count is spent, a RateLimitedError says until when.
func TestIssueTicketCountsTheCallersMinute(t *testing.T) {
	api := &liveAPI{}
	store := NewLive(api, "live", func() time.Time { return liveT0.Add(45 * time.Second) }, func() string { return secret }, live.UserLimits{TicketsPerMinute: 2})
	if _, err := store.IssueTicket(context.Background(), lifecycle.Actor{Sub: "dana"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	u := api.updates[0]
	if s(u.Key["pk"]) != "TICKETS#dana#"+strconv.FormatInt(liveT0.Unix(), 10) || aws.ToString(u.ConditionExpression) != "attribute_not_exists(issued) OR issued < :limit" ||
		s(u.ExpressionAttributeValues[":limit"]) != "2" || s(u.ExpressionAttributeValues[":exp"]) != strconv.FormatInt(liveT0.Add(2*time.Minute).Unix(), 10) {
		t.Errorf("count %+v", u)
	}
	api = &liveAPI{updErrs: []error{&types.ConditionalCheckFailedException{}}}
	store = NewLive(api, "live", func() time.Time { return liveT0.Add(45 * time.Second) }, func() string { return secret }, live.UserLimits{TicketsPerMinute: 2})
	_, err := store.IssueTicket(context.Background(), lifecycle.Actor{Sub: "dana"}, time.Time{})
	limited, ok := errors.AsType[*lifecycle.RateLimitedError](err)
	if !ok || limited.RetryAfter != 15*time.Second || len(api.puts) != 0 {
		t.Errorf("over the limit: %v, %d tickets stored", err, len(api.puts))
	}
}
