// Package queuepoll receives from a moto SQS queue as Lambda's pollers do: batches of up
// to ten messages, a second's long poll at a time, the handled ones deleted in one call.
// The local stack's queue consumers (the audit consumer, the rule targets' invokers, the
// event feed) all take their messages through it.
package queuepoll

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Handler handles one batch and returns the receipt handles of the messages to delete
// (those it is done with; the others come back after their visibility timeout).
type Handler func(ctx context.Context, batch []types.Message) (done []string)

// Once receives one batch from url, waiting up to wait seconds for it, hands it to h and
// deletes what h is done with. It returns how many messages it received.
func Once(ctx context.Context, client *sqs.Client, url string, wait int32, h Handler) (int, error) {
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: wait})
	if err != nil || len(out.Messages) == 0 {
		return 0, err
	}
	deleteBatch(ctx, client, url, h(ctx, out.Messages))
	return len(out.Messages), nil
}

// Run receives from url until ctx ends. A failed receive is logged (what names the queue's
// consumer) and tried again a second later.
func Run(ctx context.Context, client *sqs.Client, url string, logger *slog.Logger, what string, h Handler) {
	for ctx.Err() == nil {
		if _, err := Once(ctx, client, url, 1, h); err != nil && ctx.Err() == nil {
			logger.Warn("receive from a queue failed", "consumer", what, "queue", url, "err", err)
			time.Sleep(time.Second)
		}
	}
}

// Drain receives from url until a receive finds it empty, and returns how many messages
// it took.
func Drain(ctx context.Context, client *sqs.Client, url string, h Handler) (int, error) {
	total := 0
	for {
		n, err := Once(ctx, client, url, 0, h)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// deleteBatch removes handled messages (at most ten) from a queue in one call.
func deleteBatch(ctx context.Context, client *sqs.Client, url string, handles []string) {
	if len(handles) == 0 {
		return
	}
	entries := make([]types.DeleteMessageBatchRequestEntry, len(handles))
	for i, h := range handles {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)}
	}
	_, _ = client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
}
