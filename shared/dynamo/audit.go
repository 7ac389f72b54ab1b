package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/auditlog"
)

// PutItemAPI is the part of the DynamoDB client the audit log uses.
type PutItemAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// AuditExpiresAt is the audit table's time-to-live attribute (template.yaml's
// TimeToLiveSpecification): epoch seconds after which DynamoDB deletes the record.
const AuditExpiresAt = "expiresAt"

// AuditLog is the audit table: one item per event id.
type AuditLog struct {
	db        PutItemAPI
	table     string
	retention time.Duration
}

// NewAuditLog returns the audit log on table. With a retention, each record expires that
// long after its event occurred (DynamoDB's TTL deletes it within days after); 0 keeps
// records for ever.
func NewAuditLog(db PutItemAPI, table string, retention time.Duration) *AuditLog {
	return &AuditLog{db: db, table: table, retention: retention}
}

// CreateAuditTableInput describes the audit table for local use and tests; template.yaml
// declares the same.
func CreateAuditTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("eventId"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("eventId"), KeyType: types.KeyTypeHash}},
	}
}

// Put writes r with a condition that no item has its event id: one request, idempotent.
func (a *AuditLog) Put(ctx context.Context, r auditlog.Record) (bool, error) {
	w := itemWriter{}
	w["eventId"] = sAV(r.EventID)
	w["detailType"] = sAV(r.DetailType)
	w["source"] = sAV(r.Source)
	w.str("entityId", r.EntityID)
	w.time("occurredAt", r.OccurredAt)
	w.time("receivedAt", r.ReceivedAt)
	w.str("correlationId", r.CorrelationID)
	w.str("actorSub", r.ActorSub)
	w["detail"] = sAV(string(r.Detail))
	if a.retention > 0 {
		from := r.OccurredAt
		if from.IsZero() {
			from = r.ReceivedAt
		}
		w[AuditExpiresAt] = iAV(from.Add(a.retention).Unix())
	}
	_, err := a.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(a.table),
		Item:                w,
		ConditionExpression: aws.String("attribute_not_exists(eventId)"),
	})
	if err != nil {
		if _, dup := errors.AsType[*types.ConditionalCheckFailedException](err); dup {
			return false, nil
		}
		return false, storeError("put audit record", err)
	}
	return true, nil
}
