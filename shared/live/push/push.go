// Package push sends messages to WebSocket connections through API Gateway's @connections
// management API: the live.Pusher the notifier uses. Its endpoint is the WebSocket API's
// own stage URL, from AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI (template.yaml sets it; the
// local stack points it at its own @connections endpoint).
package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"

	"github.com/lifecycle-api/lifecycle/shared/live"
)

// ConnectionsAPI is the part of the management API client the pusher uses.
type ConnectionsAPI interface {
	PostToConnection(ctx context.Context, in *apigatewaymanagementapi.PostToConnectionInput, opts ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error)
	DeleteConnection(ctx context.Context, in *apigatewaymanagementapi.DeleteConnectionInput, opts ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.DeleteConnectionOutput, error)
}

// Pusher posts to connections.
type Pusher struct{ api ConnectionsAPI }

// New returns a pusher over api.
func New(api ConnectionsAPI) *Pusher { return &Pusher{api: api} }

// NewClient returns the management API client for cfg, shaped for a fan-out of up to
// concurrency sends at once: that many pooled connections to the endpoint, and one attempt
// per call (the notifier retries what fails, and knows a 410 is final). optFns apply last.
func NewClient(cfg aws.Config, concurrency int, optFns ...func(*apigatewaymanagementapi.Options)) *apigatewaymanagementapi.Client {
	shape := func(o *apigatewaymanagementapi.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns, t.MaxIdleConnsPerHost = concurrency, concurrency
		})
		o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1)
	}
	return apigatewaymanagementapi.NewFromConfig(cfg, append([]func(*apigatewaymanagementapi.Options){shape}, optFns...)...)
}

// Push sends data to the connection; a 410 (GoneException) is live.ErrGone.
func (p *Pusher) Push(ctx context.Context, connectionID string, data []byte) error {
	_, err := p.api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(connectionID), Data: data})
	return connectionError("post to connection", err)
}

// Disconnect closes the connection; one already gone is live.ErrGone.
func (p *Pusher) Disconnect(ctx context.Context, connectionID string) error {
	_, err := p.api.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(connectionID)})
	return connectionError("delete connection", err)
}

func connectionError(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, gone := errors.AsType[*types.GoneException](err); gone {
		return fmt.Errorf("%w: %w", live.ErrGone, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
