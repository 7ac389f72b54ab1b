package preflight

import (
	"cmp"
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// MinUnreserved is the concurrency Lambda keeps unreserved in an account: it refuses a
// reservation that would leave fewer.
const MinUnreserved = 100

// ConcurrencyQuotaCode is Service Quotas' code of Lambda's "Concurrent executions".
const ConcurrencyQuotaCode = "L-B99A9384"

// CheckConcurrency compares the account's Lambda concurrency with the reservation the
// environment asks for (PublisherReservedConcurrency): a reservation leaving fewer than
// MinUnreserved unreserved fails the deploy. It also reports the account's quota, warning
// when it is below MinUnreserved (a new account's 10 throttles the stack under load).
func CheckConcurrency(ctx context.Context, l LambdaAccount, c Config) []Result {
	const check = "concurrency"
	increase := fmt.Sprintf("ask for a quota increase: Service Quotas, AWS Lambda, \"Concurrent executions\" (%s):\n"+
		"aws service-quotas request-service-quota-increase --service-code lambda --quota-code %s --desired-value 1000 --region %s",
		ConcurrencyQuotaCode, ConcurrencyQuotaCode, c.Region)
	raw := param(c, "PublisherReservedConcurrency")
	reserve, err := strconv.Atoi(cmp.Or(raw, "0"))
	if err != nil || reserve < 0 {
		return []Result{fail(check, fmt.Sprintf("PublisherReservedConcurrency=%q is not a count", raw),
			"set PublisherReservedConcurrency=0 in samconfig.toml's parameter_overrides")}
	}
	out, err := l.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		return []Result{fail(check, "Lambda GetAccountSettings: "+err.Error(),
			"run with credentials of the account to deploy to, allowed lambda:GetAccountSettings")}
	}
	if out.AccountLimit == nil {
		return []Result{fail(check, "Lambda GetAccountSettings answered no AccountLimit",
			"check the quota by hand: aws lambda get-account-settings --region "+c.Region)}
	}
	total := int(out.AccountLimit.ConcurrentExecutions)
	unreserved := int(aws.ToInt32(out.AccountLimit.UnreservedConcurrentExecutions))
	quota := Result{Check: check, Status: Info, Message: fmt.Sprintf("the account's concurrency quota in %s is %d, %d of it unreserved", c.Region, total, unreserved)}
	if total < MinUnreserved {
		quota.Status = Warn
		quota.Message += fmt.Sprintf(": below %d, the stack's functions throttle one another under load", MinUnreserved)
		quota.Fix = increase
	}
	res := Result{Check: check, Status: OK}
	switch left := unreserved - reserve; {
	case reserve == 0:
		res.Message = "PublisherReservedConcurrency=0 reserves none"
	case left < MinUnreserved:
		res.Status = Fail
		res.Message = fmt.Sprintf("PublisherReservedConcurrency=%d would leave %d unreserved, and Lambda refuses a reservation that leaves fewer than %d: the deploy fails", reserve, left, MinUnreserved)
		res.Fix = fmt.Sprintf("set PublisherReservedConcurrency=0 in samconfig.toml [%s.deploy.parameters], or %s", c.Env.Name, increase)
	default:
		res.Message = fmt.Sprintf("PublisherReservedConcurrency=%d leaves %d unreserved", reserve, left)
	}
	return []Result{quota, res}
}

// CheckAPIGatewayRole fails when the region's API Gateway has no CloudWatch role: the
// WebSocket stage (LiveStage) writes an access log through it, and its create fails
// without one. The role is an account setting the stack does not own.
func CheckAPIGatewayRole(ctx context.Context, a APIGatewayAccount, region string) Result {
	const check = "apigateway-role"
	out, err := a.GetAccount(ctx, &apigateway.GetAccountInput{})
	switch {
	case err != nil:
		return fail(check, "API Gateway GetAccount: "+err.Error(), "run with credentials of the account to deploy to, allowed apigateway:GET on /account")
	case aws.ToString(out.CloudwatchRoleArn) == "":
		return fail(check, "API Gateway has no CloudWatch role in "+region+": the WebSocket stage LiveStage writes an access log through it, and its create fails without one",
			"once per account and region (docs/operations.md, First deploy):\n"+
				`aws iam create-role --role-name APIGatewayPushToCloudWatchLogs --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}'`+"\n"+
				"aws iam attach-role-policy --role-name APIGatewayPushToCloudWatchLogs --policy-arn arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs\n"+
				"aws apigateway update-account --region "+region+" --patch-operations op=replace,path=/cloudwatchRoleArn,value=arn:aws:iam::<account id>:role/APIGatewayPushToCloudWatchLogs")
	}
	return Result{Check: check, Status: OK, Message: "API Gateway's CloudWatch role in " + region + " is " + aws.ToString(out.CloudwatchRoleArn)}
}
