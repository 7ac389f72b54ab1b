// Package httpapi is the HTTP face of the lifecycle functions: one net/http handler per
// Lambda function, wrapped for API Gateway by aws-lambda-go-api-proxy in each main and
// served directly by the local server. Routes are listed once, in routeTable (a
// transition's from its row), and the functions once, in Handlers.
package httpapi

import (
	"log/slog"
	"net/http"
	"slices"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Function names, as in functions/<name> and template.yaml. A transition's function is
// named by its row (lifecycle.Endpoint); these name them for the code that wires one.
const (
	FnCreateInterview = "create-interview"
	FnGetInterview    = "get-interview"
	FnListInterviews  = "list-interviews"
	FnGetJob          = "get-job"
	FnCreateJob       = "create-job"
	FnGetSchedule     = "get-schedule"
	FnListJobs        = "list-jobs"
	FnLiveTicket      = "live-ticket"
)

var (
	FnCancelInterview   = interview.Cancel.Function
	FnPauseInterview    = interview.Pause.Function
	FnResumeInterview   = interview.Resume.Function
	FnCompleteInterview = interview.Complete.Function
	FnRecordInteraction = interview.Record.Function
	FnCancelJob         = job.Cancel.Function
	FnAssignJob         = job.Assign.Function
)

// Route is one API route and the Lambda function that serves it. Pattern uses the
// net/http syntax, which is also API Gateway's route-key syntax.
type Route struct {
	Function string
	Method   string
	Path     string
	// Scopes, when set, are what the gateway asks of the caller's token before the function
	// runs (one of them): API Gateway's AuthorizationScopes, which template.yaml gives the
	// route, and the local gateway's check. A token without one is the gateway's 403.
	Scopes []string
}

// Pattern returns the route as a net/http pattern and API Gateway route key.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// apiPrefix: every route is served bare and under it.
const apiPrefix = "/api"

// routeTable is every route of the API: the routes listed in otherRoutes, and each
// lifecycle transition's, made from its row (transitionRoutes). Each function serves only
// its own rows; the local server mounts all of them; tests hold template.yaml and
// openapi.yaml to this table.
var routeTable = slices.Concat(otherRoutes, transitionRoutes(interview.Transitions, job.Transitions))

// otherRoutes are the routes that are no transition: creates, reads, the live ticket.
var otherRoutes = []Route{
	{FnCreateInterview, http.MethodPost, "/interviews", nil},
	{FnCreateInterview, http.MethodPost, "/api/interviews", nil},
	{FnGetInterview, http.MethodGet, "/interviews/{id}", nil},
	{FnGetInterview, http.MethodGet, "/api/interviews/{id}", nil},
	{FnListInterviews, http.MethodGet, "/interviews", nil},
	{FnListInterviews, http.MethodGet, "/api/interviews", nil},
	{FnCreateJob, http.MethodPost, "/jobs", nil},
	{FnCreateJob, http.MethodPost, "/api/jobs", nil},
	{FnListJobs, http.MethodGet, "/jobs", nil},
	{FnListJobs, http.MethodGet, "/api/jobs", nil},
	{FnGetJob, http.MethodGet, "/jobs/{id}", nil},
	{FnGetJob, http.MethodGet, "/api/jobs/{id}", nil},
	{FnGetSchedule, http.MethodGet, "/technicians/{id}/assignments", nil},
	{FnGetSchedule, http.MethodGet, "/api/technicians/{id}/assignments", nil},
	{FnLiveTicket, http.MethodPost, "/live/tickets", nil},
	{FnLiveTicket, http.MethodPost, "/api/live/tickets", nil},
}

// transitionRoutes are the routes of the transitions' rows: a POST on each path of a row's
// endpoint, bare and under /api. A row only a scope may take (a service's) asks the gateway
// for it; a row its owner may take too is checked by the function alone (a user's token
// carries no scope).
func transitionRoutes(interviews []interview.Transition, jobs []job.Transition) []Route {
	var out []Route
	add := func(e lifecycle.Endpoint, scopes []string) {
		for _, p := range e.Paths {
			out = append(out, Route{e.Function, http.MethodPost, p, scopes}, Route{e.Function, http.MethodPost, apiPrefix + p, scopes})
		}
	}
	for _, t := range interviews {
		var scopes []string
		if t.Who.Scope != "" && !t.Who.Owner {
			scopes = []string{t.Who.Scope}
		}
		add(t.Endpoint, scopes)
	}
	for _, t := range jobs {
		add(t.Endpoint, nil)
	}
	return out
}

// Routes returns a copy of the route table.
func Routes() []Route { return slices.Clone(routeTable) }

// CreateInterview is the create-interview function's handler; newID names a session
// created without an Idempotency-Key (lifecycle.NewID).
func CreateInterview(logger *slog.Logger, settings config.HTTP, store InterviewCreator, newID func() string) http.Handler {
	return newFunction(logger, settings, FnCreateInterview, handleCreateInterview(store, newID))
}

// InterviewTransition is the handler of the function that serves interview transition t
// (its row's endpoint): the caller, the id, the body the row takes, one guarded write, and
// the updated session in the route's shape.
func InterviewTransition(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner, t interview.Transition) http.Handler {
	respond := respondSession
	if t.Action == interview.Cancel.Action {
		respond = respondCancelled // seed 000's envelope
	}
	return newFunction(logger, settings, t.Function, handleInterviewTransition(store, t, respond))
}

// CancelInterview is the cancel-interview function's handler.
func CancelInterview(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner) http.Handler {
	return InterviewTransition(logger, settings, store, interview.Cancel)
}

// PauseInterview is the pause-interview function's handler.
func PauseInterview(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner) http.Handler {
	return InterviewTransition(logger, settings, store, interview.Pause)
}

// ResumeInterview is the resume-interview function's handler.
func ResumeInterview(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner) http.Handler {
	return InterviewTransition(logger, settings, store, interview.Resume)
}

// CompleteInterview is the complete-interview function's handler.
func CompleteInterview(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner) http.Handler {
	return InterviewTransition(logger, settings, store, interview.Complete)
}

// RecordInteraction is the record-interaction function's handler.
func RecordInteraction(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner) http.Handler {
	return InterviewTransition(logger, settings, store, interview.Record)
}

// GetInterview is the get-interview function's handler.
func GetInterview(logger *slog.Logger, settings config.HTTP, store InterviewReader) http.Handler {
	return newFunction(logger, settings, FnGetInterview, handleGetInterview(store))
}

// ListInterviews is the list-interviews function's handler.
func ListInterviews(logger *slog.Logger, settings config.HTTP, store InterviewLister) http.Handler {
	return newFunction(logger, settings, FnListInterviews, handleListInterviews(store))
}

// CreateJob is the create-job function's handler; newID names a job created without an
// Idempotency-Key (lifecycle.NewID).
func CreateJob(logger *slog.Logger, settings config.HTTP, store JobCreator, newID func() string) http.Handler {
	return newFunction(logger, settings, FnCreateJob, handleCreateJob(store, newID))
}

// GetSchedule is the get-schedule function's handler: a technician's bookings.
func GetSchedule(logger *slog.Logger, settings config.HTTP, store ScheduleReader) http.Handler {
	return newFunction(logger, settings, FnGetSchedule, handleSchedule(store))
}

// ListJobs is the list-jobs function's handler: the dispatchers' board.
func ListJobs(logger *slog.Logger, settings config.HTTP, store JobLister) http.Handler {
	return newFunction(logger, settings, FnListJobs, handleListJobs(store))
}

// JobTransition is the handler of the function that serves job transition t (its row's
// endpoint).
func JobTransition(logger *slog.Logger, settings config.HTTP, store JobTransitioner, t job.Transition) http.Handler {
	return newFunction(logger, settings, t.Function, handleJobTransition(store, t))
}

// CancelJob is the cancel-job function's handler.
func CancelJob(logger *slog.Logger, settings config.HTTP, store JobTransitioner) http.Handler {
	return JobTransition(logger, settings, store, job.Cancel)
}

// GetJob is the get-job function's handler.
func GetJob(logger *slog.Logger, settings config.HTTP, store JobReader) http.Handler {
	return newFunction(logger, settings, FnGetJob, handleGetJob(store))
}

// LiveTicket is the live-ticket function's handler.
func LiveTicket(logger *slog.Logger, settings config.HTTP, store TicketIssuer) http.Handler {
	return newFunction(logger, settings, FnLiveTicket, handleLiveTicket(store))
}

// InterviewStore is what the interview functions ask of their store; shared/dynamo's
// Interviews implements it.
type InterviewStore interface {
	InterviewCreator
	InterviewTransitioner
	InterviewReader
	InterviewLister
}

// JobStore is what the job functions ask of their store; shared/dynamo's Jobs implements it.
type JobStore interface {
	JobCreator
	JobTransitioner
	ScheduleReader
	JobReader
	JobLister
}

// Stores are the stores behind the HTTP functions.
type Stores struct {
	Interviews InterviewStore
	Jobs       JobStore
	Tickets    TicketIssuer
}

// Handlers returns every HTTP function's handler by function name, wired on s with
// settings as the function's main wires it, each logging through logger with
// function=<name> (as config tags a function's own logger). A local server can serve
// every route from this table and Routes.
func Handlers(logger *slog.Logger, settings config.HTTP, s Stores) map[string]http.Handler {
	makers := map[string]func(*slog.Logger) http.Handler{
		FnCreateInterview: func(l *slog.Logger) http.Handler { return CreateInterview(l, settings, s.Interviews, lifecycle.NewID) },
		FnGetInterview:    func(l *slog.Logger) http.Handler { return GetInterview(l, settings, s.Interviews) },
		FnListInterviews:  func(l *slog.Logger) http.Handler { return ListInterviews(l, settings, s.Interviews) },
		FnGetJob:          func(l *slog.Logger) http.Handler { return GetJob(l, settings, s.Jobs) },
		FnCreateJob:       func(l *slog.Logger) http.Handler { return CreateJob(l, settings, s.Jobs, lifecycle.NewID) },
		FnGetSchedule:     func(l *slog.Logger) http.Handler { return GetSchedule(l, settings, s.Jobs) },
		FnListJobs:        func(l *slog.Logger) http.Handler { return ListJobs(l, settings, s.Jobs) },
		FnLiveTicket:      func(l *slog.Logger) http.Handler { return LiveTicket(l, settings, s.Tickets) },
	}
	// Every transition's function, from its row.
	for _, t := range interview.Transitions {
		if len(t.Paths) == 0 {
			continue // no HTTP function: EventBridge Scheduler invokes it (shared/schedule)
		}
		makers[t.Function] = func(l *slog.Logger) http.Handler { return InterviewTransition(l, settings, s.Interviews, t) }
	}
	for _, t := range job.Transitions {
		makers[t.Function] = func(l *slog.Logger) http.Handler { return JobTransition(l, settings, s.Jobs, t) }
	}
	out := make(map[string]http.Handler, len(makers))
	for fn, mk := range makers {
		out[fn] = mk(logger.With("function", fn))
	}
	return out
}

// newFunction mounts h on fn's routes, answers anything else with a JSON 404, and
// wraps it all in the request middleware.
func newFunction(logger *slog.Logger, settings config.HTTP, fn string, h handlerFunc) http.Handler {
	mux, handler := http.NewServeMux(), serve(h)
	for _, rt := range routeTable {
		if rt.Function == fn {
			mux.Handle(rt.Pattern(), handler)
		}
	}
	mux.Handle("/", handleNoRoute())
	return withRequest(logger, fn, settings, mux)
}

// handleNoRoute answers requests no route of the function matches, whatever the method,
// with a 404. API Gateway never sends a function such a request (a method or path no route
// has gets the gateway's own 404); this only keeps a misrouted request from reaching a
// handler.
func handleNoRoute() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Not logged beyond the access line, whose outcome is the code. These bodies have
		// never carried a requestId; the correlation id is in the response header.
		writeError(w, scopeOf(r).fn, "", errRouteNotFound)
	})
}
