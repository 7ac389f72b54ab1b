package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/metrics"
)

// CorrelationHeader carries the correlation id in and out.
const CorrelationHeader = "X-Correlation-Id"

type requestScopeKey struct{}

// requestScope is what the middleware settles once per request: the function serving it,
// its correlation id, and its logger. A handler adds the entity and the caller to that
// logger once it knows them (addLogAttrs), so the error it returns is logged with them.
type requestScope struct {
	fn            string
	correlationID string
	log           *slog.Logger
}

// withRequest is the middleware every function shares: it settles the correlation id
// (the caller's X-Correlation-Id when it is sane, else API Gateway's request id) and
// echoes it, puts the request's logger in its context, caps the body, turns a panic into
// a logged 500, and writes one access log line.
func withRequest(logger *slog.Logger, fn string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		scope := &requestScope{fn: fn, correlationID: pickCorrelationID(r)}
		lambdaRequestID := ""
		if lc, ok := lambdacontext.FromContext(r.Context()); ok {
			lambdaRequestID = lc.AwsRequestID
		}
		// The access line and a panic are logged with the request-wide fields only, not
		// with what a handler adds.
		log := logger.With("correlationId", scope.correlationID, "lambdaRequestId", lambdaRequestID)
		scope.log = log
		r = r.WithContext(context.WithValue(r.Context(), requestScopeKey{}, scope))
		w.Header().Set(CorrelationHeader, scope.correlationID)
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic serving request", "panic", p)
				if !rec.wroteHeader {
					writeError(rec, fn, scope.correlationID, fmt.Errorf("panic: %v", p))
				}
			}
			// The access log line is also the request's metrics (EMF): requests and latency
			// by function and outcome (OK, or the error code).
			outcome := rec.code
			if outcome == "" {
				outcome = "OK"
			}
			log.Info("request",
				"method", r.Method, "path", r.URL.Path, "status", rec.status,
				"outcome", outcome, "requests", 1, "durationMs", float64(time.Since(start).Microseconds())/1000,
				metrics.EMF(time.Now(), []string{"function", "outcome"},
					metrics.Metric{Name: "requests", Unit: "Count"}, metrics.Metric{Name: "durationMs", Unit: "Milliseconds"}))
		}()
		if p := r.URL.Path; p == "" || path.Clean(p) != p {
			// net/http would answer with a redirect to the cleaned path; an API refuses
			// dot segments and empty segments outright.
			respondError(rec, r, invalid("the path must not contain empty or dot segments"))
			return
		}
		next.ServeHTTP(rec, r)
	})
}

// scopeOf returns the request's scope, as settled by the middleware. Every function's
// handler runs behind the middleware; a request without a scope logs nowhere.
func scopeOf(r *http.Request) *requestScope {
	if s, ok := r.Context().Value(requestScopeKey{}).(*requestScope); ok {
		return s
	}
	return &requestScope{log: slog.New(slog.DiscardHandler)}
}

// addLogAttrs adds args to the request's logger for the rest of the request (the
// handler's own lines, and the line for the error it returns) and returns that logger.
func addLogAttrs(r *http.Request, args ...any) *slog.Logger {
	s := scopeOf(r)
	s.log = s.log.With(args...)
	return s.log
}

// correlationID returns the request's correlation id, as settled by the middleware.
func correlationID(r *http.Request) string { return scopeOf(r).correlationID }

func pickCorrelationID(r *http.Request) string {
	if h := r.Header.Get(CorrelationHeader); validCorrelationID(h) {
		return h
	}
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && validCorrelationID(rc.RequestID) {
		return rc.RequestID
	}
	return lifecycle.NewID()
}

// validCorrelationID accepts 1–128 characters of letters, digits and -_.:, so a header
// cannot inject anything into logs or responses.
func validCorrelationID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	// code is the error code of an error response ("" for success).
	code string
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}
