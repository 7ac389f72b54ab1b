// Package wiring wires every HTTP function the way its main does, from httpapi's table of
// functions, and mounts them behind the local API Gateway stand-in; and wires the live
// channel's functions (the WebSocket routes and the notifier) as their mains do. The local
// server (`make run`) and the integration tests both serve through it; a new function in
// httpapi's table is served here with no change.
package wiring

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/auth"
	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/live/push"
	"github.com/lifecycle-api/lifecycle/shared/liveapi"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer/schedules"
	"github.com/lifecycle-api/lifecycle/tools/local/gateway"
	"github.com/lifecycle-api/lifecycle/tools/local/livegateway"
	"github.com/lifecycle-api/lifecycle/tools/local/schedulefire"
)

// Config is what the local stack needs.
type Config struct {
	Logger *slog.Logger
	DB     *dynamodb.Client
	Table  string
	// LiveTable holds the live channel's tickets and connections.
	LiveTable string
	Now       func() time.Time
	Verify    gateway.Verifier
	// CORS is the API's CORS configuration; nil answers no preflight.
	CORS *gateway.CORS
	// Stores, when set, builds the stores the functions are wired on, in place of
	// shared/dynamo's (a test puts a deliberately broken store there, to prove that a
	// checker catches it).
	Stores func(db *dynamodb.Client, table string) httpapi.Stores
	// Replace serves these functions with other handlers than their in-process ones (for
	// example their real bootstraps under the Runtime API).
	Replace map[string]gateway.Handler
	// LiveLimits, when set, replace the per-caller limits of the live channel (nil:
	// live.DefaultUserLimits, the template's defaults).
	LiveLimits *live.UserLimits
	// ResumeMinLead, when set, is how far ahead a pause's resumeAt must be in place of the
	// product's interview.MinResumeLead (tests pause for seconds).
	ResumeMinLead time.Duration
}

// Defaults are the HTTP functions' settings as template.yaml's parameter defaults give
// them (tests/template holds the two together): roles from cognito:groups, reasons logged.
func Defaults() config.HTTP {
	return config.HTTP{RolesClaim: auth.DefaultRolesClaim, LogReasons: true}
}

// Env is the environment that gives a function process settings s, as template.yaml
// sets it.
func Env(s config.HTTP) []string {
	limits := live.DefaultUserLimits()
	return []string{config.RolesClaim + "=" + s.RolesClaim, config.LogReasons + "=" + strconv.FormatBool(s.LogReasons),
		config.LiveAllowedOrigins + "=" + strings.Join(LiveOrigins(), ","),
		config.LiveConnectionsPerUser + "=" + strconv.Itoa(limits.Connections),
		config.LiveTicketsPerMinute + "=" + strconv.Itoa(limits.TicketsPerMinute)}
}

// LiveOrigins are the origins the local live channel admits: any, since the local server's
// own address (the console's page) is chosen when it starts. Its unit tests hold the check.
func LiveOrigins() live.Origins { return live.Origins{"*"} }

// Functions returns each function's Lambda handler, wired as in functions/<name>/main.go.
func Functions(c Config) map[string]gateway.Handler {
	stores := stores(c)
	if stores.Tickets == nil {
		stores.Tickets = LiveStore(c)
	}
	out := map[string]gateway.Handler{}
	for fn, h := range httpapi.Handlers(c.Logger, Defaults(), stores) {
		out[fn] = gateway.Handler(httpapi.Lambda(c.Logger, h))
	}
	maps.Copy(out, c.Replace)
	return out
}

// stores are the stores the functions are wired on: c.Stores when set, else shared/dynamo's,
// the interview store keeping the product's resumeAt bounds (with ResumeMinLead as the
// minimum lead when set).
func stores(c Config) httpapi.Stores {
	if c.Stores != nil {
		return c.Stores(c.DB, c.Table)
	}
	bounds := interview.DefaultResumeBounds
	if c.ResumeMinLead > 0 {
		bounds.MinLead = c.ResumeMinLead
	}
	return httpapi.Stores{
		Interviews: dynamo.NewInterviews(c.DB, c.Table, c.Now, lifecycle.NewID).WithResumeBounds(bounds),
		Jobs:       dynamo.NewJobs(c.DB, c.Table, c.Now, lifecycle.NewID),
	}
}

// New returns the local API: every route of httpapi.Routes through its function.
func New(c Config) (http.Handler, error) {
	return gateway.New(httpapi.Routes(), Functions(c), c.Verify, c.CORS, c.Logger)
}

// LiveStore is the live channel's store (tickets and connections), as the live functions
// build it.
func LiveStore(c Config) *dynamo.Live {
	limits := live.DefaultUserLimits()
	if c.LiveLimits != nil {
		limits = *c.LiveLimits
	}
	return dynamo.NewLive(c.DB, c.LiveTable, c.Now, live.NewTicketSecret, limits)
}

// LiveRoutes returns the WebSocket routes' handlers, wired as in functions/live-connect,
// live-disconnect and live-default.
func LiveRoutes(c Config) livegateway.Functions {
	tag := func(fn string) *slog.Logger { return c.Logger.With("function", fn) }
	store := LiveStore(c)
	return livegateway.Functions{
		Connect:    liveapi.Connect(tag(live.FnConnect), store, c.Now, LiveOrigins()),
		Disconnect: liveapi.Disconnect(tag(live.FnDisconnect), store, c.Now),
		Default:    liveapi.Default(tag(live.FnDefault), c.Now),
	}
}

// Notifier returns the live-notify handler, wired as in functions/live-notify, pushing
// through connections (the management API client, pointed at a livegateway).
func Notifier(c Config, connections push.ConnectionsAPI, limits liveapi.Limits) *liveapi.Notifier {
	return liveapi.NewNotifier(LiveStore(c), push.New(connections), c.Logger.With("function", live.FnNotify), limits, c.Now)
}

// ResumeScheduledARN is the local name of resume-scheduled that the local schedules target
// (the key of its handler in a schedulefire.Firer), shaped as the alias ARN plan-resume is
// given in AWS. ResumeSchedulerRoleARN is the role they name (moto requires one; nothing
// assumes it locally).
const (
	ResumeScheduledARN     = "arn:aws:lambda:us-east-1:123456789012:function:resume-scheduled:live"
	ResumeSchedulerRoleARN = "arn:aws:iam::123456789012:role/resume-scheduler"
)

// ResumeTarget is where the local planner's schedules deliver, as functions/plan-resume
// reads it from its environment: resume-scheduled by its local name, in group, dead-lettering
// to the queue dlqARN, with the product's retry policy.
func ResumeTarget(group, dlqARN string) schedules.Target {
	return schedules.Target{
		Group: group, FunctionARN: ResumeScheduledARN, RoleARN: ResumeSchedulerRoleARN, DeadLetterARN: dlqARN,
		MaxRetries: schedules.MaxRetries, MaxAge: schedules.MaxAge,
	}
}

// PlanResume returns plan-resume's handler, wired as in functions/plan-resume: schedules
// made through api (moto's EventBridge Scheduler locally), delivering to target.
func PlanResume(c Config, api schedules.SchedulerAPI, target schedules.Target) func(context.Context, events.EventBridgeEvent) error {
	return resumetimer.PlanHandler(c.Logger.With("function", resumetimer.FnPlan), schedules.NewPlanner(api, target, c.Now))
}

// ResumeScheduled returns resume-scheduled's handler, wired as in functions/resume-scheduled
// on the interview store the HTTP functions are wired on, as a schedule's target.
func ResumeScheduled(c Config) schedulefire.Target {
	return schedulefire.JSON(resumetimer.ResumeHandler(c.Logger.With("function", interview.ScheduledResume.Function), stores(c).Interviews))
}
