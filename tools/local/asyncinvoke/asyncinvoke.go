// Package asyncinvoke plays Lambda's asynchronous invocation of a function that an
// EventBridge rule targets: each event the rule delivered (to the stand-in queue
// tools/local/eventplumbing creates, since moto runs no functions) invokes the handler
// with the event exactly as EventBridge sends it; an invocation that fails is retried up
// to MaxRetries times, and then the event goes to the on-failure destination with
// Lambda's invocation record. Lambda waits a minute, then two, between retries; locally
// the waits are Delays.
package asyncinvoke

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Handler is a Lambda handler of EventBridge events.
type Handler func(context.Context, events.EventBridgeEvent) error

// Invoker drains one function's stand-in queue.
type Invoker struct {
	SQS   *sqs.Client
	Queue string
	// Function names the function in logs and failure records.
	Function   string
	Handler    Handler
	MaxRetries int
	// Delays are the waits before each retry (the last repeats).
	Delays []time.Duration
	// OnFailure, when set, is the queue URL that receives events whose invocations all
	// failed.
	OnFailure string
	// Timeout is the function's timeout (template.yaml).
	Timeout time.Duration
	Logger  *slog.Logger

	wg sync.WaitGroup
}

// Run receives and invokes until ctx ends, then waits for the invocations in flight.
func (v *Invoker) Run(ctx context.Context) {
	defer v.wg.Wait()
	for ctx.Err() == nil {
		if _, err := v.receive(ctx, 1); err != nil && ctx.Err() == nil {
			v.Logger.Warn("receive from a rule target's queue failed", "function", v.Function, "err", err)
			time.Sleep(time.Second)
		}
	}
}

// Drain invokes what the queue holds now, waits for those invocations (retries included),
// and returns how many events it took.
func (v *Invoker) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := v.receive(ctx, 0)
		total += n
		if err != nil || n == 0 {
			v.wg.Wait()
			return total, err
		}
	}
}

// receive takes up to ten events off the queue and invokes each on its own, as Lambda runs
// asynchronous invocations concurrently. The message is deleted once taken: from then on
// the invocation's retries and its on-failure destination are Lambda's job, not the queue's.
func (v *Invoker) receive(ctx context.Context, wait int32) (int, error) {
	out, err := v.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(v.Queue), MaxNumberOfMessages: 10, WaitTimeSeconds: wait})
	if err != nil {
		return 0, err
	}
	for _, m := range out.Messages {
		body := []byte(aws.ToString(m.Body))
		if _, err := v.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(v.Queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
			return 0, err
		}
		v.wg.Go(func() { v.invoke(context.WithoutCancel(ctx), body) })
	}
	return len(out.Messages), nil
}

// invoke runs one asynchronous invocation with its retries.
func (v *Invoker) invoke(ctx context.Context, body []byte) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		// The runtime could not read it either: every attempt would fail alike.
		v.giveUp(ctx, body, 1, err)
		return
	}
	var err error
	attempts := 0
	for attempts <= v.MaxRetries {
		if attempts > 0 {
			time.Sleep(v.delay(attempts))
		}
		attempts++
		if err = v.call(ctx, ev); err == nil {
			return
		}
		v.Logger.Warn("asynchronous invocation failed", "function", v.Function, "attempt", attempts, "err", err)
	}
	v.giveUp(ctx, body, attempts, err)
}

func (v *Invoker) call(ctx context.Context, ev events.EventBridgeEvent) error {
	ctx, cancel := context.WithTimeout(ctx, v.Timeout)
	defer cancel()
	return v.Handler(ctx, ev)
}

func (v *Invoker) delay(retry int) time.Duration {
	if len(v.Delays) == 0 {
		return 0
	}
	return v.Delays[min(retry, len(v.Delays))-1]
}

// giveUp logs the failure and sends Lambda's invocation record to the on-failure
// destination.
func (v *Invoker) giveUp(ctx context.Context, body []byte, attempts int, err error) {
	v.Logger.Error("asynchronous invocation failed every retry", "function", v.Function, "attempts", attempts, "err", err)
	if v.OnFailure == "" {
		return
	}
	msg := err.Error()
	record := map[string]any{
		"version":   "1.0",
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"requestContext": map[string]any{
			"requestId":              lifecycle.NewID(),
			"functionArn":            "arn:aws:lambda:us-east-1:000000000000:function:" + v.Function + ":$LATEST",
			"condition":              "RetriesExhausted",
			"approximateInvokeCount": attempts,
		},
		"requestPayload":  json.RawMessage(body),
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"responsePayload": map[string]string{"errorMessage": msg, "errorType": "errorString"},
	}
	b, _ := json.Marshal(record)
	if _, err := v.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(v.OnFailure), MessageBody: aws.String(string(b))}); err != nil {
		v.Logger.Error("cannot send to the on-failure destination", "function", v.Function, "err", err)
	}
}
