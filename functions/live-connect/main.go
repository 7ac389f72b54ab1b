// Command live-connect is the live channel's $connect route: it redeems the client's
// ticket and records the connection.
package main

import (
	"errors"
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
	fn, err := config.Start(live.FnConnect, config.LiveTableName, config.LiveAllowedOrigins)
	perUser, cerr := config.Count(config.LiveConnectionsPerUser)
	if err = errors.Join(err, cerr); err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	store := dynamo.NewLive(dynamodb.NewFromConfig(fn.AWS), fn.Env[config.LiveTableName], time.Now, live.NewTicketSecret, live.UserLimits{Connections: perUser})
	lambda.Start(liveapi.Connect(fn.Logger, store, time.Now, live.ParseOrigins(fn.Env[config.LiveAllowedOrigins])))
}
