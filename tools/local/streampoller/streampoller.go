// Package streampoller reads a local table's stream (moto's DynamoDB Streams) and invokes a stream handler
// the way Lambda's event source mapping does in AWS: batches in order per shard, a
// reported batch item failure retries the batch from that record, and a record that
// keeps failing is handed to the on-failure destination after MaxRetries, so the shard
// moves on. `make run` and the integration tests drive the publisher with it.
package streampoller

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Handler is a Lambda handler for DynamoDB stream events with partial batch responses.
type Handler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Poller polls one stream.
type Poller struct {
	Streams    *dynamodbstreams.Client
	StreamARN  string
	Handler    Handler
	BatchSize  int32
	MaxRetries int
	// OnFailure receives the records given up on (the template's on-failure queue).
	OnFailure func(ctx context.Context, records []events.DynamoDBEventRecord)
	Logger    *slog.Logger

	shards map[string]*shard
}

type shard struct {
	iterator *string
	// resumeAt, when set, is the sequence number the next batch must start at (a retry).
	resumeAt string
	attempts int
	done     bool
}

// Poll handles every record available now, on every shard, and returns how many records
// were handed to the handler and acknowledged. Failed batches are retried within the call
// up to MaxRetries.
func (p *Poller) Poll(ctx context.Context) (int, error) {
	if p.shards == nil {
		p.shards = map[string]*shard{}
	}
	desc, err := p.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.StreamARN)})
	if err != nil {
		return 0, err
	}
	acked := 0
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		st := p.shards[id]
		if st == nil {
			st = &shard{}
			p.shards[id] = st
		}
		for !st.done {
			n, more, err := p.step(ctx, id, st)
			acked += n
			if err != nil {
				return acked, err
			}
			if !more {
				break
			}
		}
	}
	return acked, nil
}

// Run polls every interval until ctx ends.
func (p *Poller) Run(ctx context.Context, interval time.Duration) {
	for {
		if _, err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			p.Logger.Error("stream poll failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// step handles one batch of a shard; more reports whether to read on at once.
func (p *Poller) step(ctx context.Context, shardID string, st *shard) (acked int, more bool, err error) {
	if st.iterator == nil || st.resumeAt != "" {
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.StreamARN), ShardId: aws.String(shardID), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
		if st.resumeAt != "" {
			in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAtSequenceNumber, aws.String(st.resumeAt)
		}
		it, err := p.Streams.GetShardIterator(ctx, in)
		if err != nil {
			return 0, false, err
		}
		st.iterator = it.ShardIterator
	}
	out, err := p.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: st.iterator, Limit: aws.Int32(p.BatchSize)})
	if err != nil {
		return 0, false, err
	}
	if out.NextShardIterator == nil {
		st.done = true
	}
	if len(out.Records) == 0 {
		st.iterator = out.NextShardIterator
		return 0, false, nil
	}
	batch := make([]events.DynamoDBEventRecord, len(out.Records))
	for i, r := range out.Records {
		batch[i] = convertRecord(p.StreamARN, r)
	}
	resp, herr := p.Handler(ctx, events.DynamoDBEvent{Records: batch})
	failedAt := -1
	if herr != nil {
		failedAt = 0
		p.Logger.Warn("stream handler returned an error", "err", herr)
	}
	for _, f := range resp.BatchItemFailures {
		i := slices.IndexFunc(batch, func(r events.DynamoDBEventRecord) bool { return r.Change.SequenceNumber == f.ItemIdentifier })
		if i < 0 {
			i = 0 // an unknown identifier fails the whole batch, as in Lambda
		}
		if failedAt < 0 || i < failedAt {
			failedAt = i
		}
	}
	if failedAt < 0 {
		st.iterator, st.resumeAt, st.attempts = out.NextShardIterator, "", 0
		return len(batch), true, nil
	}
	st.attempts++
	if st.attempts > p.MaxRetries {
		p.Logger.Error("giving up on stream records after retries", "shard", shardID, "records", len(batch)-failedAt, "firstSequenceNumber", batch[failedAt].Change.SequenceNumber)
		if p.OnFailure != nil {
			p.OnFailure(ctx, batch[failedAt:])
		}
		st.iterator, st.resumeAt, st.attempts = out.NextShardIterator, "", 0
		return failedAt, true, nil
	}
	st.resumeAt = batch[failedAt].Change.SequenceNumber
	return failedAt, false, nil
}

func convertRecord(arn string, r types.Record) events.DynamoDBEventRecord {
	out := events.DynamoDBEventRecord{
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: arn,
	}
	if d := r.Dynamodb; d != nil {
		out.Change = events.DynamoDBStreamRecord{
			Keys:           convertMap(d.Keys),
			NewImage:       convertMap(d.NewImage),
			OldImage:       convertMap(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return out
}

func convertMap(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = convert(v)
	}
	return out
}

func convert(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(x.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(x.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(x.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(x.Value)
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(x.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(x.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(x.Value)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = convert(e)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(convertMap(x.Value))
	default:
		// Every DynamoDB type is handled above; an unknown one reads as NULL.
		return events.NewNullAttribute()
	}
}
