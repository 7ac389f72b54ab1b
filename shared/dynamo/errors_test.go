package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// sdkShaped wraps err the way the SDK returns a failed call: an OperationError around an
// HTTP ResponseError around the service's error.
func sdkShaped(status int, err error) error {
	return &smithy.OperationError{
		ServiceID:     "DynamoDB",
		OperationName: "UpdateItem",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      err,
			},
			RequestID: "req-1",
		},
	}
}

func apiErr(code string) *smithy.GenericAPIError {
	return &smithy.GenericAPIError{Code: code, Message: "msg for " + code}
}

func netOpErr() *net.OpError {
	return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
}

func TestStoreErrorUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"ProvisionedThroughputExceededException", apiErr("ProvisionedThroughputExceededException")},
		{"ThrottlingException", apiErr("ThrottlingException")},
		{"RequestLimitExceeded", apiErr("RequestLimitExceeded")},
		{"InternalServerError", apiErr("InternalServerError")},
		{"ServiceUnavailable", apiErr("ServiceUnavailable")},
		{"TransactionInProgressException", apiErr("TransactionInProgressException")},
		{"typed ProvisionedThroughputExceededException", &types.ProvisionedThroughputExceededException{Message: new("slow down")}},
		{"typed RequestLimitExceeded", &types.RequestLimitExceeded{Message: new("slow down")}},
		{"typed InternalServerError", &types.InternalServerError{Message: new("oops")}},
		{"throttling, sdk shaped", sdkShaped(400, apiErr("ThrottlingException"))},
		{"provisioned throughput, sdk shaped", sdkShaped(400, apiErr("ProvisionedThroughputExceededException"))},
		{"any 5xx response", sdkShaped(503, errors.New("service unavailable"))},
		{"500 response with unknown code", sdkShaped(500, apiErr("SomethingOdd"))},
		{"net.OpError", netOpErr()},
		{"net.OpError wrapped", fmt.Errorf("send request: %w", netOpErr())},
		{"net.OpError sdk shaped", &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "UpdateItem", Err: netOpErr()}},
		{"net.DNSError", &net.DNSError{Err: "no such host", Name: "dynamodb.local", IsTimeout: true}},
		{"context.DeadlineExceeded", context.DeadlineExceeded},
		{"context.DeadlineExceeded wrapped", fmt.Errorf("operation error DynamoDB: UpdateItem: %w", context.DeadlineExceeded)},
		{"ratelimit.QuotaExceededError pointer", &ratelimit.QuotaExceededError{}},
		{"ratelimit.QuotaExceededError pointer wrapped", fmt.Errorf("failed to get rate limit token, %w", &ratelimit.QuotaExceededError{Available: 0, Requested: 5})},
		{"throttle joined with quota error (as the retryer returns it)", errors.Join(apiErr("ThrottlingException"), fmt.Errorf("failed to get rate limit token, %w", ratelimit.QuotaExceededError{Requested: 5}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storeError("update interview", tt.err)
			if !errors.Is(got, lifecycle.ErrUnavailable) {
				t.Fatalf("storeError(%v) = %v, want it to wrap ErrUnavailable", tt.err, got)
			}
			checkWrapsOriginal(t, got, tt.err)
		})
	}
}

// TestStoreErrorQuotaExceededByValue: the SDK's token bucket returns
// ratelimit.QuotaExceededError as a value (aws/ratelimit/token_rate_limit.go:
// `return nil, QuotaExceededError{...}`) and the standard retryer wraps it with
// fmt.Errorf("failed to get rate limit token, %w", err). A retry quota running out is a
// "try again later" condition and must be ErrUnavailable.
func TestStoreErrorQuotaExceededByValue(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"bare value", ratelimit.QuotaExceededError{Available: 0, Requested: 5}},
		{"as the standard retryer wraps it", fmt.Errorf("failed to get rate limit token, %w", ratelimit.QuotaExceededError{Available: 0, Requested: 5})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storeError("update interview", tt.err)
			if !errors.Is(got, lifecycle.ErrUnavailable) {
				t.Errorf("storeError(%v) = %q, want it to wrap ErrUnavailable", tt.err, got)
			}
			if _, ok := errors.AsType[ratelimit.QuotaExceededError](got); !ok {
				t.Errorf("original QuotaExceededError not reachable")
			}
		})
	}
}

func TestStoreErrorNotUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"ValidationException", apiErr("ValidationException")},
		{"ResourceNotFoundException", apiErr("ResourceNotFoundException")},
		{"ConditionalCheckFailedException", apiErr("ConditionalCheckFailedException")},
		{"AccessDeniedException", apiErr("AccessDeniedException")},
		{"typed ResourceNotFoundException", &types.ResourceNotFoundException{Message: new("no table")}},
		{"typed ConditionalCheckFailedException", &types.ConditionalCheckFailedException{Message: new("nope")}},
		{"ValidationException, sdk shaped 400", sdkShaped(400, apiErr("ValidationException"))},
		{"ResourceNotFoundException, sdk shaped 400", sdkShaped(400, apiErr("ResourceNotFoundException"))},
		{"lower-case throttling code is not a known code", apiErr("throttlingexception")},
		{"plain error", errors.New("boom")},
		{"plain error mentioning throttling", errors.New("ThrottlingException")},
		{"wrapped plain error", fmt.Errorf("x: %w", errors.New("boom"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storeError("update interview", tt.err)
			if errors.Is(got, lifecycle.ErrUnavailable) {
				t.Fatalf("storeError(%v) = %v, must not be ErrUnavailable", tt.err, got)
			}
			for _, sentinel := range []error{lifecycle.ErrNotFound, lifecycle.ErrForbidden, lifecycle.ErrConflict, lifecycle.ErrUnauthenticated} {
				if errors.Is(got, sentinel) {
					t.Errorf("storeError(%v) unexpectedly Is %v", tt.err, sentinel)
				}
			}
			checkWrapsOriginal(t, got, tt.err)
		})
	}
}

func checkWrapsOriginal(t *testing.T, got, orig error) {
	t.Helper()
	if got == nil {
		t.Fatal("storeError returned nil")
	}
	if !errors.Is(got, orig) {
		t.Errorf("errors.Is(%v, original) = false", got)
	}
	if !strings.HasPrefix(got.Error(), "update interview: ") {
		t.Errorf("message %q does not start with the operation", got.Error())
	}
	if !strings.Contains(got.Error(), orig.Error()) {
		t.Errorf("message %q does not carry the original %q", got.Error(), orig.Error())
	}
	var api smithy.APIError
	if errors.As(orig, &api) {
		var gotAPI smithy.APIError
		if !errors.As(got, &gotAPI) || gotAPI.ErrorCode() != api.ErrorCode() {
			t.Errorf("APIError with code %q not reachable via errors.As", api.ErrorCode())
		}
	}
	var op *net.OpError
	if errors.As(orig, &op) {
		if gotOp, ok := errors.AsType[*net.OpError](got); !ok || gotOp != op {
			t.Errorf("*net.OpError not reachable via errors.As")
		}
	}
	var q *ratelimit.QuotaExceededError
	if errors.As(orig, &q) {
		if gotQ, ok := errors.AsType[*ratelimit.QuotaExceededError](got); !ok || gotQ != q {
			t.Errorf("*ratelimit.QuotaExceededError not reachable via errors.As")
		}
	}
	if errors.Is(orig, context.DeadlineExceeded) && !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("context.DeadlineExceeded not reachable via errors.Is")
	}
}

func TestStoreErrorUnavailableMessage(t *testing.T) {
	got := storeError("update interview", apiErr("ThrottlingException"))
	want := "update interview: temporarily unavailable: api error ThrottlingException: msg for ThrottlingException"
	if got.Error() != want {
		t.Errorf("Error() = %q, want %q", got.Error(), want)
	}
	got = storeError("update interview", errors.New("boom"))
	if want := "update interview: boom"; got.Error() != want {
		t.Errorf("Error() = %q, want %q", got.Error(), want)
	}
}
