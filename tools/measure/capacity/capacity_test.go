package capacity

import (
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestItemSize(t *testing.T) {
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	tests := []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"string: name and UTF-8 bytes", map[string]types.AttributeValue{"title": str("héllo")}, 5 + 6},
		{"number: a byte per two significant digits, plus one", map[string]types.AttributeValue{"n": n("12345")}, 1 + 3 + 1},
		{"number: zeros at either end are not significant", map[string]types.AttributeValue{"n": n("1200.00")}, 1 + 1 + 1},
		{"number: a fraction", map[string]types.AttributeValue{"n": n("-0.0625")}, 1 + 2 + 1},
		{"boolean and null", map[string]types.AttributeValue{"b": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true}}, 2 + 2},
		{"string set: its members", map[string]types.AttributeValue{"ss": &types.AttributeValueMemberSS{Value: []string{"ab", "cde"}}}, 2 + 5},
		{"list: three bytes, and a byte per element", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{str("ab"), str("c")}}}, 1 + 3 + (1 + 2) + (1 + 1)},
		{"map: three bytes, and a byte, the name and the value of each element", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"sub": str("alice")}}}, 1 + 3 + 1 + 3 + 5},
		{"empty list", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{}}, 1 + 3},
	}
	for _, tt := range tests {
		if got := ItemSize(tt.item); got != tt.want {
			t.Errorf("%s: %d bytes, want %d", tt.name, got, tt.want)
		}
	}
}

// TestMeterFindsWhatARequestTouches: the items each write prices (their keys, and whether
// in a transaction), and how each read is priced from what it returned.
func TestMeterFindsWhatARequestTouches(t *testing.T) {
	m := pricer{schemas: map[string]Schema{"t": {Keys: []string{"pk", "sk"}, Indexes: []Index{{Name: "byOwner", Keys: []string{"owner"}, Projection: types.ProjectionTypeKeysOnly}}}}}
	key := Item{"pk": str("P"), "sk": str("S")}
	full := Item{"pk": str("P"), "sk": str("S"), "owner": str("o"), "x": str("y")}
	cases := []struct {
		name string
		in   any
		want []written
	}{
		{"UpdateItem", &dynamodb.UpdateItemInput{TableName: aws.String("t"), Key: key}, []written{{table: "t", key: key}}},
		{"PutItem: the key of its item", &dynamodb.PutItemInput{TableName: aws.String("t"), Item: full}, []written{{table: "t", key: key}}},
		{"DeleteItem", &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: key}, []written{{table: "t", key: key}}},
		{"TransactWriteItems: each item, transactional", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: aws.String("t"), Key: key}},
			{Put: &types.Put{TableName: aws.String("t"), Item: full}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String("t"), Key: key}},
		}}, []written{{table: "t", key: key, transactional: true}, {table: "t", key: key, transactional: true}}},
		{"a read writes nothing", &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key}, nil},
	}
	for _, c := range cases {
		got := m.writes(c.in)
		if len(got) != len(c.want) {
			t.Errorf("%s: %d items, want %d", c.name, len(got), len(c.want))
			continue
		}
		for i := range got {
			if got[i].table != c.want[i].table || got[i].transactional != c.want[i].transactional || !maps.EqualFunc(got[i].key, c.want[i].key, sameValue) {
				t.Errorf("%s: item %d is %+v, want %+v", c.name, i, got[i], c.want[i])
			}
		}
	}
	// Reads: a strongly consistent GetItem of a 5 KB item is 2 units; an eventually
	// consistent Query of an index, the total it returned, halved.
	u, ok := m.reads(&dynamodb.GetItemInput{TableName: aws.String("t"), ConsistentRead: aws.Bool(true)}, &dynamodb.GetItemOutput{Item: sized(5 * 1024)})
	if !ok || u.TableRead != 2 || u.Requests != 1 {
		t.Errorf("GetItem: %+v", u)
	}
	u, ok = m.reads(&dynamodb.QueryInput{TableName: aws.String("t"), IndexName: aws.String("byOwner")}, &dynamodb.QueryOutput{Items: slices.Repeat([]Item{sized(600)}, 20)})
	if !ok || u.IndexRead["byOwner"] != 1.5 || u.TableRead != 0 {
		t.Errorf("Query: %+v", u)
	}
}
