package motoserver_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/tools/local/motoserver"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/mototest"
)

func client(endpoint string) *dynamodb.Client {
	cfg := config.New("us-east-1", credentials.NewStaticCredentialsProvider("local", "local", ""))
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint, o.DisableValidateResponseChecksum = aws.String(endpoint), true
		o.RetryMaxAttempts = 1
	})
}

func createTable(t *testing.T, db *dynamodb.Client, name string, stream bool) {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}
	if stream {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}
	}
	if _, err := db.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }

// race runs rounds of 32 clients racing one conditional write on one item (SET version to
// version + 1 under version = the value all of them read), until a round has more than
// one winner (when untilDoubled) or rounds have run, and returns the rounds run and those
// that had more than one winner.
func race(t *testing.T, db *dynamodb.Client, table string, rounds int, untilDoubled bool) (run, doubled int) {
	t.Helper()
	ctx := context.Background()
	const clients = 32
	for r := range rounds {
		if untilDoubled && doubled > 0 {
			break
		}
		run++
		key := map[string]types.AttributeValue{"pk": s("race-" + strconv.Itoa(r))}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{"pk": key["pk"], "version": n(0)}}); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		startLine := make(chan struct{})
		for range clients {
			wg.Go(func() {
				<-startLine
				_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String(table), Key: key,
					UpdateExpression:          aws.String("SET version = version + :one"),
					ConditionExpression:       aws.String("version = :read"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":read": n(0)},
				})
				if err == nil {
					wins.Add(1)
				} else if _, lost := errors.AsType[*types.ConditionalCheckFailedException](err); !lost {
					t.Error(err)
				}
			})
		}
		close(startLine)
		wg.Wait()
		if wins.Load() > 1 {
			doubled++
		}
	}
	return run, doubled
}

// TestConditionalWritesAreAtomic proves the lock in serve.py is needed, and enough: 32
// clients race one conditional write, round after round. Against moto's threaded server
// as it comes (its interpreter switching threads often, so interleavings show within a
// few rounds rather than one in twenty), some round has two winners; against the
// serialised server, which the local stack runs, no round does.
func TestConditionalWritesAreAtomic(t *testing.T) {
	plain := client(mototest.Start(t, motoserver.Options{Name: "moto, plain", SwitchInterval: time.Microsecond}).Endpoint)
	createTable(t, plain, "race", false)
	run, doubled := race(t, plain, "race", 400, true)
	if doubled == 0 {
		t.Fatalf("no round of %d had two winners on moto's plain threaded server: this test cannot tell the lock is needed", run)
	}
	t.Logf("plain threaded moto: round %d had more than one winner", run)
	const rounds = 40
	ours := client(mototest.Start(t, motoserver.Options{Name: "moto, serialised", Serialise: true, SwitchInterval: time.Microsecond}).Endpoint)
	createTable(t, ours, "race", false)
	if _, doubled := race(t, ours, "race", rounds, false); doubled != 0 {
		t.Fatalf("%d rounds of %d had more than one winner on the serialised server", doubled, rounds)
	}
}

// TestACancelledTransactionIsUndoneInPlace: a cancelled transaction leaves the items it
// touched as they were, and the table's stream as it was, and a reader of the stream goes
// on seeing what comes after (moto's own rollback swapped in a copy of the table, stream
// included, and the reader's shard never moved again).
func TestACancelledTransactionIsUndoneInPlace(t *testing.T) {
	srv := mototest.Start(t, motoserver.Options{Name: "moto, serialised", Serialise: true})
	if seen := afterACancelledTransaction(t, srv.Endpoint); fmt.Sprint(seen) != "[INSERT c]" {
		t.Errorf("the stream reader saw %v, want [INSERT c]: the cancelled transaction's records, or nothing after it", seen)
	}
	// moto as it comes shows the reader the cancelled transaction's put, and never c: when
	// this fails, moto has fixed its rollback, and serve.py's undo can go.
	plain := mototest.Start(t, motoserver.Options{Name: "moto, plain"})
	if seen := afterACancelledTransaction(t, plain.Endpoint); fmt.Sprint(seen) == "[INSERT c]" {
		t.Errorf("moto's own rollback no longer loses the stream reader: drop undo_cancelled_transactions from serve.py")
	} else {
		t.Logf("moto's own rollback: the reader saw %v", seen)
	}
}

// afterACancelledTransaction cancels a transaction on a new table, checks its items were
// left as they were, puts an item c, and returns what a reader of the stream, which began
// before the transaction, saw after it.
func afterACancelledTransaction(t *testing.T, endpoint string) []string {
	t.Helper()
	db := client(endpoint)
	ctx := context.Background()
	createTable(t, db, "tx", true)
	put := func(pk string, v int) {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tx"), Item: map[string]types.AttributeValue{"pk": s(pk), "version": n(v)}}); err != nil {
			t.Fatal(err)
		}
	}
	put("a", 1)
	streams := dynamodbstreams.NewFromConfig(config.New("us-east-1", credentials.NewStaticCredentialsProvider("local", "local", "")), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("tx")})
	if err != nil {
		t.Fatal(err)
	}
	arn := desc.Table.LatestStreamArn
	sd, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: sd.StreamDescription.Shards[0].ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeLatest})
	if err != nil {
		t.Fatal(err)
	}
	iterator := it.ShardIterator

	// A new item b, then an update of a whose condition fails: the transaction is cancelled.
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("tx"), Item: map[string]types.AttributeValue{"pk": s("b"), "version": n(1)}}},
		{Update: &types.Update{TableName: aws.String("tx"), Key: map[string]types.AttributeValue{"pk": s("a")},
			UpdateExpression: aws.String("SET version = :two"), ConditionExpression: aws.String("version = :zero"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":two": n(2), ":zero": n(0)}}},
	}})
	if _, ok := errors.AsType[*types.TransactionCanceledException](err); !ok {
		t.Fatalf("the transaction was not cancelled: %v", err)
	}
	get := func(pk string) map[string]types.AttributeValue {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tx"), Key: map[string]types.AttributeValue{"pk": s(pk)}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	if b := get("b"); b != nil {
		t.Errorf("the cancelled transaction's put is there: %v", b)
	}
	if v := get("a")["version"].(*types.AttributeValueMemberN).Value; v != "1" {
		t.Errorf("a is at version %s after a cancelled transaction", v)
	}
	put("c", 1)
	var seen []string
	for range 3 {
		out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iterator})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			seen = append(seen, fmt.Sprintf("%s %s", r.EventName, r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS).Value))
		}
		iterator = out.NextShardIterator
	}
	return seen
}
