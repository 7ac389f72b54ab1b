package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// RequestWindow is how long a request is remembered once it has applied: a retry with its
// Idempotency-Key within this time is answered with its outcome and never applied again,
// however many other requests transition the entity in between (docs/api.md, "Safe
// retries").
const RequestWindow = 24 * time.Hour

// A request that transitions an entity leaves a record of itself beside the entity, in
// the entity's partition (sk REQUEST#<key id>), written in the same transaction as the
// transition and guarded by the record's absence. So a request applies at most once while
// its record lives, and a retry that finds it knows its request applied. The record holds
// the whole request's id (attr.Request, appliedID: key and fingerprint, to tell a reuse of
// the key for another request) and when it applied (attr.AppliedAt), and expires
// RequestWindow after it was written: DynamoDB's TTL deletes it (attr.ExpiresAt), and until
// then an expired record counts as absent.
const skRequest = "REQUEST#"

// requestRecordKey is the key of idem's record beside the entity whose partition key is pk.
func requestRecordKey(pk types.AttributeValue, idem lifecycle.Idempotency) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attr.PK: pk, attr.SK: sAV(skRequest + shortHash(idem.Key))}
}

// requestPut is a transaction's put of idem's record beside the entity pk: the request
// made version of it at now. It fails, returning the record that is there, unless no
// unexpired record of the key is.
func requestPut(table string, pk types.AttributeValue, idem lifecycle.Idempotency, version int64, now time.Time) types.TransactWriteItem {
	item := requestRecordKey(pk, idem)
	item[attr.Type] = sAV(attr.TypeRequest)
	item[attr.Request] = sAV(appliedID(idem))
	item[attr.Version] = iAV(version)
	item[attr.AppliedAt] = sAV(lifecycle.FormatTime(now))
	item[attr.ExpiresAt] = iAV(now.Add(RequestWindow).Unix())
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(#pk) OR #expiresAt <= :now"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attr.PK, "#expiresAt": attr.ExpiresAt,
		},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": iAV(now.Unix())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// remembered reports whether rec, a request record as stored (nil when there is none),
// says idem's request has applied, at now. The key's record of another request is
// lifecycle.ErrIdempotencyKeyReused; an expired record says nothing.
func remembered(rec map[string]types.AttributeValue, idem lifecycle.Idempotency, now time.Time) (bool, error) {
	if idem.Key == "" || len(rec) == 0 {
		return false, nil
	}
	it := &item{m: rec}
	if expires := it.int(attr.ExpiresAt); it.err != nil || expires <= now.Unix() {
		return false, nil
	}
	if it.str(attr.Request) != appliedID(idem) {
		return false, lifecycle.ErrIdempotencyKeyReused
	}
	return true, nil
}

// lookUpRequest reads idem's record beside the entity pk, strongly consistent, and says
// whether it remembers the request at now.
func lookUpRequest(ctx context.Context, db API, table string, pk types.AttributeValue, idem lifecycle.Idempotency, now time.Time) (bool, error) {
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            requestRecordKey(pk, idem),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, storeError("read request record", err)
	}
	return remembered(out.Item, idem, now)
}

// canceled is what a cancelled transition transaction means: the request had already
// applied (replay), an error to answer, or neither: another request changed the entity
// between the read and the write (a race), so the caller reads again and decides afresh.
type canceled struct {
	replay bool
	err    error
}

// explainCanceled reads a transition transaction's cancellation reasons, the request's
// record being its last item. A record that is there says the request applied before (or
// the key was used for another request); else a failed guard on the entity, or a conflict
// with another transaction, is a race; throttling is lifecycle.ErrUnavailable.
func explainCanceled(e *types.TransactionCanceledException, idem lifecycle.Idempotency, now time.Time) canceled {
	reasons := e.CancellationReasons
	if n := len(reasons); n > 0 && aws.ToString(reasons[n-1].Code) == "ConditionalCheckFailed" {
		ok, err := remembered(reasons[n-1].Item, idem, now)
		if ok || err != nil {
			return canceled{replay: ok, err: err}
		}
	}
	var codes []string
	race := false
	for _, r := range reasons {
		code := aws.ToString(r.Code)
		codes = append(codes, code)
		switch code {
		case "None", "":
		case "ConditionalCheckFailed", "TransactionConflict":
			race = true
		case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			return canceled{err: fmt.Errorf("transition: %w: %v", lifecycle.ErrUnavailable, codes)}
		default:
			return canceled{err: fmt.Errorf("transition: transaction cancelled: %v: %w", codes, e)}
		}
	}
	if !race {
		return canceled{err: fmt.Errorf("transition: transaction cancelled: %v: %w", codes, e)}
	}
	return canceled{}
}

// created is what putNew found: whether the request had applied before (its record is
// there: a replay), or, when the put met an item under the key and no record of the
// request, that item (ALL_OLD).
type created struct {
	replay   bool
	existing map[string]types.AttributeValue
}

// putNew writes item, a new entity recording the create's action, actor and correlation
// id, in one transaction with the request's record (version 1): the put is guarded by there
// being no item under its key, so a create never overwrites one. what names the entity in
// errors ("create job").
func putNew(ctx context.Context, db API, table, token string, item map[string]types.AttributeValue, req createRequest, now time.Time, what string) (created, error) {
	item[attr.LastAction] = sAV(req.action)
	item[attr.Actor] = actorAV(req.actor)
	if req.correlationID != "" {
		item[attr.CorrelationID] = sAV(req.correlationID)
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		ClientRequestToken: aws.String(token),
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName:                           aws.String(table),
				Item:                                item,
				ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
				ExpressionAttributeNames:            map[string]string{"#pk": attr.PK},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			requestPut(table, item[attr.PK], req.idem, 1, now),
		},
	})
	if err == nil {
		return created{}, nil
	}
	canceled, ok := errors.AsType[*types.TransactionCanceledException](err)
	if !ok {
		return created{}, storeError(what, err)
	}
	why := explainCanceled(canceled, req.idem, now)
	switch {
	case why.err != nil:
		return created{}, why.err
	case why.replay:
		return created{replay: true}, nil
	}
	if r := canceled.CancellationReasons; len(r) > 0 && len(r[0].Item) > 0 {
		return created{existing: r[0].Item}, nil
	}
	return created{}, fmt.Errorf("%s: the transaction was cancelled, and not by the put or a replay: %w", what, lifecycle.ErrConflict)
}

// createRequest is what a create records beside its entity.
type createRequest struct {
	action        string
	actor         lifecycle.Actor
	correlationID string
	idem          lifecycle.Idempotency
}
