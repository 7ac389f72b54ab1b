package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/metrics"
)

// CorrelationHeader carries the caller's correlation id in and out.
const CorrelationHeader = "X-Correlation-Id"

type requestScopeKey struct{}

// requestScope is what the middleware settles once per request: the function serving it
// and its settings, the request's ids, and its logger. A handler adds the entity and the
// caller to that logger once it knows them (addLogAttrs), so the error it returns is
// logged with them.
type requestScope struct {
	fn       string
	settings config.HTTP
	ids      requestIDs
	log      *slog.Logger
}

// requestIDs are a request's two ids. requestID is always API Gateway's request id (the
// one in its access log and its apigw-requestid header): the requestId of every error
// body and log line. correlationID is the caller's X-Correlation-Id when it sent a sane
// one, else the request id: it is echoed, logged beside the request id, and carried on
// the item and its event.
type requestIDs struct {
	requestID     string
	correlationID string
}

// newRequestIDs settles a request's ids from API Gateway's request id (a fresh id when
// there is none, outside API Gateway) and the caller's X-Correlation-Id header.
func newRequestIDs(apiRequestID, header string) requestIDs {
	ids := requestIDs{requestID: apiRequestID, correlationID: header}
	if ids.requestID == "" {
		ids.requestID = lifecycle.NewID()
	}
	if !validCorrelationID(ids.correlationID) {
		ids.correlationID = ids.requestID
	}
	return ids
}

// withRequest is the middleware every function shares: it settles the request's ids and
// echoes the correlation id, puts the request's logger in its context, caps the body,
// turns a panic into a logged 500, and writes one access log line.
func withRequest(logger *slog.Logger, fn string, settings config.HTTP, next http.Handler) http.Handler {
	emf := metrics.NewEMFSets([][]string{{"function", "outcome"}, {"outcome"}},
		metrics.Metric{Name: "requests", Unit: "Count"}, metrics.Metric{Name: "durationMs", Unit: "Milliseconds"})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		apiRequestID := ""
		if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
			apiRequestID = rc.RequestID
		}
		correlation, n := clientHeader(r, CorrelationHeader)
		if n != 1 {
			correlation = "" // repeated headers: the request id stands in
		}
		scope := &requestScope{fn: fn, settings: settings, ids: newRequestIDs(apiRequestID, correlation)}
		lambdaRequestID := ""
		if lc, ok := lambdacontext.FromContext(r.Context()); ok {
			lambdaRequestID = lc.AwsRequestID
		}
		// The access line and a panic are logged with the request-wide fields only, not
		// with what a handler adds.
		log := logger.With("requestId", scope.ids.requestID, "correlationId", scope.ids.correlationID, "lambdaRequestId", lambdaRequestID)
		scope.log = log
		r = r.WithContext(context.WithValue(r.Context(), requestScopeKey{}, scope))
		w.Header().Set(CorrelationHeader, scope.ids.correlationID)
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic serving request", "panic", p)
				if !rec.wroteHeader {
					writeError(rec, fn, scope.ids.requestID, fmt.Errorf("panic: %v", p))
				}
			}
			// The access log line is also the request's metrics (EMF): requests and latency
			// by function and outcome (OK, or the error code), and by outcome alone over
			// every function (what the deployment's rollback alarm watches).
			outcome := rec.code
			if outcome == "" {
				outcome = "OK"
			}
			log.Info("request",
				"method", r.Method, "path", r.URL.Path, "status", rec.status,
				"outcome", outcome, "requests", 1, "durationMs", float64(time.Since(start).Microseconds())/1000,
				emf.Attr(time.Now()))
		}()
		if p := r.URL.Path; p == "" || path.Clean(p) != p {
			// net/http would answer with a redirect to the cleaned path; an API refuses
			// dot segments and empty segments outright.
			respondError(rec, r, invalid("the path must not contain empty or dot segments"))
			return
		}
		if !utf8.ValidString(r.URL.Path) {
			// A percent escape that decodes to bytes that are not UTF-8 (/technicians/%FF)
			// would reach a handler as an id that encoding/json answers as U+FFFD, so that
			// different paths would name the same technician. Every path parameter is
			// checked here, once, before routing.
			respondError(rec, r, invalid("the path must be UTF-8 once its percent escapes are decoded"))
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
func correlationID(r *http.Request) string { return scopeOf(r).ids.correlationID }

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
