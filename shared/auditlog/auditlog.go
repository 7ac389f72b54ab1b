// Package auditlog is the example event consumer: it records every lifecycle event it
// receives from its SQS queue in an audit table, once per event id however often the
// event is delivered.
package auditlog

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lifecycle-api/lifecycle/shared/event"
)

// FnAuditLog is the name of the function that runs Handler, as in functions/<name> and
// template.yaml.
const FnAuditLog = "audit-log"

// Record is one audit entry.
type Record struct {
	EventID       string
	DetailType    string
	Source        string
	EntityID      string
	OccurredAt    time.Time
	ReceivedAt    time.Time
	CorrelationID string
	ActorSub      string
	Detail        []byte
}

// Store writes a record unless one with its event id exists; inserted is false for a
// duplicate.
type Store interface {
	Put(ctx context.Context, r Record) (inserted bool, err error)
}

// Handler returns the SQS handler. A message that cannot be decoded or stored is
// reported as a batch item failure: SQS redelivers it, and after the queue's
// maxReceiveCount moves it to the dead-letter queue. Duplicates are acknowledged.
func Handler(logger *slog.Logger, store Store, now func() time.Time) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, msg := range ev.Records {
			log := logger.With("messageId", msg.MessageId)
			env, detail, err := event.DecodeEnvelope([]byte(msg.Body))
			if err != nil {
				log.Error("cannot decode event", "err", err)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
				continue
			}
			r := Record{DetailType: env.DetailType, Source: env.Source, ReceivedAt: now(), Detail: env.Detail}
			var t event.Transition
			switch d := detail.(type) {
			case *event.Interview:
				t, r.EntityID = d.Transition, d.SessionID
			case *event.Job:
				t, r.EntityID = d.Transition, d.JobID
			}
			r.EventID, r.OccurredAt, r.CorrelationID, r.ActorSub = t.EventID, t.OccurredAt.Time, t.CorrelationID, t.Actor.Sub
			log = log.With("eventId", r.EventID, "detailType", r.DetailType, "entityId", r.EntityID)
			if r.EventID == "" {
				log.Error("event without an eventId")
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
				continue
			}
			inserted, err := store.Put(ctx, r)
			if err != nil {
				log.Error("cannot record event", "err", err)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
				continue
			}
			if inserted {
				log.Info("event recorded")
			} else {
				log.Info("duplicate event ignored")
			}
		}
		return resp, nil
	}
}
