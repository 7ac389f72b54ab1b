package capacity

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// sized is an item of n bytes by DynamoDB's rules: a key and one padding attribute.
func sized(n int) Item {
	it := Item{"pk": str("a")}
	it["pad"] = str(strings.Repeat("x", n-ItemSize(it)-len("pad")))
	if ItemSize(it) != n {
		panic("sized")
	}
	return it
}

// The examples of DynamoDB's documentation (CapacityUnitCalculations, GSI throughput,
// transactions), each as the calculator must price it.
func TestCalculatorFollowsTheDocumentedExamples(t *testing.T) {
	table := Schema{Keys: []string{"pk"}}
	cases := []struct {
		name string
		got  Units
		read bool
		want float64
	}{
		// "A write of 1 KB or less is one write unit; a 1.5 KB item takes two."
		{"put 500 bytes", table.Write(nil, sized(500), false), false, 1},
		{"put 1 KB", table.Write(nil, sized(1024), false), false, 1},
		{"put 1 KB and a byte", table.Write(nil, sized(1025), false), false, 2},
		{"put 1.5 KB", table.Write(nil, sized(1536), false), false, 2},
		// "An update is charged on the larger of the item before and after it."
		{"update 3 KB to 0.5 KB", table.Write(sized(3072), sized(512), false), false, 3},
		{"delete a 9 KB item", table.Write(sized(9*1024), nil, false), false, 9},
		// "A read of up to 4 KB is one unit strongly consistent, half eventually."
		{"get 3.5 KB, strongly consistent", table.Read([]Item{sized(3584)}, true, ""), true, 1},
		{"get 3.5 KB, eventually consistent", table.Read([]Item{sized(3584)}, false, ""), true, 0.5},
		{"get 4 KB and a byte", table.Read([]Item{sized(4097)}, true, ""), true, 2},
		// "An item of 9 KB is read as 12 KB: 3 units, or 1.5."
		{"get 9 KB", table.Read([]Item{sized(9 * 1024)}, true, ""), true, 3},
		{"get 9 KB, eventually consistent", table.Read([]Item{sized(9 * 1024)}, false, ""), true, 1.5},
		{"get of nothing still costs a unit", table.Read(nil, true, ""), true, 1},
		// "A Query rounds the total of what it returns, not each item": ten items of 1.5 KB
		// are 15 KB, read as 16 KB.
		{"query 10 × 1.5 KB", table.Read(slices.Repeat([]Item{sized(1536)}, 10), true, ""), true, 4},
		// "Transactional writes cost two units per KB" on the table.
		{"transactional put of 1 KB", table.Write(nil, sized(1024), true), false, 2},
		{"transactional update of 5 KB", table.Write(sized(5*1024), sized(5*1024), true), false, 10},
	}
	for _, c := range cases {
		got := c.got.Write()
		if c.read {
			got = c.got.Read()
		}
		if got != c.want {
			t.Errorf("%s: %v units, want %v", c.name, got, c.want)
		}
	}
}

func TestCalculatorPricesIndexWrites(t *testing.T) {
	s := Schema{Keys: []string{"pk"}, Indexes: []Index{
		{Name: "byOwner", Keys: []string{"owner"}, Projection: types.ProjectionTypeInclude, Include: []string{"status"}},
		{Name: "all", Keys: []string{"owner"}, Projection: types.ProjectionTypeAll},
		{Name: "keys", Keys: []string{"owner"}, Projection: types.ProjectionTypeKeysOnly},
	}}
	big := strings.Repeat("y", 2000)
	cases := []struct {
		name          string
		before, after Item
		want          map[string]float64
	}{
		{"an item without the index key is in no index", nil, Item{"pk": str("a")}, map[string]float64{}},
		{"a new item with the key: a put in each", nil, Item{"pk": str("a"), "owner": str("o")},
			map[string]float64{"byOwner": 1, "all": 1, "keys": 1}},
		{"a projected attribute changes: an update where it is projected", Item{"pk": str("a"), "owner": str("o"), "status": str("x")}, Item{"pk": str("a"), "owner": str("o"), "status": str("y")},
			map[string]float64{"byOwner": 1, "all": 1}},
		{"an attribute no index projects but ALL: only that one", Item{"pk": str("a"), "owner": str("o"), "note": str("x")}, Item{"pk": str("a"), "owner": str("o"), "note": str("y")},
			map[string]float64{"all": 1}},
		{"the index key changes: a delete and a put", Item{"pk": str("a"), "owner": str("o")}, Item{"pk": str("a"), "owner": str("p")},
			map[string]float64{"byOwner": 2, "all": 2, "keys": 2}},
		{"the index key removed: a delete", Item{"pk": str("a"), "owner": str("o")}, Item{"pk": str("a")},
			map[string]float64{"byOwner": 1, "all": 1, "keys": 1}},
		{"index entries are sized on what they hold", Item{"pk": str("a"), "owner": str("o"), "status": str("x"), "big": str(big)}, Item{"pk": str("a"), "owner": str("o"), "status": str("y"), "big": str(big)},
			map[string]float64{"byOwner": 1, "all": 2}},
	}
	for _, c := range cases {
		for _, tx := range []bool{false, true} {
			u := s.Write(c.before, c.after, tx)
			if len(u.IndexWrite) != len(c.want) {
				t.Errorf("%s: %v, want %v", c.name, u.IndexWrite, c.want)
			}
			for k, v := range c.want {
				// A transaction's index writes are billed as outside one.
				if u.IndexWrite[k] != v {
					t.Errorf("%s (transactional %v): %s %v, want %v", c.name, tx, k, u.IndexWrite[k], v)
				}
			}
		}
	}
}
