// Package wiring wires every function the way its main does and mounts them behind the
// local API Gateway stand-in. The local server (`make run`) and the integration tests
// both serve through it.
package wiring

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/local/gateway"
)

// Config is what the local stack needs.
type Config struct {
	Logger *slog.Logger
	DB     *dynamodb.Client
	Table  string
	Now    func() time.Time
	Verify gateway.Verifier
}

// Functions returns each function's Lambda handler, wired as in functions/<name>/main.go.
func Functions(c Config) map[string]gateway.Handler {
	interviews := dynamo.NewInterviews(c.DB, c.Table, c.Now)
	jobs := dynamo.NewJobs(c.DB, c.Table, c.Now, lifecycle.NewID)
	lambda := func(h http.Handler) gateway.Handler { return gateway.Handler(httpapi.Lambda(c.Logger, h)) }
	log := func(fn string) *slog.Logger { return c.Logger.With("function", fn) }
	return map[string]gateway.Handler{
		httpapi.FnCancelInterview: lambda(httpapi.CancelInterview(log(httpapi.FnCancelInterview), interviews)),
		httpapi.FnPauseInterview:  lambda(httpapi.PauseInterview(log(httpapi.FnPauseInterview), interviews)),
		httpapi.FnResumeInterview: lambda(httpapi.ResumeInterview(log(httpapi.FnResumeInterview), interviews)),
		httpapi.FnGetInterview:    lambda(httpapi.GetInterview(log(httpapi.FnGetInterview), interviews)),
		httpapi.FnListInterviews:  lambda(httpapi.ListInterviews(log(httpapi.FnListInterviews), interviews)),
		httpapi.FnCancelJob:       lambda(httpapi.CancelJob(log(httpapi.FnCancelJob), jobs)),
		httpapi.FnGetJob:          lambda(httpapi.GetJob(log(httpapi.FnGetJob), jobs)),
	}
}

// New returns the local API: every route of httpapi.Routes through its function.
func New(c Config) (http.Handler, error) {
	return gateway.New(httpapi.Routes(), Functions(c), c.Verify, c.Logger)
}
