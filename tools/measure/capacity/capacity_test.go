package capacity

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestItemSize(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	tests := []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"string: name and UTF-8 bytes", map[string]types.AttributeValue{"title": s("héllo")}, 5 + 6},
		{"number: a byte per two significant digits, plus one", map[string]types.AttributeValue{"n": n("12345")}, 1 + 3 + 1},
		{"number: zeros at either end are not significant", map[string]types.AttributeValue{"n": n("1200.00")}, 1 + 1 + 1},
		{"number: a fraction", map[string]types.AttributeValue{"n": n("-0.0625")}, 1 + 2 + 1},
		{"boolean and null", map[string]types.AttributeValue{"b": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true}}, 2 + 2},
		{"string set: its members", map[string]types.AttributeValue{"ss": &types.AttributeValueMemberSS{Value: []string{"ab", "cde"}}}, 2 + 5},
		{"list: three bytes, and a byte per element", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("ab"), s("c")}}}, 1 + 3 + (1 + 2) + (1 + 1)},
		{"map: three bytes, and a byte, the name and the value of each element", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"sub": s("alice")}}}, 1 + 3 + 1 + 3 + 5},
		{"empty list", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{}}, 1 + 3},
	}
	for _, tt := range tests {
		if got := ItemSize(tt.item); got != tt.want {
			t.Errorf("%s: %d bytes, want %d", tt.name, got, tt.want)
		}
	}
}

func TestUnitsFor(t *testing.T) {
	for _, c := range []struct{ size, per, want int }{{0, 1024, 1}, {1, 1024, 1}, {1024, 1024, 1}, {1025, 1024, 2}, {9000, 1024, 9}, {4097, 4096, 2}} {
		if got := UnitsFor(c.size, c.per); got != c.want {
			t.Errorf("UnitsFor(%d, %d) = %d, want %d", c.size, c.per, got, c.want)
		}
	}
}

// TestMeterRecords checks that reported units are split into reads and writes by
// operation when DynamoDB gives only CapacityUnits, and kept as given when it splits them.
func TestMeterRecords(t *testing.T) {
	var m Meter
	m.record(&dynamodb.UpdateItemOutput{ConsumedCapacity: &types.ConsumedCapacity{
		Table:                  &types.Capacity{CapacityUnits: aws.Float64(2)},
		GlobalSecondaryIndexes: map[string]types.Capacity{"byOwner": {CapacityUnits: aws.Float64(1)}, "byOwnerStatus": {CapacityUnits: aws.Float64(2)}},
	}})
	m.record(&dynamodb.QueryOutput{ConsumedCapacity: &types.ConsumedCapacity{
		GlobalSecondaryIndexes: map[string]types.Capacity{"byOwner": {CapacityUnits: aws.Float64(0.5)}},
	}})
	m.record(&dynamodb.TransactWriteItemsOutput{ConsumedCapacity: []types.ConsumedCapacity{{
		Table: &types.Capacity{CapacityUnits: aws.Float64(4), WriteCapacityUnits: aws.Float64(4), ReadCapacityUnits: aws.Float64(0)},
	}}})
	u := m.Take()
	if u.TableWrite != 6 || u.TableRead != 0 || u.IndexWrites() != 3 || u.IndexRead["byOwner"] != 0.5 || u.Requests != 3 {
		t.Errorf("recorded %+v", u)
	}
	if u.Write() != 9 || u.Read() != 0.5 || u.TransactionWrite != 4 {
		t.Errorf("write %v read %v, want 9 and 0.5", u.Write(), u.Read())
	}
	if again := m.Take(); again.Requests != 0 || again.Write() != 0 {
		t.Errorf("Take did not start again from zero: %+v", again)
	}
}

// TestAskSetsReturnConsumedCapacity checks every operation the stores send asks for it.
func TestAskSetsReturnConsumedCapacity(t *testing.T) {
	up, get, q, tx, put := &dynamodb.UpdateItemInput{}, &dynamodb.GetItemInput{}, &dynamodb.QueryInput{}, &dynamodb.TransactWriteItemsInput{}, &dynamodb.PutItemInput{}
	for _, in := range []any{up, get, q, tx, put} {
		ask(in)
	}
	for name, got := range map[string]types.ReturnConsumedCapacity{"UpdateItem": up.ReturnConsumedCapacity, "GetItem": get.ReturnConsumedCapacity,
		"Query": q.ReturnConsumedCapacity, "TransactWriteItems": tx.ReturnConsumedCapacity, "PutItem": put.ReturnConsumedCapacity} {
		if got != types.ReturnConsumedCapacityIndexes {
			t.Errorf("%s: ReturnConsumedCapacity %q", name, got)
		}
	}
}
