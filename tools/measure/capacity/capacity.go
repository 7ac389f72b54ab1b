// Package capacity computes what DynamoDB charges for a request, by its documented rules
// (calc.go): the local emulator does not report it. A Meter prices a client's requests;
// ItemSize is an item's size by DynamoDB's rules, the size its units are charged on.
// `make bench` and the bounded-item test use both.
package capacity

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Units are the capacity units some requests consumed.
type Units struct {
	// TableWrite and TableRead are the units charged on the table itself.
	TableWrite, TableRead float64
	// IndexWrite and IndexRead are the units charged on each global secondary index, by name.
	IndexWrite, IndexRead map[string]float64
	// TransactionWrite is the part of TableWrite that is a transaction's second billing
	// (DynamoDB bills a transaction's table writes twice: prepare and commit).
	TransactionWrite float64
	// Requests is how many requests reported consumed capacity.
	Requests int
}

// Write is every write unit: the table's and every index's.
func (u Units) Write() float64 { return u.TableWrite + sum(u.IndexWrite) }

// Read is every read unit: the table's and every index's.
func (u Units) Read() float64 { return u.TableRead + sum(u.IndexRead) }

// IndexWrites is the write units of every index together.
func (u Units) IndexWrites() float64 { return sum(u.IndexWrite) }

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

// Meter adds up what its client's requests would cost on DynamoDB, computed by the
// calculator (calc.go) from the items as they were before and after each write, and from
// the items each read returned. It reads the written items itself, before and after the
// write, through Reader (a client without the meter), so it is meant for requests made one
// at a time: a measurement, not a load. A request that fails adds nothing.
type Meter struct {
	mu sync.Mutex
	// on prices the requests; nil while the meter is off.
	on    *pricer
	units Units
}

// On starts pricing requests: reader (a client without the meter) reads the items a write
// touches; schemas give the tables' keys and indexes, by name. Until On, and after Off,
// the meter lets requests through untouched, so it costs nothing where it is installed
// but not measuring (make bench's latency runs).
func (m *Meter) On(reader *dynamodb.Client, schemas map[string]Schema) {
	m.set(&pricer{reader, schemas})
}

// Off stops pricing requests.
func (m *Meter) Off() { m.set(nil) }

func (m *Meter) set(p *pricer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.on = p
}

// Take returns the units consumed since the last Take and starts again from zero.
func (m *Meter) Take() Units {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.units
	m.units = Units{}
	return u
}

// Option installs the meter on a DynamoDB client.
func (m *Meter) Option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("capacityCalculator",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				m.mu.Lock()
				p := m.on
				m.mu.Unlock()
				if p == nil {
					return next.HandleInitialize(ctx, in)
				}
				writes := p.writes(in.Parameters)
				for i := range writes {
					writes[i].before = p.read(ctx, writes[i].table, writes[i].key)
				}
				out, md, err := next.HandleInitialize(ctx, in)
				if err != nil {
					return out, md, err
				}
				var u Units
				for _, w := range writes {
					u = u.Add(p.schemas[w.table].Write(w.before, p.read(ctx, w.table, w.key), w.transactional))
				}
				if len(writes) > 0 {
					u.Requests = 1
				} else if r, ok := p.reads(in.Parameters, out.Result); ok {
					u = r
				}
				m.mu.Lock()
				m.units = m.units.Add(u)
				m.mu.Unlock()
				return out, md, err
			}), middleware.Before)
	})
}

// written is one item a write touches.
type written struct {
	table         string
	key           Item
	transactional bool
	before        Item
}

// pricer prices requests for a meter that is on.
type pricer struct {
	// reader reads the items a write touches.
	reader *dynamodb.Client
	// schemas are the tables' keys and indexes, by table name.
	schemas map[string]Schema
}

// keyOf is the key of item in table.
func (m pricer) keyOf(table string, item Item) Item {
	k := Item{}
	for _, a := range m.schemas[table].Keys {
		k[a] = item[a]
	}
	return k
}

// writes are the items a write request touches: none for a read.
func (m pricer) writes(params any) []written {
	switch in := params.(type) {
	case *dynamodb.UpdateItemInput:
		return []written{{table: aws.ToString(in.TableName), key: in.Key}}
	case *dynamodb.PutItemInput:
		return []written{{table: aws.ToString(in.TableName), key: m.keyOf(aws.ToString(in.TableName), in.Item)}}
	case *dynamodb.DeleteItemInput:
		return []written{{table: aws.ToString(in.TableName), key: in.Key}}
	case *dynamodb.TransactWriteItemsInput:
		var ws []written
		for _, it := range in.TransactItems {
			switch {
			case it.Update != nil:
				ws = append(ws, written{table: aws.ToString(it.Update.TableName), key: it.Update.Key, transactional: true})
			case it.Put != nil:
				ws = append(ws, written{table: aws.ToString(it.Put.TableName), key: m.keyOf(aws.ToString(it.Put.TableName), it.Put.Item), transactional: true})
			case it.Delete != nil:
				ws = append(ws, written{table: aws.ToString(it.Delete.TableName), key: it.Delete.Key, transactional: true})
			}
		}
		return ws
	}
	return nil
}

// read reads one item as it is now, strongly consistent (nil when there is none, or when
// the meter cannot read it).
func (m pricer) read(ctx context.Context, table string, key Item) Item {
	out, err := m.reader.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil
	}
	return out.Item
}

// reads prices a read request from what it returned.
func (m pricer) reads(params, result any) (Units, bool) {
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		out, ok := result.(*dynamodb.GetItemOutput)
		if !ok {
			return Units{}, false
		}
		var items []Item
		if out.Item != nil {
			items = []Item{out.Item}
		}
		return m.schemas[aws.ToString(in.TableName)].Read(items, aws.ToBool(in.ConsistentRead), ""), true
	case *dynamodb.QueryInput:
		out, ok := result.(*dynamodb.QueryOutput)
		if !ok {
			return Units{}, false
		}
		return m.schemas[aws.ToString(in.TableName)].Read(out.Items, aws.ToBool(in.ConsistentRead), aws.ToString(in.IndexName)), true
	}
	return Units{}, false
}
