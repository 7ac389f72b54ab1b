package eventbus

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/lifecycle-api/lifecycle/shared/metrics"
)

// FnPublishEvents is the name of the function that runs the Publisher, as in
// functions/<name> and template.yaml.
const FnPublishEvents = "publish-events"

// MaxEntries is the most entries one PutEvents call takes.
const MaxEntries = 10

// PutEventsAPI is the part of the EventBridge client the publisher uses.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Publisher turns a batch of stream records into events on the bus.
type Publisher struct {
	api    PutEventsAPI
	bus    string
	logger *slog.Logger
	emf    metrics.EMF
}

// NewPublisher returns a publisher to bus.
func NewPublisher(api PutEventsAPI, bus string, logger *slog.Logger) *Publisher {
	return &Publisher{api: api, bus: bus, logger: logger, emf: metrics.NewEMF([]string{"function"},
		metrics.Metric{Name: "records", Unit: "Count"}, metrics.Metric{Name: "eventsPublished", Unit: "Count"},
		metrics.Metric{Name: "failedRecords", Unit: "Count"})}
}

type pending struct {
	entry Entry
	seq   string
}

// Handle publishes the events of a batch of stream records, in order, in PutEvents calls
// of at most ten entries. It stops at the first record it cannot publish (a record it
// cannot read, an entry EventBridge rejects, a failed call) and reports that record as
// the batch's failure: the stream then retries from it, so nothing after it is skipped
// and nothing is lost. Entries already accepted may be published again on that retry,
// with the same event id (delivery is at least once).
func (p *Publisher) Handle(ctx context.Context, ev events.DynamoDBEvent) (resp events.DynamoDBEventResponse, err error) {
	published := 0
	defer func() {
		// One EMF line per batch: records read, events published, records failed.
		p.logger.Info("batch",
			"records", len(ev.Records), "eventsPublished", published, "failedRecords", len(resp.BatchItemFailures),
			p.emf.Attr(time.Now()))
	}()
	var batch []pending
	for _, rec := range ev.Records {
		seq := rec.Change.SequenceNumber
		e, ok, err := Derive(rec)
		if err != nil {
			if failed := p.flush(ctx, batch); failed != "" {
				return failure(failed), nil
			}
			p.logger.Error("cannot derive an event from a stream record", "sequenceNumber", seq, "eventId", rec.EventID, "err", err)
			return failure(seq), nil
		}
		if !ok {
			continue
		}
		batch = append(batch, pending{entry: e, seq: seq})
		if len(batch) == MaxEntries {
			if failed := p.flush(ctx, batch); failed != "" {
				return failure(failed), nil
			}
			published += len(batch)
			batch = batch[:0]
		}
	}
	if failed := p.flush(ctx, batch); failed != "" {
		return failure(failed), nil
	}
	published += len(batch)
	return events.DynamoDBEventResponse{}, nil
}

// flush sends batch in one PutEvents call and returns the sequence number of the first
// record not published ("" when all were).
func (p *Publisher) flush(ctx context.Context, batch []pending) string {
	if len(batch) == 0 {
		return ""
	}
	in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(batch))}
	for i, b := range batch {
		in.Entries[i] = types.PutEventsRequestEntry{
			EventBusName: aws.String(p.bus),
			Source:       aws.String(b.entry.Source),
			DetailType:   aws.String(b.entry.DetailType),
			Detail:       aws.String(string(b.entry.Detail)),
			Time:         aws.Time(b.entry.Time),
		}
	}
	out, err := p.api.PutEvents(ctx, in)
	if err != nil {
		p.logger.Error("PutEvents failed", "entries", len(batch), "firstSequenceNumber", batch[0].seq, "err", err)
		return batch[0].seq
	}
	first := ""
	for i, r := range out.Entries {
		if i >= len(batch) {
			break
		}
		if r.ErrorCode != nil {
			p.logger.Error("EventBridge rejected an event", "eventId", batch[i].entry.EventID, "detailType", batch[i].entry.DetailType,
				"sequenceNumber", batch[i].seq, "errorCode", aws.ToString(r.ErrorCode), "errorMessage", aws.ToString(r.ErrorMessage))
			if first == "" {
				first = batch[i].seq
			}
			continue
		}
		p.logger.Info("event published", "eventId", batch[i].entry.EventID, "detailType", batch[i].entry.DetailType,
			"entityId", batch[i].entry.EntityID, "sequenceNumber", batch[i].seq)
	}
	if first == "" && (out.FailedEntryCount > 0 || len(out.Entries) < len(batch)) {
		// The counts disagree with the entries: trust neither, retry the whole call.
		p.logger.Error("PutEvents reported failures it did not attribute", "failed", out.FailedEntryCount, "entries", len(out.Entries))
		return batch[0].seq
	}
	return first
}

func failure(seq string) events.DynamoDBEventResponse {
	return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: seq}}}
}
