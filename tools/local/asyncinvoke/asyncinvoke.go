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
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/local/queuepoll"
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
	Delays     Delays
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
	queuepoll.Run(ctx, v.SQS, v.Queue, v.Logger, v.Function, v.take)
}

// Drain invokes what the queue holds now, waits for those invocations (retries included),
// and returns how many events it took.
func (v *Invoker) Drain(ctx context.Context) (int, error) {
	defer v.wg.Wait()
	return queuepoll.Drain(ctx, v.SQS, v.Queue, v.take)
}

// take invokes each event of a batch on its own, as Lambda runs asynchronous invocations
// concurrently, and is done with every message at once: from then on the invocation's
// retries and its on-failure destination are Lambda's job, not the queue's.
func (v *Invoker) take(ctx context.Context, batch []types.Message) []string {
	done := make([]string, len(batch))
	for i, m := range batch {
		body := []byte(aws.ToString(m.Body))
		v.wg.Go(func() { v.invoke(context.WithoutCancel(ctx), body) })
		done[i] = aws.ToString(m.ReceiptHandle)
	}
	return done
}

// invoke runs one asynchronous invocation with its retries.
func (v *Invoker) invoke(ctx context.Context, body []byte) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		// The runtime could not read it either: every attempt would fail alike.
		v.giveUp(ctx, body, 1, err)
		return
	}
	for attempt := 1; ; attempt++ {
		callCtx, cancel := context.WithTimeout(ctx, v.Timeout)
		err := v.Handler(callCtx, ev)
		cancel()
		if err == nil {
			return
		}
		v.Logger.Warn("asynchronous invocation failed", "function", v.Function, "attempt", attempt, "err", err)
		if attempt > v.MaxRetries {
			v.giveUp(ctx, body, attempt, err)
			return
		}
		time.Sleep(v.Delays.Before(attempt))
	}
}

// Delays are the waits before each retry, the last repeating (none: no wait): locally
// short, where Lambda and EventBridge Scheduler back off for minutes.
type Delays []time.Duration

// Before is the wait before retry n (1 for the first).
func (d Delays) Before(retry int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(retry, len(d))-1]
}

// giveUp logs the failure and sends Lambda's invocation record to the on-failure
// destination.
func (v *Invoker) giveUp(ctx context.Context, body []byte, attempts int, err error) {
	v.Logger.Error("asynchronous invocation failed every retry", "function", v.Function, "attempts", attempts, "err", err)
	if v.OnFailure == "" {
		return
	}
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
		"responsePayload": map[string]string{"errorMessage": err.Error(), "errorType": "errorString"},
	}
	b, _ := json.Marshal(record)
	if _, err := v.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(v.OnFailure), MessageBody: aws.String(string(b))}); err != nil {
		v.Logger.Error("cannot send to the on-failure destination", "function", v.Function, "err", err)
	}
}
