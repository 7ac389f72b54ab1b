// Command cancel-interview is the Lambda function behind POST /interviews/{id}/cancel.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/logging"
)

func main() {
	logger := logging.New(os.Stdout, os.Getenv("LOG_LEVEL")).With("function", httpapi.FnCancelInterview)
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		logger.Error("TABLE_NAME is not set")
		os.Exit(1)
	}
	db, err := dynamo.NewClient(context.Background())
	if err != nil {
		logger.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	store := dynamo.NewInterviews(db, table, time.Now)
	lambda.Start(httpadapter.NewV2(httpapi.CancelInterview(logger, store)).ProxyWithContext)
}
