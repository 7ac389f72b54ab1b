package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NewClient builds the DynamoDB client from the environment (region, credentials, and
// AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local). Retries suit an API behind a 10 s
// timeout: up to 4 attempts with at most 1 s between them, and no client-side retry
// quota, so one burst of throttling cannot starve the requests that follow in the same
// warm process. What still fails afterwards becomes a 503.
func NewClient(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 4
			o.MaxBackoff = time.Second
			o.RateLimiter = ratelimit.None
		})
	}))
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg), nil
}
