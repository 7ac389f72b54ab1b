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
	const check = "alarm-email"
	info := func(message string) Result { return Result{Check: check, Status: Info, Message: message} }
	email := param(c, "AlarmEmail")
	switch {
	case email == "":
		return info("AlarmEmail is empty: the alarms notify no one")
	case IsPlaceholder(email):
		return info("not checked: AlarmEmail is a placeholder")
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
			return info(what + ": " + email + "'s subscription is checked after the first deploy (confirm the mail SNS sends it then)")
		}
		return fail(check, "CloudFormation DescribeStackResource: "+err.Error(), "run with credentials of the account to deploy to, allowed cloudformation:DescribeStackResource")
	}
	topic := ""
	if d := res.StackResourceDetail; d != nil {
		topic = aws.ToString(d.PhysicalResourceId)
	}
	if topic == "" {
		return info(fmt.Sprintf("stack %s's %s has no topic yet: %s's subscription is checked after the deploy", c.Env.Stack, c.Template.AlarmTopic, email))
	}
	resubscribe := fmt.Sprintf("aws sns subscribe --topic-arn %s --protocol email --notification-endpoint %s --region %s", topic, email, c.Region)
	var pending, confirmed bool
	pages := sns.NewListSubscriptionsByTopicPaginator(topics, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fail(check, "SNS ListSubscriptionsByTopic: "+err.Error(), "run with credentials of the account to deploy to, allowed sns:ListSubscriptionsByTopic on "+topic)
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
	}
	switch {
	case confirmed:
		return Result{Check: check, Status: OK, Message: email + " is subscribed to the alarm topic " + topic}
	case pending:
		return fail(check, email+"'s subscription to the alarm topic "+topic+" awaits confirmation: until then alarms reach no one",
			"confirm the mail sent to "+email+" (\"AWS Notification - Subscription Confirmation\"); lost it? This sends another:\n"+resubscribe)
	}
	return Result{Check: check, Status: Warn, Message: email + " is not subscribed to the alarm topic " + topic + ": alarms reach no one",
		Fix: "a deploy that changes AlarmEmail subscribes the new address; one removed by hand comes back with:\n" + resubscribe + "\nthen confirm the mail it sends"}
}
