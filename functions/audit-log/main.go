// Command audit-log is the example event consumer: it records each lifecycle event from
// its SQS queue in the audit table, once per event id.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/auditlog"
	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
)

func main() {
	fn, err := config.Start(auditlog.FnAuditLog, config.AuditTableName, config.AuditRetentionDays)
	var retention time.Duration
	if err == nil {
		retention, err = config.Days(fn.Env, config.AuditRetentionDays)
	}
	if err != nil {
		fn.Logger.Error("start", "err", err)
		os.Exit(1)
	}
	store := dynamo.NewAuditLog(dynamodb.NewFromConfig(fn.AWS), fn.Env[config.AuditTableName], retention)
	lambda.Start(auditlog.Handler(fn.Logger, store, time.Now))
}
