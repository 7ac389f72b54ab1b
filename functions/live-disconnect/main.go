// Command live-disconnect is the live channel's $disconnect route: it forgets the
// connection.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/liveapi"
)

func main() {
	fn, err := config.Start(live.FnDisconnect, config.LiveTableName)
	if err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	store := dynamo.NewLive(dynamodb.NewFromConfig(fn.AWS), fn.Env[config.LiveTableName], time.Now, live.NewTicketSecret, live.UserLimits{})
	lambda.Start(liveapi.Disconnect(fn.Logger, store, time.Now))
}
