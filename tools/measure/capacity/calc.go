package capacity

import (
	"maps"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The calculator: what DynamoDB charges for a request, by its documented rules, from the
// items as they were before and after it. The local emulator (moto) reports a constant
// instead, so `make bench` and the bounded-item test compute what DynamoDB would bill.
//
//   - A write costs 1 unit per started KB of the item, the larger of its size before and
//     after; a read 1 unit per started 4 KB, half for an eventually consistent one; a Query
//     or a Scan rounds the total of the items it returns, not each one.
//     https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
//   - A global secondary index holds, of an item that has its key attributes, those, the
//     table's keys and what the index projects. A write to the table costs the index
//     nothing when the item is in it neither before nor after, or when its entry does not
//     change; a put or a delete when it enters or leaves; an update when its projected
//     attributes change; and a delete and a put when its index key changes. Each is sized
//     on the entry, not the item.
//     https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations
//   - A transaction's table writes are billed twice (a prepare and a commit); its index
//     writes as outside one; a transactional read twice.
//     https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html

// Item is an item's attributes; nil when there is none.
type Item = map[string]types.AttributeValue

// Index is a global secondary index as the calculator needs it.
type Index struct {
	Name string
	// Keys are the index's key attributes (partition, then sort).
	Keys []string
	// Projection is ALL, KEYS_ONLY or INCLUDE (with Include).
	Projection types.ProjectionType
	Include    []string
}

// Schema is a table's keys and indexes.
type Schema struct {
	Keys    []string
	Indexes []Index
}

// SchemaOf reads a table's schema from its CreateTableInput.
func SchemaOf(in *dynamodb.CreateTableInput) Schema {
	var s Schema
	for _, k := range in.KeySchema {
		s.Keys = append(s.Keys, aws.ToString(k.AttributeName))
	}
	for _, g := range in.GlobalSecondaryIndexes {
		ix := Index{Name: aws.ToString(g.IndexName)}
		for _, k := range g.KeySchema {
			ix.Keys = append(ix.Keys, aws.ToString(k.AttributeName))
		}
		if p := g.Projection; p != nil {
			ix.Projection, ix.Include = p.ProjectionType, p.NonKeyAttributes
		}
		s.Indexes = append(s.Indexes, ix)
	}
	return s
}

// WriteUnitsOf is the write units of a write of an item of size bytes: 1 per started KB,
// at least 1.
func WriteUnitsOf(size int) float64 { return unitsOf(size, 1024) }

// ReadUnitsOf is the read units of reading size bytes: 1 per started 4 KB, at least 1,
// halved when eventually consistent.
func ReadUnitsOf(size int, consistent bool) float64 {
	u := unitsOf(size, 4096)
	if !consistent {
		u /= 2
	}
	return u
}

// unitsOf is how many units of per bytes size takes, at least one.
func unitsOf(size, per int) float64 { return float64(max(1, (size+per-1)/per)) }

// entry is what idx holds of item: nil when the item lacks one of its key attributes.
func (s Schema) entry(idx Index, item Item) Item {
	if item == nil {
		return nil
	}
	for _, k := range idx.Keys {
		if _, ok := item[k]; !ok {
			return nil
		}
	}
	if idx.Projection == types.ProjectionTypeAll {
		return item
	}
	e := Item{}
	for _, k := range append(append(append([]string{}, s.Keys...), idx.Keys...), idx.Include...) {
		if v, ok := item[k]; ok {
			e[k] = v
		}
	}
	return e
}

// Write is what one write of an item costs, from the item before it and after it (nil for
// none): a put of a new item, an update, a delete. transactional doubles the table's
// units.
func (s Schema) Write(before, after Item, transactional bool) Units {
	u := Units{IndexWrite: map[string]float64{}, IndexRead: map[string]float64{}, Requests: 1}
	u.TableWrite = WriteUnitsOf(max(ItemSize(before), ItemSize(after)))
	if transactional {
		u.TransactionWrite = u.TableWrite
		u.TableWrite *= 2
	}
	for _, idx := range s.Indexes {
		old, nw := s.entry(idx, before), s.entry(idx, after)
		var w float64
		switch {
		case old == nil && nw == nil:
		case old == nil:
			w = WriteUnitsOf(ItemSize(nw))
		case nw == nil:
			w = WriteUnitsOf(ItemSize(old))
		case !sameValues(old, nw, idx.Keys):
			w = WriteUnitsOf(ItemSize(old)) + WriteUnitsOf(ItemSize(nw))
		case !maps.EqualFunc(old, nw, sameValue):
			w = WriteUnitsOf(max(ItemSize(old), ItemSize(nw)))
		}
		if w > 0 {
			u.IndexWrite[idx.Name] = w
		}
	}
	return u
}

// Read is what reading items costs: a GetItem of one (nil for none: still a unit), or a
// Query or Scan returning them, on the table or (index not "") one of its indexes.
func (s Schema) Read(items []Item, consistent bool, index string) Units {
	size := 0
	for _, it := range items {
		size += ItemSize(it)
	}
	u := Units{IndexWrite: map[string]float64{}, IndexRead: map[string]float64{}, Requests: 1}
	r := ReadUnitsOf(size, consistent)
	if index == "" {
		u.TableRead = r
	} else {
		u.IndexRead[index] = r
	}
	return u
}

func sameValues(a, b Item, keys []string) bool {
	for _, k := range keys {
		if !sameValue(a[k], b[k]) {
			return false
		}
	}
	return true
}

func sameValue(a, b types.AttributeValue) bool { return reflect.DeepEqual(a, b) }

// Add is u and v together.
func (u Units) Add(v Units) Units {
	out := Units{
		TableWrite: u.TableWrite + v.TableWrite, TableRead: u.TableRead + v.TableRead,
		TransactionWrite: u.TransactionWrite + v.TransactionWrite, Requests: u.Requests + v.Requests,
		IndexWrite: map[string]float64{}, IndexRead: map[string]float64{},
	}
	for _, m := range []Units{u, v} {
		for k, x := range m.IndexWrite {
			out.IndexWrite[k] += x
		}
		for k, x := range m.IndexRead {
			out.IndexRead[k] += x
		}
	}
	return out
}

// Scale is u with every figure but Requests multiplied by f (f = 1/n: the mean of n calls).
func (u Units) Scale(f float64) Units {
	out := u.Add(Units{}) // a copy: Add builds new index maps
	out.TableWrite *= f
	out.TableRead *= f
	out.TransactionWrite *= f
	for _, m := range []map[string]float64{out.IndexWrite, out.IndexRead} {
		for k := range m {
			m[k] *= f
		}
	}
	return out
}
