// Package httpapi is the HTTP face of the lifecycle functions: one net/http handler per
// Lambda function, wrapped for API Gateway by aws-lambda-go-api-proxy in each main and
// served directly by the local server. Routes are listed once, in routeTable, and the
// functions once, in Handlers.
package httpapi

import (
	"log/slog"
	"net/http"
	"slices"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Function names, as in functions/<name> and template.yaml.
const (
	FnCreateInterview   = "create-interview"
	FnCancelInterview   = "cancel-interview"
	FnPauseInterview    = "pause-interview"
	FnResumeInterview   = "resume-interview"
	FnCompleteInterview = "complete-interview"
	FnRecordInteraction = "record-interaction"
	FnGetInterview      = "get-interview"
	FnListInterviews    = "list-interviews"
	FnCancelJob         = "cancel-job"
	FnGetJob            = "get-job"
	FnLiveTicket        = "live-ticket"
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

// routeTable is every route of the API. Each function serves only its own rows; the local
// server mounts all of them; tests hold template.yaml and openapi.yaml to this table.
var routeTable = []Route{
	{FnCreateInterview, http.MethodPost, "/interviews", nil},
	{FnCreateInterview, http.MethodPost, "/api/interviews", nil},
	{FnCancelInterview, http.MethodPost, "/interviews/{id}/cancel", nil},
	{FnCancelInterview, http.MethodPost, "/api/interviews/{id}/cancel", nil},
	{FnCancelInterview, http.MethodPost, "/interview/{id}/cancel", nil},     // seed 000's path, bare
	{FnCancelInterview, http.MethodPost, "/api/interview/{id}/cancel", nil}, // seed 000's path
	{FnPauseInterview, http.MethodPost, "/interviews/{id}/pause", nil},
	{FnPauseInterview, http.MethodPost, "/api/interviews/{id}/pause", nil},
	{FnResumeInterview, http.MethodPost, "/interviews/{id}/resume", nil},
	{FnResumeInterview, http.MethodPost, "/api/interviews/{id}/resume", nil},
	{FnCompleteInterview, http.MethodPost, "/interviews/{id}/complete", nil},
	{FnCompleteInterview, http.MethodPost, "/api/interviews/{id}/complete", nil},
	// Services only (the conversation service): a token with the scope.
	{FnRecordInteraction, http.MethodPost, "/interviews/{id}/interactions", []string{interview.ScopeProgress}},
	{FnRecordInteraction, http.MethodPost, "/api/interviews/{id}/interactions", []string{interview.ScopeProgress}},
	{FnGetInterview, http.MethodGet, "/interviews/{id}", nil},
	{FnGetInterview, http.MethodGet, "/api/interviews/{id}", nil},
	{FnListInterviews, http.MethodGet, "/interviews", nil},
	{FnListInterviews, http.MethodGet, "/api/interviews", nil},
	{FnCancelJob, http.MethodPost, "/jobs/{id}/cancel", nil},
	{FnCancelJob, http.MethodPost, "/api/jobs/{id}/cancel", nil},
	{FnGetJob, http.MethodGet, "/jobs/{id}", nil},
	{FnGetJob, http.MethodGet, "/api/jobs/{id}", nil},
	{FnLiveTicket, http.MethodPost, "/live/tickets", nil},
	{FnLiveTicket, http.MethodPost, "/api/live/tickets", nil},
}

// Routes returns a copy of the route table.
func Routes() []Route { return slices.Clone(routeTable) }

// CreateInterview is the create-interview function's handler; newID names a session
// created without an Idempotency-Key (lifecycle.NewID).
func CreateInterview(logger *slog.Logger, settings config.HTTP, store InterviewCreator, newID func() string) http.Handler {
	return newFunction(logger, settings, FnCreateInterview, handleCreateInterview(store, newID))
}

// CancelInterview is the cancel-interview function's handler.
func CancelInterview(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner) http.Handler {
	return newFunction(logger, settings, FnCancelInterview,
		handleInterviewTransition(store, FnCancelInterview, interview.Cancel, respondCancelled))
}

// PauseInterview is the pause-interview function's handler.
func PauseInterview(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner) http.Handler {
	return newFunction(logger, settings, FnPauseInterview,
		handleInterviewTransition(store, FnPauseInterview, interview.Pause, respondSession))
}

// ResumeInterview is the resume-interview function's handler.
func ResumeInterview(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner) http.Handler {
	return newFunction(logger, settings, FnResumeInterview,
		handleInterviewTransition(store, FnResumeInterview, interview.Resume, respondSession))
}

// RecordInteraction is the record-interaction function's handler.
func RecordInteraction(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner) http.Handler {
	return newFunction(logger, settings, FnRecordInteraction,
		handleInterviewTransition(store, FnRecordInteraction, interview.Record, respondSession))
}

// CompleteInterview is the complete-interview function's handler.
func CompleteInterview(logger *slog.Logger, settings config.HTTP, store InterviewTransitioner) http.Handler {
	return newFunction(logger, settings, FnCompleteInterview,
		handleInterviewTransition(store, FnCompleteInterview, interview.Complete, respondSession))
}

// GetInterview is the get-interview function's handler.
func GetInterview(logger *slog.Logger, settings config.HTTP, store InterviewReader) http.Handler {
	return newFunction(logger, settings, FnGetInterview, handleGetInterview(store))
}

// ListInterviews is the list-interviews function's handler.
func ListInterviews(logger *slog.Logger, settings config.HTTP, store InterviewLister) http.Handler {
	return newFunction(logger, settings, FnListInterviews, handleListInterviews(store))
}

// CancelJob is the cancel-job function's handler.
func CancelJob(logger *slog.Logger, settings config.HTTP, store JobCanceller) http.Handler {
	return newFunction(logger, settings, FnCancelJob, handleCancelJob(store))
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
	JobCanceller
	JobReader
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
		FnCancelInterview: func(l *slog.Logger) http.Handler { return CancelInterview(l, settings, s.Interviews) },
		FnPauseInterview:  func(l *slog.Logger) http.Handler { return PauseInterview(l, settings, s.Interviews) },
		FnResumeInterview: func(l *slog.Logger) http.Handler { return ResumeInterview(l, settings, s.Interviews) },
		FnCompleteInterview: func(l *slog.Logger) http.Handler {
			return CompleteInterview(l, settings, s.Interviews)
		},
		FnRecordInteraction: func(l *slog.Logger) http.Handler {
			return RecordInteraction(l, settings, s.Interviews)
		},
		FnGetInterview:   func(l *slog.Logger) http.Handler { return GetInterview(l, settings, s.Interviews) },
		FnListInterviews: func(l *slog.Logger) http.Handler { return ListInterviews(l, settings, s.Interviews) },
		FnCancelJob:      func(l *slog.Logger) http.Handler { return CancelJob(l, settings, s.Jobs) },
		FnGetJob:         func(l *slog.Logger) http.Handler { return GetJob(l, settings, s.Jobs) },
		FnLiveTicket:     func(l *slog.Logger) http.Handler { return LiveTicket(l, settings, s.Tickets) },
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
