// Command publish-events reads the table's stream and publishes each committed transition
// on the event bus (docs/events.md lists the detail-types).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/eventbus"
)

func main() {
	fn, err := config.Start(eventbus.FnPublishEvents, config.EventBusName)
	if err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	publisher := eventbus.NewPublisher(eventbridge.NewFromConfig(fn.AWS), fn.Env[config.EventBusName], fn.Logger)
	lambda.Start(publisher.Handle)
}
