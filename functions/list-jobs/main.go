// Command list-jobs is the Lambda function behind GET /jobs: the dispatchers' board.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func main() {
	fn, settings, err := config.StartHTTP(httpapi.FnListJobs, config.TableName)
	if err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	store := dynamo.NewJobs(dynamodb.NewFromConfig(fn.AWS), fn.Env[config.TableName], time.Now, lifecycle.NewID)
	lambda.Start(httpapi.Lambda(fn.Logger, httpapi.ListJobs(fn.Logger, settings, store)))
}
