package httpapi

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// errorBody is every error response: the seeds' "error" text, plus a machine-readable
// code, optional details, the entity's current status when a transition was refused, and
// the request id to quote when asking for help (API Gateway's, as in its access log).
type errorBody struct {
	Error         string `json:"error"`
	Code          string `json:"code,omitempty"`
	Details       string `json:"details,omitempty"`
	CurrentStatus string `json:"currentStatus,omitempty"`
	// ConflictingJobID names the job whose booking a refused one overlaps.
	ConflictingJobID string `json:"conflictingJobId,omitempty"`
	RequestID        string `json:"requestId,omitempty"`
}

// InvalidRequestError is a client mistake in the path, query or body (400).
type InvalidRequestError struct{ Details string }

func (e *InvalidRequestError) Error() string { return "invalid request: " + e.Details }

func invalid(details string) error { return &InvalidRequestError{Details: details} }

var (
	errBodyTooLarge         = errors.New("request body too large")
	errUnsupportedMediaType = errors.New("unsupported media type")
	// errRouteNotFound: no route of the function matches the path, under any method.
	errRouteNotFound = errors.New("no route matches the path")
)

// Error codes: the "code" of every error body, as openapi.yaml's Error schema lists them.
// The access log's outcome is the code, so dashboards and alarms key on these too.
const (
	codeInvalidRequest       = "INVALID_REQUEST"
	codePayloadTooLarge      = "PAYLOAD_TOO_LARGE"
	codeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	codeUnauthorized         = "UNAUTHORIZED"
	codeForbidden            = "FORBIDDEN"
	codeNotFound             = "NOT_FOUND"
	codeInvalidTransition    = "INVALID_TRANSITION"
	codeIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
	codeConflict             = "CONFLICT"
	codeBookingConflict      = "BOOKING_CONFLICT"
	codeUnavailable          = "UNAVAILABLE"
	codeRateLimited          = "RATE_LIMITED"
	codeRouteNotFound        = "ROUTE_NOT_FOUND"
	codeInternal             = "INTERNAL"
)

// refusals is the per-function half of the error table, by function name: how each
// function words "not found" and "not allowed from this status". A transition's come from
// its row (lifecycle.Refusals); the reads' are here.
var refusals = func() map[string]lifecycle.Refusals {
	out := map[string]lifecycle.Refusals{
		FnGetInterview: {NotFound: "Interview session not found"},
		FnGetJob:       {NotFound: "Job not found"},
	}
	for _, t := range interview.Transitions {
		if len(t.Paths) == 0 {
			continue // served by no route (a scheduled resume)
		}
		out[t.Function] = t.Refusals
	}
	for _, t := range job.Transitions {
		out[t.Function] = t.Refusals
	}
	return out
}()

// failure maps an error to its HTTP status and body. It is the one place that does so:
// handler errors, a request outside the function's routes, a panic, and an event the adapter cannot read all come
// here. Any error it does not know is a 500 with a fixed body.
func failure(fn string, err error) (int, errorBody) {
	ref := refusals[fn]
	var invalidReq *InvalidRequestError
	var invalidInput *lifecycle.InvalidInputError
	var badTransition *lifecycle.InvalidTransitionError
	var booked *job.BookingConflictError
	var limited *lifecycle.RateLimitedError
	switch {
	case errors.Is(err, errRouteNotFound):
		return http.StatusNotFound, errorBody{Error: "Not Found", Code: codeRouteNotFound}
	case errors.As(err, &invalidReq):
		return http.StatusBadRequest, errorBody{Error: "Invalid request", Code: codeInvalidRequest, Details: invalidReq.Details}
	case errors.As(err, &invalidInput):
		return http.StatusBadRequest, errorBody{Error: "Invalid request", Code: codeInvalidRequest, Details: invalidInput.Details}
	case errors.Is(err, lifecycle.ErrInvalidCursor):
		return http.StatusBadRequest, errorBody{Error: "Invalid request", Code: codeInvalidRequest, Details: "cursor is malformed or was issued for another listing (another caller or status filter)"}
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, errorBody{Error: "Request body too large", Code: codePayloadTooLarge, Details: "the body must be at most 16384 bytes"}
	case errors.Is(err, errUnsupportedMediaType):
		return http.StatusUnsupportedMediaType, errorBody{Error: "Unsupported media type", Code: codeUnsupportedMediaType, Details: "send the body as application/json"}
	case errors.Is(err, lifecycle.ErrUnauthenticated):
		return http.StatusUnauthorized, errorBody{Error: "Unauthorized", Code: codeUnauthorized}
	case errors.Is(err, lifecycle.ErrForbidden):
		return http.StatusForbidden, errorBody{Error: "Forbidden", Code: codeForbidden}
	case errors.Is(err, lifecycle.ErrNotFound):
		return http.StatusNotFound, errorBody{Error: ref.NotFound, Code: codeNotFound}
	case errors.As(err, &badTransition):
		status := http.StatusBadRequest
		if ref.AsNotFound {
			status = http.StatusNotFound
		}
		return status, errorBody{
			Error:         ref.Message(badTransition.Current),
			Code:          codeInvalidTransition,
			Details:       "current status is " + badTransition.Current,
			CurrentStatus: badTransition.Current,
		}
	case errors.Is(err, lifecycle.ErrIdempotencyKeyReused):
		return http.StatusUnprocessableEntity, errorBody{Error: "Idempotency-Key was already used for a different request", Code: codeIdempotencyKeyReused,
			Details: "send a new key for a new request; reuse a key only to retry the same request"}
	case errors.As(err, &booked):
		return http.StatusConflict, errorBody{Error: "The technician is already booked", Code: codeBookingConflict,
			Details: fmt.Sprintf("%s is booked on job %s from %s; choose another window or technician", booked.TechnicianID, booked.JobID,
				lifecycle.FormatTime(booked.Slot)),
			ConflictingJobID: booked.JobID}
	case errors.Is(err, lifecycle.ErrConflict):
		return http.StatusConflict, errorBody{Error: "Conflict", Code: codeConflict, Details: "the record changed while the request was processed; retry"}
	case errors.As(err, &limited):
		return http.StatusTooManyRequests, errorBody{Error: "Too Many Requests", Code: codeRateLimited,
			Details: "at most " + limited.Limit + "; retry after the Retry-After seconds"}
	case errors.Is(err, lifecycle.ErrUnavailable):
		return http.StatusServiceUnavailable, errorBody{Error: "Service Unavailable", Code: codeUnavailable}
	default:
		return http.StatusInternalServerError, errorBody{Error: "Internal Server Error", Code: codeInternal}
	}
}

// retryAfterSeconds is the Retry-After sent with 503s.
const retryAfterSeconds = "1"

// handlerFunc is a route's handler: it writes the success response, or returns the error
// that stopped it, for serve to answer. It never writes an error response itself.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// serve is the one path from a handler's error to its response: respondError logs it and
// answers it from the error table.
func serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			respondError(w, r, err)
		}
	})
}

// respondError writes err's response and logs err once, at a level matching who is at
// fault, with every field the handler added to the request's logger. Internal errors are
// logged with their cause but answered with a fixed body.
func respondError(w http.ResponseWriter, r *http.Request, err error) {
	scope := scopeOf(r)
	status, code := writeError(w, scope.fn, scope.ids.requestID, err)
	switch {
	case status >= 500:
		scope.log.Error("request failed", "status", status, "code", code, "err", err)
	default:
		scope.log.Warn("request refused", "status", status, "code", code, "err", err.Error())
	}
}

// writeError writes err's response for function fn: the status and body failure maps it
// to, with requestID in the body when it is not empty, and the headers that go with the
// status. It records the code for the access log, and returns the status and code.
func writeError(w http.ResponseWriter, fn, requestID string, err error) (int, string) {
	status, body := failure(fn, err)
	body.RequestID = requestID
	if rec, ok := w.(*statusRecorder); ok {
		rec.code = body.Code
	}
	var limited *lifecycle.RateLimitedError
	switch status {
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterSeconds)
	case http.StatusTooManyRequests:
		if errors.As(err, &limited) {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(limited.RetryAfter.Seconds()))))
		}
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	encode(w, status, body)
	return status, body.Code
}
