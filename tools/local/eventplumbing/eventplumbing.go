// Package eventplumbing creates the template's event plumbing in moto: the bus, the queues
// (with their redrive policies) and the rules with their targets, read from template.yaml
// itself, so local runs and tests route events exactly as AWS will. moto runs no Lambda
// functions: a rule targeting a function delivers to a stand-in queue instead, which the
// local stack drains into the function's handler as Lambda's asynchronous invocation would
// (tools/local/asyncinvoke).
package eventplumbing

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"gopkg.in/yaml.v3"

	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
)

// Stack is the event plumbing of one local stack.
type Stack struct {
	BusName string
	// Queues are the queue URLs by template logical id (InterviewEventsQueue, …).
	Queues map[string]string
	// QueueARNs by logical id.
	QueueARNs map[string]string
	// Functions are the rule targets that are functions, by logical id
	// (LiveNotifyFunction).
	Functions map[string]FunctionTarget
}

// FunctionTarget is a function a rule targets: the stand-in queue its events arrive on,
// and its asynchronous invocation settings (template.yaml: EventInvokeConfig).
type FunctionTarget struct {
	Queue string
	// MaxRetries is how often Lambda retries an invocation that failed.
	MaxRetries int
	// OnFailure is the logical id of the queue that receives events whose invocations
	// failed every retry ("" when none).
	OnFailure string
}

// Setup creates the plumbing, names prefixed with prefix so several stacks can share
// one moto.
func Setup(ctx context.Context, tpl *cfntemplate.Template, eb *eventbridge.Client, sq *sqs.Client, prefix string) (*Stack, error) {
	s := &Stack{BusName: prefix + "lifecycle", Queues: map[string]string{}, QueueARNs: map[string]string{}, Functions: map[string]FunctionTarget{}}

	queues := tpl.Resources("AWS::SQS::Queue")
	// Dead-letter queues first, so redrive policies can name them.
	ordered := []string{}
	for _, id := range cfntemplate.SortedKeys(queues) {
		if cfntemplate.Get(queues[id], "Properties", "RedrivePolicy") == nil {
			ordered = append([]string{id}, ordered...)
		} else {
			ordered = append(ordered, id)
		}
	}
	for _, id := range ordered {
		attrs := map[string]string{}
		if rp := cfntemplate.Get(queues[id], "Properties", "RedrivePolicy"); rp != nil {
			dlq, ok := cfntemplate.GetAttTarget(cfntemplate.Get(rp, "deadLetterTargetArn"))
			if !ok || s.QueueARNs[dlq] == "" {
				return nil, fmt.Errorf("queue %s: dead-letter queue %q unknown", id, dlq)
			}
			b, _ := json.Marshal(map[string]string{"deadLetterTargetArn": s.QueueARNs[dlq], "maxReceiveCount": cfntemplate.Scalar(cfntemplate.Get(rp, "maxReceiveCount"))})
			attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)] = string(b)
		}
		if vt := cfntemplate.Scalar(cfntemplate.Get(queues[id], "Properties", "VisibilityTimeout")); vt != "" {
			attrs[string(sqstypes.QueueAttributeNameVisibilityTimeout)] = vt
		}
		url, arn, err := createQueue(ctx, sq, prefix+id, attrs)
		if err != nil {
			return nil, fmt.Errorf("create queue %s: %w", id, err)
		}
		s.Queues[id], s.QueueARNs[id] = url, arn
	}

	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(s.BusName)}); err != nil {
		return nil, fmt.Errorf("create bus: %w", err)
	}

	rules := tpl.Resources("AWS::Events::Rule")
	for _, id := range cfntemplate.SortedKeys(rules) {
		props := cfntemplate.Get(rules[id], "Properties")
		if cfntemplate.Scalar(cfntemplate.Get(props, "EventBusName")) != "!Ref EventBus" {
			continue
		}
		pattern, err := toJSON(cfntemplate.Get(props, "EventPattern"))
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", id, err)
		}
		name := prefix + id
		if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{
			Name: aws.String(name), EventBusName: aws.String(s.BusName), EventPattern: aws.String(pattern),
		}); err != nil {
			return nil, fmt.Errorf("put rule %s: %w", id, err)
		}
		var targets []ebtypes.Target
		for _, tn := range cfntemplate.Get(props, "Targets").Content {
			q, ok := cfntemplate.GetAttTarget(cfntemplate.Get(tn, "Arn"))
			if fn, isAlias := cfntemplate.AliasTarget(cfntemplate.Get(tn, "Arn")); isAlias {
				q, ok = fn, true // a function's alias live: its function stands in
			}
			if ok && s.QueueARNs[q] == "" && tpl.Resources("AWS::Serverless::Function")[q] != nil {
				if err := s.standIn(ctx, tpl, sq, prefix, q); err != nil {
					return nil, fmt.Errorf("rule %s: %w", id, err)
				}
			}
			if !ok || s.QueueARNs[q] == "" {
				return nil, fmt.Errorf("rule %s: target %q is neither a queue nor a function of the template", id, cfntemplate.Scalar(cfntemplate.Get(tn, "Arn")))
			}
			t := ebtypes.Target{Id: aws.String(cfntemplate.Scalar(cfntemplate.Get(tn, "Id"))), Arn: aws.String(s.QueueARNs[q])}
			if dlq, ok := cfntemplate.GetAttTarget(cfntemplate.Get(tn, "DeadLetterConfig", "Arn")); ok {
				t.DeadLetterConfig = &ebtypes.DeadLetterConfig{Arn: aws.String(s.QueueARNs[dlq])}
			}
			targets = append(targets, t)
		}
		if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), EventBusName: aws.String(s.BusName), Targets: targets}); err != nil {
			return nil, fmt.Errorf("put targets of %s: %w", id, err)
		}
	}
	return s, nil
}

// standIn creates the queue standing in for function fn as a rule target, and reads its
// asynchronous invocation settings.
func (s *Stack) standIn(ctx context.Context, tpl *cfntemplate.Template, sq *sqs.Client, prefix, fn string) error {
	url, arn, err := createQueue(ctx, sq, prefix+fn+"-invocations", nil)
	if err != nil {
		return fmt.Errorf("stand-in queue for %s: %w", fn, err)
	}
	s.QueueARNs[fn] = arn
	cfg := cfntemplate.Get(tpl.Resources("AWS::Serverless::Function")[fn], "Properties", "EventInvokeConfig")
	// Lambda retries a failed asynchronous invocation twice unless told otherwise.
	t := FunctionTarget{Queue: url, MaxRetries: 2}
	if n := cfntemplate.Scalar(cfntemplate.Get(cfg, "MaximumRetryAttempts")); n != "" {
		if _, err := fmt.Sscan(n, &t.MaxRetries); err != nil {
			return fmt.Errorf("%s: MaximumRetryAttempts %q: %w", fn, n, err)
		}
	}
	if dest, ok := cfntemplate.GetAttTarget(cfntemplate.Get(cfg, "DestinationConfig", "OnFailure", "Destination")); ok {
		if s.Queues[dest] == "" {
			return fmt.Errorf("%s: on-failure destination %q is not a queue of the template", fn, dest)
		}
		t.OnFailure = dest
	}
	s.Functions[fn] = t
	return nil
}

// createQueue creates a queue and returns its URL and ARN.
func createQueue(ctx context.Context, sq *sqs.Client, name string, attrs map[string]string) (string, string, error) {
	out, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", "", err
	}
	a, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", err
	}
	return aws.ToString(out.QueueUrl), a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// toJSON renders a YAML mapping (an event pattern) as JSON.
func toJSON(n *yaml.Node) (string, error) {
	if n == nil {
		return "", fmt.Errorf("no event pattern")
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}
