package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/auditlog"
)

// PutItemAPI is the part of the DynamoDB client the audit log uses.
type PutItemAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// AuditLog is the audit table: one item per event id.
type AuditLog struct {
	db    PutItemAPI
	table string
}

// NewAuditLog returns the audit log on table.
func NewAuditLog(db PutItemAPI, table string) *AuditLog { return &AuditLog{db: db, table: table} }

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
