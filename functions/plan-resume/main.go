// Command plan-resume is the target of the bus rule for pauses until a time: it plans each
// resume as an EventBridge Scheduler one-time schedule.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer/schedules"
)

func main() {
	fn, err := config.Start(resumetimer.FnPlan, config.ResumeScheduleGroup, config.ResumeTargetARN, config.ResumeSchedulerRoleARN, config.ResumeDeadLetterARN)
	if err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	target := schedules.Target{
		Group: fn.Env[config.ResumeScheduleGroup], FunctionARN: fn.Env[config.ResumeTargetARN],
		RoleARN: fn.Env[config.ResumeSchedulerRoleARN], DeadLetterARN: fn.Env[config.ResumeDeadLetterARN],
		MaxRetries: schedules.MaxRetries, MaxAge: schedules.MaxAge,
	}
	planner := schedules.NewPlanner(scheduler.NewFromConfig(fn.AWS), target, time.Now)
	lambda.Start(resumetimer.PlanHandler(fn.Logger, planner))
}
