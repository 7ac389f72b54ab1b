// Command resume-scheduled is the target of the planned resumes' schedules: it resumes a
// session paused until a time, if that pause is still the session's latest transition.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
)

func main() {
	fn, err := config.Start(interview.ScheduledResume.Function, config.TableName)
	if err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	store := dynamo.NewInterviews(dynamodb.NewFromConfig(fn.AWS), fn.Env[config.TableName], time.Now, lifecycle.NewID)
	lambda.Start(resumetimer.ResumeHandler(fn.Logger, store))
}
