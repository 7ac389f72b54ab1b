package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// retryableCodes are DynamoDB error codes that mean "try again later": throttling and
// service-side failures. They reach us only after the SDK's own retries gave up.
var retryableCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"TransactionInProgressException":         true,
}

// storeError wraps err with what was being done, and marks throttling, service errors,
// network failures and deadlines as lifecycle.ErrUnavailable (a 503 with Retry-After)
// rather than an internal error.
func storeError(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("%s: %w: %w", op, lifecycle.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func unavailable(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && retryableCodes[apiErr.ErrorCode()] {
		return true
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		return true
	}
	// The SDK's retryer returns the quota error as a value; match a pointer too.
	if _, ok := errors.AsType[ratelimit.QuotaExceededError](err); ok {
		return true
	}
	if _, ok := errors.AsType[*ratelimit.QuotaExceededError](err); ok {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
