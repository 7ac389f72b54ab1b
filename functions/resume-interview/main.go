// Command resume-interview is the Lambda function behind POST /interviews/{id}/resume.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func main() {
	fn, settings, err := config.StartHTTP(interview.Resume.Function, config.TableName)
	if err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	store := dynamo.NewInterviews(dynamodb.NewFromConfig(fn.AWS), fn.Env[config.TableName], time.Now, lifecycle.NewID)
	lambda.Start(httpapi.Lambda(fn.Logger, httpapi.InterviewTransition(fn.Logger, settings, store, interview.Resume)))
}
