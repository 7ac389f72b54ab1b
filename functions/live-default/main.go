// Command live-default is the live channel's $default route: it answers a client's ping
// (the channel only sends; anything else gets an error message).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/liveapi"
)

func main() {
	lambda.Start(liveapi.Default(config.Logger(live.FnDefault), time.Now))
}
