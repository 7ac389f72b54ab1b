package httpapi

import (
	"context"
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

type requestInfoKey struct{}

// requestInfo is what the middleware learns once per request.
type requestInfo struct {
	correlationID   string
	lambdaRequestID string
}

// withRequest is the middleware every function shares: it settles the correlation id
// (the caller's X-Correlation-Id when it is sane, else API Gateway's request id) and
// echoes it, caps the body, turns a panic into a logged 500, and writes one access log line.
func withRequest(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := requestInfo{correlationID: pickCorrelationID(r)}
		if lc, ok := lambdacontext.FromContext(r.Context()); ok {
			info.lambdaRequestID = lc.AwsRequestID
		}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		w.Header().Set(CorrelationHeader, info.correlationID)
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		rec := &statusRecorder{ResponseWriter: w}
		log := requestLogger(logger, r)
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic serving request", "panic", p)
				if !rec.wroteHeader {
					rec.code = codeInternal
					encode(rec, http.StatusInternalServerError, errorBody{Error: "Internal Server Error", Code: codeInternal, RequestID: info.correlationID})
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
			respondError(rec, r, log, "", invalid("the path must not contain empty or dot segments"))
			return
		}
		next.ServeHTTP(rec, r)
	})
}

// requestLogger is logger with the request-wide fields.
func requestLogger(logger *slog.Logger, r *http.Request) *slog.Logger {
	info, _ := r.Context().Value(requestInfoKey{}).(requestInfo)
	return logger.With("correlationId", info.correlationID, "lambdaRequestId", info.lambdaRequestID)
}

// correlationID returns the request's correlation id, as settled by the middleware.
func correlationID(r *http.Request) string {
	info, _ := r.Context().Value(requestInfoKey{}).(requestInfo)
	return info.correlationID
}

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
