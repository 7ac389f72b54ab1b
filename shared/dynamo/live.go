package dynamo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/live"
)

// The live table holds the real-time channel's tickets and open connections: short-lived
// items, apart from the lifecycle table (whose owner indexes list sessions, and whose
// stream publishes events). Each item expires by TTL on expiresAt. docs/data-model.md
// describes it.
const (
	// IndexByUser lists one caller's connections (an interview event's audience).
	IndexByUser = "byUser"
	// IndexByJobReader lists the connections of callers who may read jobs (JobCancelled's
	// audience); it is sparse: only their items carry the key.
	IndexByJobReader = "byJobReader"

	livePK          = "pk"
	liveSub         = "sub"    // a ticket's caller
	liveUserID      = "userId" // a connection's caller (byUser's key)
	liveJobReader   = "jobReader"
	liveRoles       = "roles"
	liveExpiresAt   = "expiresAt" // the table's TTL attribute: epoch seconds
	liveUntil       = "until"     // when the caller's token expires: epoch seconds
	liveIssuedAt    = "issuedAt"
	liveConnectedAt = "connectedAt"

	ticketPrefix     = "TICKET#"
	connectionPrefix = "CONN#"
	// jobReaderKey is the one value of the byJobReader index's key.
	jobReaderKey = "jobs"
	// connectionGrace is how long a connection's record outlives the connection's end (a
	// $disconnect that never came); the notifier retires it at its first event before then.
	connectionGrace = 5 * time.Minute
)

// LiveAPI is the part of the DynamoDB client the live store uses.
type LiveAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Live is the live table: tickets and connections.
type Live struct {
	db        LiveAPI
	table     string
	now       func() time.Time
	newSecret func() string
}

// NewLive returns the live store on table. newSecret makes ticket secrets
// (live.NewTicketSecret).
func NewLive(db LiveAPI, table string, now func() time.Time, newSecret func() string) *Live {
	return &Live{db: db, table: table, now: now, newSecret: newSecret}
}

// CreateLiveTableInput describes the live table for local use and tests; template.yaml
// declares the same, with TTL on expiresAt.
func CreateLiveTableInput(name string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(livePK), AttributeType: s},
			{AttributeName: aws.String(liveUserID), AttributeType: s},
			{AttributeName: aws.String(liveJobReader), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(livePK), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{
				IndexName:  aws.String(IndexByUser),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String(liveUserID), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{liveRoles, liveUntil}},
			},
			{
				IndexName:  aws.String(IndexByJobReader),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String(liveJobReader), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{liveUserID, liveRoles, liveUntil}},
			},
		},
	}
}

// LiveTTLAttribute is the live table's TTL attribute.
const LiveTTLAttribute = liveExpiresAt

// IssueTicket stores a new ticket for actor, whose token expires at until (zero: no
// expiry), and returns it.
func (l *Live) IssueTicket(ctx context.Context, actor lifecycle.Actor, until time.Time) (live.Ticket, error) {
	t := live.Ticket{Secret: l.newSecret(), ExpiresAt: l.now().Add(live.TicketTTL).Truncate(time.Second)}
	if err := l.StoreTicket(ctx, actor, until, t); err != nil {
		return live.Ticket{}, err
	}
	return t, nil
}

// StoreTicket stores ticket t of actor, keyed by its secret's hash (never the secret).
func (l *Live) StoreTicket(ctx context.Context, actor lifecycle.Actor, until time.Time, t live.Ticket) error {
	w := itemWriter{
		livePK:        sAV(ticketPrefix + live.TicketKey(t.Secret)),
		liveSub:       sAV(actor.Sub),
		liveExpiresAt: iAV(t.ExpiresAt.Unix()),
	}
	w.list(liveRoles, actor.Roles)
	w.time(liveIssuedAt, l.now())
	w.epoch(liveUntil, until)
	_, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(l.table),
		Item:                                w,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		// The SDK retried a put whose answer was lost, and met its own ticket: stored.
		if ccf, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok && sameItem(ccf.Item, w) {
			return nil
		}
		return storeError("store ticket", err)
	}
	return nil
}

// sameItem reports whether a and b hold the same attributes and values.
func sameItem(a, b map[string]types.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !reflect.DeepEqual(v, b[k]) {
			return false
		}
	}
	return true
}

// Redeem consumes a ticket in one conditional delete that returns it: the ticket exists
// and has not expired. So a ticket opens at most one connection, however many clients
// race with it.
func (l *Live) Redeem(ctx context.Context, secret string) (live.Connection, error) {
	out, err := l.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           aws.String(l.table),
		Key:                                 map[string]types.AttributeValue{livePK: sAV(ticketPrefix + live.TicketKey(secret))},
		ConditionExpression:                 aws.String("attribute_exists(pk) AND expiresAt > :now"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": iAV(l.now().Unix())},
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		if ccf, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
			if len(ccf.Item) > 0 {
				return live.Connection{}, live.ErrTicketExpired
			}
			return live.Connection{}, live.ErrTicketUnknown
		}
		return live.Connection{}, storeError("redeem ticket", err)
	}
	it := item{m: out.Attributes}
	c := live.Connection{Sub: it.str(liveSub), Roles: it.strings(liveRoles), Until: it.epoch(liveUntil)}
	if it.err != nil {
		return live.Connection{}, fmt.Errorf("redeem ticket: unreadable ticket item: %w", it.err)
	}
	if c.Sub == "" {
		return live.Connection{}, errors.New("redeem ticket: the ticket item has no sub")
	}
	return c, nil
}

// Open records a connection: its caller, its roles, its token's expiry, and the index keys
// that put it in its audiences (its caller's; the job readers' when the caller may read
// jobs). The record expires shortly after the connection's end.
func (l *Live) Open(ctx context.Context, c live.Connection) error {
	w := itemWriter{
		livePK:        sAV(connectionPrefix + c.ID),
		liveUserID:    sAV(c.Sub),
		liveExpiresAt: iAV(c.End().Add(connectionGrace).Unix()),
	}
	w.list(liveRoles, c.Roles)
	w.epoch(liveUntil, c.Until)
	w.time(liveConnectedAt, c.ConnectedAt)
	if job.Authorize(c.Actor()) == nil {
		w[liveJobReader] = sAV(jobReaderKey)
	}
	if _, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.table), Item: w}); err != nil {
		return storeError("record connection", err)
	}
	return nil
}

// Close forgets a connection (one delete; forgetting an unknown one is not an error).
func (l *Live) Close(ctx context.Context, connectionID string) error {
	_, err := l.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(l.table),
		Key:       map[string]types.AttributeValue{livePK: sAV(connectionPrefix + connectionID)},
	})
	if err != nil {
		return storeError("forget connection", err)
	}
	return nil
}

// Audience lists the open connections of an audience: one Query of its index, page after
// page.
func (l *Live) Audience(ctx context.Context, a live.Audience) ([]live.Connection, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(l.table)}
	switch {
	case a.Owner != "":
		in.IndexName = aws.String(IndexByUser)
		in.KeyConditionExpression = aws.String("userId = :k")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":k": sAV(a.Owner)}
	case a.JobReaders:
		in.IndexName = aws.String(IndexByJobReader)
		in.KeyConditionExpression = aws.String("jobReader = :k")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":k": sAV(jobReaderKey)}
	default:
		return nil, nil
	}
	var out []live.Connection
	for {
		page, err := l.db.Query(ctx, in)
		if err != nil {
			return nil, storeError("list connections", err)
		}
		for _, m := range page.Items {
			it := item{m: m}
			id, _ := strings.CutPrefix(it.str(livePK), connectionPrefix)
			c := live.Connection{ID: id, Sub: it.str(liveUserID), Roles: it.strings(liveRoles), Until: it.epoch(liveUntil)}
			if it.err != nil || c.ID == "" {
				return nil, fmt.Errorf("list connections: unreadable connection item: %v", it.err)
			}
			out = append(out, c)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
