package dynamo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
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
	// IndexByUser lists one caller's connections (an interview event's audience, and each
	// technician a job event concerns: live.Address's deliveries).
	IndexByUser = "byUser"
	// IndexByJobReader lists the connections of callers who may read jobs (every job
	// event's audience); it is sparse: only their items carry the key.
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
	liveRedeemedBy  = "redeemedBy" // the connection a spent ticket opened

	// A user item holds what the caller's limits count: liveConns maps each open
	// connection's id to when its record expires (epoch seconds), so one conditional write
	// can cap them. A ticket-count item counts the tickets one caller got in one minute.
	liveConns  = "conns"
	liveIssued = "issued"

	ticketPrefix      = "TICKET#"
	connectionPrefix  = "CONN#"
	userPrefix        = "USER#"
	ticketCountPrefix = "TICKETS#"
	// jobReaderKey is the one value of the byJobReader index's key.
	jobReaderKey = "jobs"
	// connectionGrace is how long a connection's record outlives the connection's end (a
	// $disconnect that never came); the notifier retires it at its first event before then.
	connectionGrace = 5 * time.Minute
)

// claimRaces bounds the writes of one claim. Each lost race is another write to the user
// item that succeeded (in a burst of one caller's connects, another claim), and each
// retry decides from the item the failed write returned, so it costs no read; after the
// first try and the item's creation, limit claims by others fill it, and the next
// decision is a refusal without a write. A few more absorb the caller's disconnects.
func claimRaces(limit int) int { return limit + 4 }

// LiveAPI is the part of the DynamoDB client the live store uses.
type LiveAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Live is the live table: tickets and connections, within each caller's limits.
type Live struct {
	db        LiveAPI
	table     string
	now       func() time.Time
	newSecret func() string
	limits    live.UserLimits
}

// NewLive returns the live store on table. newSecret makes ticket secrets
// (live.NewTicketSecret); limits are what one caller may hold (a zero field: no limit).
func NewLive(db LiveAPI, table string, now func() time.Time, newSecret func() string, limits live.UserLimits) *Live {
	return &Live{db: db, table: table, now: now, newSecret: newSecret, limits: limits}
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
// expiry), and returns it. Past the caller's tickets a minute it is a
// *lifecycle.RateLimitedError, and stores nothing.
func (l *Live) IssueTicket(ctx context.Context, actor lifecycle.Actor, until time.Time) (live.Ticket, error) {
	if err := l.countTicket(ctx, actor.Sub); err != nil {
		return live.Ticket{}, err
	}
	t := live.Ticket{Secret: l.newSecret(), ExpiresAt: l.now().Add(live.TicketTTL).Truncate(time.Second)}
	if err := l.StoreTicket(ctx, actor, until, t); err != nil {
		return live.Ticket{}, err
	}
	return t, nil
}

// countTicket counts one more ticket for sub in the current minute (UTC), in one
// conditional write that fails once the minute's count has reached the limit; the count's
// item expires with its minute. An SDK retry of a count whose answer was lost counts it
// twice: the caller gets one ticket fewer that minute, never one more.
func (l *Live) countTicket(ctx context.Context, sub string) error {
	limit := l.limits.TicketsPerMinute
	if limit <= 0 {
		return nil
	}
	now := l.now()
	minute := now.UTC().Truncate(time.Minute)
	_, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.table),
		Key:                       map[string]types.AttributeValue{livePK: sAV(ticketCountPrefix + sub + "#" + strconv.FormatInt(minute.Unix(), 10))},
		UpdateExpression:          aws.String("ADD issued :one SET expiresAt = :exp"),
		ConditionExpression:       aws.String("attribute_not_exists(issued) OR issued < :limit"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": iAV(1), ":limit": iAV(int64(limit)), ":exp": iAV(minute.Add(2 * time.Minute).Unix())},
	})
	if err != nil {
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
			return &lifecycle.RateLimitedError{
				Limit:      strconv.Itoa(limit) + " live tickets a minute per caller",
				RetryAfter: minute.Add(time.Minute).Sub(now),
			}
		}
		return storeError("count ticket", err)
	}
	return nil
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

// Redeem spends a ticket for connection connectionID in one conditional write that returns
// it: the ticket exists, has not expired, and no other connection has spent it. So a ticket
// opens at most one connection, however many clients race with it. The ticket records the
// connection that spent it (redeemedBy) rather than vanishing, so the SDK's retry of a
// redeem whose answer was lost finds its own connection there and succeeds again; a
// deleted ticket would have refused it as unknown. The spent ticket expires by TTL.
func (l *Live) Redeem(ctx context.Context, secret, connectionID string) (live.Connection, error) {
	out, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(l.table),
		Key:              map[string]types.AttributeValue{livePK: sAV(ticketPrefix + live.TicketKey(secret))},
		UpdateExpression: aws.String("SET redeemedBy = :conn"),
		ConditionExpression: aws.String("attribute_exists(pk) AND expiresAt > :now AND " +
			"(attribute_not_exists(redeemedBy) OR redeemedBy = :conn)"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": iAV(l.now().Unix()), ":conn": sAV(connectionID)},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		if ccf, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
			old := item{m: ccf.Item}
			if len(ccf.Item) > 0 && old.str(liveRedeemedBy) == "" {
				return live.Connection{}, live.ErrTicketExpired
			}
			// No such ticket, or one another connection spent.
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
// jobs). The record expires shortly after the connection's end. First it takes one of the
// caller's connection places (claim); a caller who holds them all gets
// live.ErrTooManyConnections and nothing is recorded.
func (l *Live) Open(ctx context.Context, c live.Connection) error {
	expires := c.End().Add(connectionGrace)
	if err := l.claim(ctx, c.Sub, c.ID, expires); err != nil {
		return err
	}
	w := itemWriter{
		livePK:        sAV(connectionPrefix + c.ID),
		liveUserID:    sAV(c.Sub),
		liveExpiresAt: iAV(expires.Unix()),
	}
	w.list(liveRoles, c.Roles)
	w.epoch(liveUntil, c.Until)
	w.time(liveConnectedAt, c.ConnectedAt)
	if job.Authorize(c.Actor()) == nil {
		w[liveJobReader] = sAV(jobReaderKey)
	}
	if _, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.table), Item: w}); err != nil {
		// Give the place back; should that fail too, the place frees itself when it expires.
		_ = l.release(ctx, c.Sub, c.ID)
		return storeError("record connection", err)
	}
	return nil
}

// claim takes one of sub's connection places for connection id until expires, with one
// conditional write on the caller's user item: its conns gains id only while it holds
// fewer than the limit, so concurrent connects of one caller can never exceed it. Places
// past their expiry (connections whose $disconnect never came) are dropped in the same
// write. A write that loses a race learns the item's state from the failure (ALL_OLD)
// and decides again.
func (l *Live) claim(ctx context.Context, sub, id string, expires time.Time) error {
	limit := l.limits.Connections
	if limit <= 0 {
		return nil
	}
	key := map[string]types.AttributeValue{livePK: sAV(userPrefix + sub)}
	// The item outlives every place it holds (each ends at most ConnectionLife and the
	// grace after its connect), so its TTL never removes a live one.
	itemExpires := iAV(l.now().Add(live.ConnectionLife + connectionGrace).Unix())
	place := iAV(expires.Unix())
	var old map[string]types.AttributeValue
	known := false
	for range claimRaces(limit) {
		in := &dynamodb.UpdateItemInput{
			TableName:                           aws.String(l.table),
			Key:                                 key,
			ExpressionAttributeNames:            map[string]string{"#c": id},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":exp": place, ":itemExp": itemExpires},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}
		held, hasConns := (&item{m: old}).mapAttr(liveConns)
		switch {
		case !known:
			// The usual case, tried first without a read: there is room.
			in.UpdateExpression = aws.String("SET conns.#c = :exp, expiresAt = :itemExp")
			// attribute_exists first: DynamoDB's size() of a missing attribute is false,
			// and moto's an error unless the AND stops before it.
			in.ConditionExpression = aws.String("attribute_exists(conns) AND size(conns) < :limit")
			in.ExpressionAttributeValues[":limit"] = iAV(int64(limit))
		case !hasConns:
			// The caller's first connection (or the first since the item expired).
			in.UpdateExpression = aws.String("SET conns = :conns, expiresAt = :itemExp")
			in.ConditionExpression = aws.String("attribute_not_exists(conns)")
			in.ExpressionAttributeNames = nil
			in.ExpressionAttributeValues = map[string]types.AttributeValue{
				":conns": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{id: place}}, ":itemExp": itemExpires,
			}
		default:
			if _, ok := held[id]; ok {
				return nil // an SDK retry of our own write, whose answer was lost, took it
			}
			stale := l.stalePlaces(held)
			if len(held)-len(stale) >= limit {
				return live.ErrTooManyConnections
			}
			// Drop the expired places, each only if it still holds the expiry we saw, and
			// take ours, while the count after the drop leaves room.
			remove, cond := make([]string, 0, len(stale)), []string{"attribute_exists(conns) AND size(conns) < :limit"}
			for i, sid := range stale {
				n, v := "#s"+strconv.Itoa(i), ":s"+strconv.Itoa(i)
				in.ExpressionAttributeNames[n], in.ExpressionAttributeValues[v] = sid, held[sid]
				remove, cond = append(remove, "conns."+n), append(cond, "conns."+n+" = "+v)
			}
			in.ExpressionAttributeValues[":limit"] = iAV(int64(limit + len(stale)))
			update := "SET conns.#c = :exp, expiresAt = :itemExp"
			if len(remove) > 0 {
				update = "REMOVE " + strings.Join(remove, ", ") + " " + update
			}
			in.UpdateExpression, in.ConditionExpression = aws.String(update), aws.String(strings.Join(cond, " AND "))
		}
		_, err := l.db.UpdateItem(ctx, in)
		if err == nil {
			return nil
		}
		ccf, ok := errors.AsType[*types.ConditionalCheckFailedException](err)
		if !ok {
			return storeError("claim a connection place", err)
		}
		old, known = ccf.Item, true
	}
	return fmt.Errorf("claim a connection place: the caller's other connects kept changing it, %d times: %w", claimRaces(limit), lifecycle.ErrUnavailable)
}

// stalePlaces returns the ids of the places in held whose connections' records have
// expired.
func (l *Live) stalePlaces(held map[string]types.AttributeValue) []string {
	now := l.now().Unix()
	var out []string
	for id, v := range held {
		if n, ok := v.(*types.AttributeValueMemberN); ok {
			if exp, err := strconv.ParseInt(n.Value, 10, 64); err == nil && exp > now {
				continue
			}
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// release gives connection id's place back to sub (a no-op when it holds none).
// Every store releases, whatever its limits: a place claimed under a limit is freed by
// whichever function forgets the connection.
func (l *Live) release(ctx context.Context, sub, id string) error {
	_, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(l.table),
		Key:                      map[string]types.AttributeValue{livePK: sAV(userPrefix + sub)},
		UpdateExpression:         aws.String("REMOVE conns.#c"),
		ConditionExpression:      aws.String("attribute_exists(conns)"),
		ExpressionAttributeNames: map[string]string{"#c": id},
	})
	if err != nil {
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
			return nil
		}
		return storeError("free the connection's place", err)
	}
	return nil
}

// Close forgets a connection and gives its place back to its caller (forgetting an
// unknown one is not an error). Two writes: should the second fail, the place frees
// itself when the record would have expired.
func (l *Live) Close(ctx context.Context, connectionID string) error {
	out, err := l.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:    aws.String(l.table),
		Key:          map[string]types.AttributeValue{livePK: sAV(connectionPrefix + connectionID)},
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return storeError("forget connection", err)
	}
	if out == nil {
		return nil
	}
	sub := (&item{m: out.Attributes}).str(liveUserID)
	if sub == "" {
		return nil
	}
	return l.release(ctx, sub, connectionID)
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
