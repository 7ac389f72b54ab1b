// Command live-notify is the target of the bus rule for live updates: it sends each
// lifecycle event to the WebSocket connections entitled to it.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/live/push"
	"github.com/lifecycle-api/lifecycle/shared/liveapi"
)

func main() {
	fn, err := config.Start(live.FnNotify, config.LiveTableName, config.ConnectionsEndpoint)
	if err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	store := dynamo.NewLive(dynamodb.NewFromConfig(fn.AWS), fn.Env[config.LiveTableName], time.Now, live.NewTicketSecret, live.UserLimits{})
	limits := liveapi.DefaultLimits()
	pusher := push.New(push.NewClient(fn.AWS, limits.Concurrency))
	lambda.Start(liveapi.NewNotifier(store, pusher, fn.Logger, limits, time.Now).Handle)
}
