// Package capacity measures what DynamoDB charges for a request: a Meter is a middleware on
// a DynamoDB client that asks every request for its consumed capacity
// (ReturnConsumedCapacity: INDEXES) and adds up the read and write units DynamoDB reports,
// for the table and for each index. ItemSize computes an item's size by DynamoDB's rules,
// the size its units are charged on. `make bench` and the bounded-item test use both.
package capacity

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Units are the capacity units some requests consumed.
type Units struct {
	// TableWrite and TableRead are the units charged on the table itself.
	TableWrite, TableRead float64
	// IndexWrite and IndexRead are the units charged on each global secondary index, by name.
	IndexWrite, IndexRead map[string]float64
	// TransactionWrite is the part of the write units that transactions consumed, as
	// reported. DynamoDB bills a transactional write twice (prepare and commit); DynamoDB
	// Local reports it once.
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

// add counts what one request consumed. DynamoDB may report only CapacityUnits, without
// the read and write split (DynamoDB Local does, and so does DynamoDB for most on-demand
// operations); then write says which they are, from the operation.
func (u *Units) add(c types.ConsumedCapacity, write, transaction bool) {
	u.Requests++
	before := u.Write()
	if u.IndexWrite == nil {
		u.IndexWrite, u.IndexRead = map[string]float64{}, map[string]float64{}
	}
	if t := c.Table; t != nil {
		w, r := split(*t, write)
		u.TableWrite += w
		u.TableRead += r
	}
	for name, idx := range c.GlobalSecondaryIndexes {
		w, r := split(idx, write)
		u.IndexWrite[name] += w
		u.IndexRead[name] += r
	}
	if transaction {
		u.TransactionWrite += u.Write() - before
	}
}

// split returns the write and read units of c.
func split(c types.Capacity, write bool) (w, r float64) {
	if c.WriteCapacityUnits != nil || c.ReadCapacityUnits != nil {
		return aws.ToFloat64(c.WriteCapacityUnits), aws.ToFloat64(c.ReadCapacityUnits)
	}
	if write {
		return aws.ToFloat64(c.CapacityUnits), 0
	}
	return 0, aws.ToFloat64(c.CapacityUnits)
}

// Meter adds up the units its client's requests consumed. Its zero value is ready.
type Meter struct {
	mu    sync.Mutex
	units Units
}

// Take returns the units consumed since the last Take and starts again from zero.
func (m *Meter) Take() Units {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.units
	u.IndexWrite, u.IndexRead = maps.Clone(u.IndexWrite), maps.Clone(u.IndexRead)
	m.units = Units{}
	return u
}

// Option installs the meter on a DynamoDB client: every request asks for its consumed
// capacity by index, and what comes back is added up. A request that fails (a refused
// condition, a throttle) reports none and adds nothing.
func (m *Meter) Option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("consumedCapacity",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ask(in.Parameters)
				out, md, err := next.HandleInitialize(ctx, in)
				if err == nil {
					m.record(out.Result)
				}
				return out, md, err
			}), middleware.Before)
	})
}

// ask sets ReturnConsumedCapacity: INDEXES on the operations the stores use.
func ask(params any) {
	const idx = types.ReturnConsumedCapacityIndexes
	switch in := params.(type) {
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = idx
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = idx
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = idx
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = idx
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = idx
	}
}

func (m *Meter) record(result any) {
	var cs []types.ConsumedCapacity
	write, transaction := true, false
	switch out := result.(type) {
	case *dynamodb.UpdateItemOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.TransactWriteItemsOutput:
		cs, transaction = out.ConsumedCapacity, true
	case *dynamodb.GetItemOutput:
		cs, write = one(out.ConsumedCapacity), false
	case *dynamodb.QueryOutput:
		cs, write = one(out.ConsumedCapacity), false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range cs {
		m.units.add(c, write, transaction)
	}
}

func one(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}
