package dynamo

import (
	"context"
	"errors"
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
	return NewLive(api, "live", func() time.Time { return liveT0 }, func() string { return secret })
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

func TestRedeemIsOneConditionalDelete(t *testing.T) {
	stored := map[string]types.AttributeValue{
		"pk": sAV("TICKET#x"), "sub": sAV("dana"), "roles": listAV([]string{"Dispatcher"}), "expiresAt": iAV(liveT0.Unix() + 10), "until": iAV(liveT0.Unix() + 3600),
	}
	api := &liveAPI{delOut: &dynamodb.DeleteItemOutput{Attributes: stored}}
	caller, err := newTestLive(api).Redeem(context.Background(), secret)
	if err != nil || caller.Sub != "dana" || len(caller.Roles) != 1 || !caller.Until.Equal(liveT0.Add(time.Hour)) {
		t.Fatalf("caller %+v, err %v", caller, err)
	}
	in := api.deletes[0]
	if len(api.deletes) != 1 || s(in.Key["pk"]) != "TICKET#"+live.TicketKey(secret) ||
		aws.ToString(in.ConditionExpression) != "attribute_exists(pk) AND expiresAt > :now" || s(in.ExpressionAttributeValues[":now"]) != "1795255200" ||
		in.ReturnValues != types.ReturnValueAllOld || in.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
		t.Errorf("redeem request %+v", in)
	}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"no such ticket", &types.ConditionalCheckFailedException{}, live.ErrTicketUnknown},
		{"expired", &types.ConditionalCheckFailedException{Item: stored}, live.ErrTicketExpired},
		{"throttled", sdkShaped(400, &types.ProvisionedThroughputExceededException{}), lifecycle.ErrUnavailable},
	}
	for _, c := range cases {
		_, err := newTestLive(&liveAPI{err: c.err}).Redeem(context.Background(), secret)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	for name, attrs := range map[string]map[string]types.AttributeValue{
		"sub not a string": {"sub": iAV(1)},
		"no sub":           {"roles": &types.AttributeValueMemberL{}},
	} {
		_, err := newTestLive(&liveAPI{delOut: &dynamodb.DeleteItemOutput{Attributes: attrs}}).Redeem(context.Background(), secret)
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
