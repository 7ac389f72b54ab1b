// Command cancel-job is the Lambda function behind POST /jobs/{id}/cancel.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func main() {
	fn, err := config.Load(context.Background(), httpapi.FnCancelJob)
	if err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	store := dynamo.NewJobs(fn.DB, fn.Table, time.Now, lifecycle.NewID)
	lambda.Start(httpapi.Lambda(fn.Logger, httpapi.CancelJob(fn.Logger, store)))
}
