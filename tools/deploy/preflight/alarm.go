package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
)

// PendingConfirmation is the SubscriptionArn SNS lists for a subscription not yet confirmed.
const PendingConfirmation = "PendingConfirmation"

// CheckAlarmSubscription fails when AlarmEmail's subscription to the stack's alarm topic
// awaits confirmation: until the mail SNS sent is confirmed, alarms reach no one. Before
// the stack exists there is nothing to confirm yet.
func CheckAlarmSubscription(ctx context.Context, cf StackResources, topics TopicSubscriptions, c Config) Result {
	r := Result{Check: "alarm-email"}
	email := param(c, "AlarmEmail")
	switch {
	case email == "":
		r.Status, r.Message = Info, "AlarmEmail is empty: the alarms notify no one"
		return r
	case IsPlaceholder(email):
		r.Status, r.Message = Info, "not checked: AlarmEmail is a placeholder"
		return r
	}
	res, err := cf.DescribeStackResource(ctx, &cloudformation.DescribeStackResourceInput{
		StackName: aws.String(c.Env.Stack), LogicalResourceId: aws.String(c.Template.AlarmTopic),
	})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && strings.Contains(apiErr.ErrorMessage(), "does not exist") {
			what := "stack " + c.Env.Stack + " does not exist yet"
			if !strings.Contains(apiErr.ErrorMessage(), "Stack with id") {
				what = "stack " + c.Env.Stack + " has no " + c.Template.AlarmTopic + " yet"
			}
			r.Status, r.Message = Info, what+": "+email+"'s subscription is checked after the first deploy (confirm the mail SNS sends it then)"
			return r
		}
		r.Status, r.Message, r.Fix = Fail, "CloudFormation DescribeStackResource: "+err.Error(), "run with credentials of the account to deploy to, allowed cloudformation:DescribeStackResource"
		return r
	}
	topic := ""
	if d := res.StackResourceDetail; d != nil {
		topic = aws.ToString(d.PhysicalResourceId)
	}
	if topic == "" {
		r.Status, r.Message = Info, fmt.Sprintf("stack %s's %s has no topic yet: %s's subscription is checked after the deploy", c.Env.Stack, c.Template.AlarmTopic, email)
		return r
	}
	resubscribe := fmt.Sprintf("aws sns subscribe --topic-arn %s --protocol email --notification-endpoint %s --region %s", topic, email, c.Region)
	var pending, confirmed bool
	in := &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)}
	for {
		page, err := topics.ListSubscriptionsByTopic(ctx, in)
		if err != nil {
			r.Status, r.Message, r.Fix = Fail, "SNS ListSubscriptionsByTopic: "+err.Error(), "run with credentials of the account to deploy to, allowed sns:ListSubscriptionsByTopic on "+topic
			return r
		}
		for _, s := range page.Subscriptions {
			if !strings.HasPrefix(aws.ToString(s.Protocol), "email") || !strings.EqualFold(aws.ToString(s.Endpoint), email) {
				continue
			}
			switch arn := aws.ToString(s.SubscriptionArn); {
			case arn == PendingConfirmation:
				pending = true
			case strings.HasPrefix(arn, "arn:"):
				confirmed = true
			}
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	switch {
	case confirmed:
		r.Status, r.Message = OK, email+" is subscribed to the alarm topic "+topic
	case pending:
		r.Status = Fail
		r.Message = email + "'s subscription to the alarm topic " + topic + " awaits confirmation: until then alarms reach no one"
		r.Fix = "confirm the mail sent to " + email + " (\"AWS Notification - Subscription Confirmation\"); lost it? This sends another:\n" + resubscribe
	default:
		r.Status = Warn
		r.Message = email + " is not subscribed to the alarm topic " + topic + ": alarms reach no one"
		r.Fix = "a deploy that changes AlarmEmail subscribes the new address; one removed by hand comes back with:\n" + resubscribe + "\nthen confirm the mail it sends"
	}
	return r
}
