// Command live-ticket is the Lambda function behind POST /live/tickets: a single-use
// ticket for the live channel's WebSocket.
package main

import (
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/live"
)

func main() {
	fn, settings, err := config.StartHTTP(httpapi.FnLiveTicket, config.LiveTableName)
	perMinute, cerr := config.Count(config.LiveTicketsPerMinute)
	if err = errors.Join(err, cerr); err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	store := dynamo.NewLive(dynamodb.NewFromConfig(fn.AWS), fn.Env[config.LiveTableName], time.Now, live.NewTicketSecret, live.UserLimits{TicketsPerMinute: perMinute})
	lambda.Start(httpapi.Lambda(fn.Logger, httpapi.LiveTicket(fn.Logger, settings, store)))
}
