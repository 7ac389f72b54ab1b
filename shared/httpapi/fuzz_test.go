package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"gopkg.in/yaml.v3"
)

// The fuzz targets below have committed seed corpora in testdata/fuzz/<target>; plain
// `go test` runs the f.Add seeds and those files, `go test -fuzz` explores from them.

// FuzzDecode feeds arbitrary content types and bodies through decode, with the body capped
// as the middleware caps it. decode must only ever answer with one of its documented
// errors, and those must map to 400, 413 or 415.
func FuzzDecode(f *testing.F) {
	long := strings.Repeat("x", MaxReasonLength)
	for _, c := range []struct {
		contentType string
		body        string
	}{
		{"application/json", `{"reason":"Candidate asked to reschedule"}`},
		{"", `{"reason":"no content type"}`},
		{"application/json; charset=utf-8", `{"reason":"with params"}`},
		{"application/problem+json", `{"reason":"suffix +json"}`},
		{"APPLICATION/JSON", `{}`},
		{"application/json", ``},
		{"application/json", " \t\r\n "},
		{"text/plain", `{"reason":"wrong type"}`},
		{"text/plain", ``},
		{"application/x-www-form-urlencoded", `reason=x`},
		{"application/json;;;", `{}`},
		{"+json", `{}`},
		{"a/+json", `{}`},
		{"application/json", `{"reason":null}`},
		{"application/json", `{"reason":5}`},
		{"application/json", `{"reason":true}`},
		{"application/json", `{"reason":["a"]}`},
		{"application/json", `{"reason":{"a":1}}`},
		{"application/json", `{"reason":"a","reason":"b"}`},
		{"application/json", `{"reason":"a","Reason":"b"}`},
		{"application/json", `{"REASON":"b"}`},
		{"application/json", `{"extra":1}`},
		{"application/json", `{"reason":"a"}{"reason":"b"}`},
		{"application/json", `{"reason":"a"} trailing`},
		{"application/json", `{"reason":"a"`},
		{"application/json", `[{"reason":"a"}]`},
		{"application/json", `"reason"`},
		{"application/json", `null`},
		{"application/json", `{"reason":"` + long + `"}`},
		{"application/json", `{"reason":"` + long + `x"}`},
		{"application/json", `{"reason":"` + strings.Repeat("é", MaxReasonLength) + `"}`},
		{"application/json", `{"reason":"` + strings.Repeat("é", MaxReasonLength+1) + `"}`},
		{"application/json", `{"reason":"` + strings.Repeat(`\u00e9`, MaxReasonLength+1) + `"}`},
		{"application/json", `{"reason":"\ud800\udc00 surrogate pair, \ud800 lone"}`},
		{"application/json", "{\"reason\":\"bad utf-8 \xff\xfe\"}"},
		{"application/json", "{\"reason\":\"control \x01\"}"},
		{"application/json", `{"reason":"control \u0000 \u001b[31m"}`},
		{"application/json", "\xef\xbb\xbf{\"reason\":\"BOM\"}"},
		{"application/json", `{"reason":"` + strings.Repeat("a", MaxBodyBytes) + `"}`},
		{"application/json", `{"reason":` + strings.Repeat("[", 20000) + `}`},
		{"application/json", `{"":1}`},
		{"application/json", `{"reason":1e999}`},
	} {
		f.Add(c.contentType, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, data []byte) {
		r := httptest.NewRequest(http.MethodPost, "/interviews/x/cancel", bytes.NewReader(data))
		r.Header.Set("Content-Type", contentType)
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, MaxBodyBytes)
		var b reasonBody
		err := decode(r, &b)

		var invalidReq *InvalidRequestError
		switch {
		case err == nil:
		case errors.As(err, &invalidReq):
			if invalidReq.Details == "" {
				t.Errorf("InvalidRequestError without details")
			}
		case errors.Is(err, errBodyTooLarge), errors.Is(err, errUnsupportedMediaType):
		default:
			t.Fatalf("decode(%q, %q) = %T %v, not one of its documented errors", contentType, data, err, err)
		}
		if tooLarge := len(data) > MaxBodyBytes; tooLarge != errors.Is(err, errBodyTooLarge) {
			t.Errorf("body of %d bytes (limit %d): err = %v", len(data), MaxBodyBytes, err)
		}
		if err == nil {
			if b.Reason != nil && utf8.RuneCountInString(*b.Reason) > MaxReasonLength {
				t.Errorf("accepted a reason of %d characters", utf8.RuneCountInString(*b.Reason))
			}
			// Nothing is turned into U+FFFD on the way: a body that is not UTF-8, or holds an
			// unpaired surrogate escape, is refused, so a U+FFFD accepted is one that was sent.
			if !utf8.Valid(data) {
				t.Errorf("accepted a body that is not UTF-8: %q", data)
			}
			if b.Reason != nil && strings.ContainsRune(*b.Reason, utf8.RuneError) &&
				!bytes.Contains(data, []byte("\uFFFD")) && !bytes.Contains(bytes.ToLower(data), []byte(`\ufffd`)) {
				t.Errorf("accepted %q as a reason holding a U+FFFD it did not send", data)
			}
			if len(bytes.TrimSpace(data)) > 0 {
				// What was accepted is one JSON object whose only key is "reason".
				var m map[string]json.RawMessage
				if jerr := json.Unmarshal(data, &m); jerr != nil {
					t.Errorf("accepted a body that is not a JSON object: %q (%v)", data, jerr)
				}
				for k := range m {
					if k != "reason" {
						t.Errorf("accepted unknown field %q in %q", k, data)
					}
				}
			}
			return
		}
		status, eb := failure(FnCancelInterview, err)
		switch status {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("decode error %v maps to %d, want 400, 413 or 415", err, status)
		}
		if eb.Error == "" || !slices.Contains(errorCodes(t), eb.Code) {
			t.Errorf("decode error %v maps to body %+v", err, eb)
		}
	})
}

// FuzzHandler sends arbitrary API Gateway events through every function's handler, via
// the api-proxy adapter as the Lambda runtime does (invoke also holds responses on
// documented routes to openapi.yaml). The stores are in memory and never fail, so any 5xx
// is a bug; every response must be one the API documents.
func FuzzHandler(f *testing.F) {
	routes := Routes()
	fnIndex := func(fn string) byte {
		for i, r := range routes {
			if r.Function == fn {
				return byte(i)
			}
		}
		panic("no route for " + fn)
	}
	const (
		okBody = `{"reason":"Candidate asked to reschedule"}`
		none   = ""
	)
	type seed struct {
		fn                      string
		method, path            string
		headerName, headerValue string
		body                    string
		sub, roles              string
	}
	seeds := []seed{
		// Every route with a valid id and body.
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", "content-type", "application/json", okBody, "alice", none},
		{FnCancelInterview, "POST", "/api/interviews/" + alicePaused + "/cancel", "x-correlation-id", "corr-123", okBody, "alice", none},
		{FnCancelInterview, "POST", "/api/interview/" + aliceActive + "/cancel", none, none, none, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceCompleted + "/cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceCancelled + "/cancel", none, none, `{}`, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + bobActive + "/cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + missing + "/cancel", none, none, okBody, "alice", none},
		{FnPauseInterview, "POST", "/interviews/" + aliceActive + "/pause", none, none, none, "alice", none},
		{FnPauseInterview, "POST", "/api/interviews/" + alicePaused + "/pause", none, none, `{}`, "alice", none},
		{FnPauseInterview, "POST", "/interviews/" + aliceActive + "/pause", none, none, okBody, "alice", none},
		{FnResumeInterview, "POST", "/interviews/" + alicePaused + "/resume", none, none, none, "alice", none},
		{FnResumeInterview, "POST", "/api/interviews/" + aliceActive + "/resume", none, none, none, "alice", none},
		{FnGetInterview, "GET", "/interviews/" + aliceActive, none, none, none, "alice", none},
		{FnGetInterview, "GET", "/api/interviews/" + strings.ToUpper(bobActive), none, none, none, "alice", none},
		{FnListInterviews, "GET", "/interviews", none, none, none, "alice", none},
		{FnListInterviews, "GET", "/api/interviews?status=paused&limit=1", none, none, none, "alice", none},
		{FnListInterviews, "GET", "/interviews?limit=1&cursor=1", none, none, none, "alice", none},
		{FnListInterviews, "GET", "/interviews?limit=0", none, none, none, "alice", none},
		{FnListInterviews, "GET", "/interviews?limit=1&limit=2", none, none, none, "alice", none},
		{FnListInterviews, "GET", "/interviews?status=ACTIVE", none, none, none, "alice", none},
		{FnListInterviews, "GET", "/interviews?cursor=-1", none, none, none, "alice", none},
		{FnListInterviews, "GET", "/interviews?cursor=%zz", none, none, none, "alice", none},
		{FnListInterviews, "GET", "/interviews?limit=99999999999999999999", none, none, none, "alice", none},
		{FnCancelJob, "POST", "/jobs/" + jobAssigned + "/cancel", none, none, okBody, "dana", "[Dispatcher]"},
		{FnCancelJob, "POST", "/api/jobs/" + jobCompleted + "/cancel", none, none, none, "adam", "[Admin]"},
		{FnCancelJob, "POST", "/jobs/" + jobCancelled + "/cancel", none, none, none, "dana", `["Dispatcher"]`},
		{FnCancelJob, "POST", "/jobs/" + jobAssigned + "/cancel", none, none, none, "tom", "[Technician]"},
		{FnGetJob, "GET", "/jobs/" + jobConfirmed, none, none, none, "dana", "[Dispatcher]"},
		{FnGetJob, "GET", "/api/jobs/" + jobUnassigned, none, none, none, "adam", "Admin,Dispatcher"},
		// Roles claims in odd shapes.
		{FnCancelJob, "POST", "/jobs/" + jobAssigned + "/cancel", none, none, none, "dana", `{"Dispatcher":true}`},
		{FnCancelJob, "POST", "/jobs/" + jobAssigned + "/cancel", none, none, none, "dana", `[1,2]`},
		{FnGetJob, "GET", "/jobs/" + jobAssigned, none, none, none, "dana", `[`},
		{FnGetJob, "GET", "/jobs/" + jobAssigned, none, none, none, "dana", strings.Repeat("Dispatcher,", 200)},
		// No caller, blank caller.
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", none, none, okBody, none, none},
		{FnGetJob, "GET", "/jobs/" + jobAssigned, none, none, none, "   ", "[Admin]"},
		// Bad ids, traversal, encoded and doubled slashes.
		{FnCancelInterview, "POST", "/interviews/not-a-uuid/cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews//cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/../../etc/passwd/cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/%2e%2e/cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/a11ce000-0000-4000-8000%2F000000000001/cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/a11ce000%2D0000-4000-8000-000000000001/cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "//interviews/" + aliceActive + "/cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel/", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/./cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/%zz/cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "interviews/" + aliceActive + "/cancel", none, none, okBody, "alice", none},
		{FnCancelInterview, "POST", "", none, none, none, "alice", none},
		{FnGetJob, "GET", "/jobs/not-a-uuid", none, none, none, "tom", "[Technician]"},
		{FnGetJob, "GET", "/jobs/" + jobAssigned + "#frag", none, none, none, "dana", "[Dispatcher]"},
		// Wrong methods and unknown paths.
		{FnCancelInterview, "GET", "/interviews/" + aliceActive + "/cancel", none, none, none, "alice", none},
		{FnCancelInterview, "DELETE", "/interviews/" + aliceActive + "/cancel", none, none, none, "alice", none},
		{FnCancelInterview, "post", "/interviews/" + aliceActive + "/cancel", none, none, none, "alice", none},
		{FnGetInterview, "HEAD", "/interviews/" + aliceActive, none, none, none, "alice", none},
		{FnGetInterview, "OPTIONS", "/interviews/" + aliceActive, none, none, none, "alice", none},
		{FnGetInterview, "CONNECT", "/interviews/" + aliceActive, none, none, none, "alice", none},
		{FnGetInterview, "", "/interviews/" + aliceActive, none, none, none, "alice", none},
		{FnGetInterview, "GET", "/jobs/" + jobAssigned, none, none, none, "alice", none},
		{FnGetJob, "BREW", "/coffee", none, none, none, "dana", "[Dispatcher]"},
		{FnGetJob, "G E T", "/jobs/" + jobAssigned, none, none, none, "dana", "[Dispatcher]"},
		// Bodies: oversized, wrong content type, duplicate/unknown fields, odd reasons.
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", none, none, `{"reason":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, "alice", none},
		{FnCancelJob, "POST", "/jobs/" + jobAssigned + "/cancel", none, none, strings.Repeat(" ", MaxBodyBytes+1), "dana", "[Dispatcher]"},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", "content-type", "text/plain", okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", "Content-Type", "text/plain", okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", "content-type", "application/json; charset=", okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", none, none, `{"reason":"a","reason":"b"}`, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", none, none, `{"reason":"a","force":true}`, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", none, none, `{"reason":5}`, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", none, none, `{"reason":"` + strings.Repeat("é", MaxReasonLength) + `"}`, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", none, none, `{"reason":"` + strings.Repeat("é", MaxReasonLength+1) + `"}`, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", none, none, "{\"reason\":\"ctl \x01 \u2028 \\u0000 \\u001b[31m \xff\"}", "alice", none},
		{FnCancelJob, "POST", "/jobs/" + jobAssigned + "/cancel", none, none, `{"reason":"\ud800"}`, "dana", "[Dispatcher]"},
		{FnPauseInterview, "POST", "/interviews/" + aliceActive + "/pause", none, none, okBody, "alice", none},
		{FnPauseInterview, "POST", "/interviews/" + aliceActive + "/pause", none, none, `[]`, "alice", none},
		{FnGetInterview, "GET", "/interviews/" + aliceActive, none, none, `{"ignored":"GET bodies are not read"}`, "alice", none},
		// Idempotency keys.
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", "Idempotency-Key", "key-1", okBody, "alice", none},
		{FnCancelInterview, "POST", "/interviews/" + aliceActive + "/cancel", "Idempotency-Key", "has spaces in it", okBody, "alice", none},
		{FnCancelJob, "POST", "/jobs/" + jobAssigned + "/cancel", "idempotency-key", strings.Repeat("k", 300), okBody, "dana", "[Dispatcher]"},
		{FnCancelJob, "POST", "/jobs/" + jobAssigned + "/cancel", "idempotency-key", "a,b", okBody, "dana", "[Dispatcher]"},
		{FnCancelJob, "POST", "/jobs/" + jobAssigned + "/cancel", "idempotency-key", "", okBody, "dana", "[Dispatcher]"},
		// Correlation ids.
		{FnGetInterview, "GET", "/interviews/" + aliceActive, "X-Correlation-Id", strings.Repeat("c", 129), none, "alice", none},
		{FnGetInterview, "GET", "/interviews/" + aliceActive, "X-Correlation-Id", strings.Repeat("c", 128), none, "alice", none},
		{FnGetInterview, "GET", "/interviews/" + aliceActive, "x-correlation-id", "evil\r\nX-Injected: 1", none, "alice", none},
		{FnGetInterview, "GET", "/interviews/" + aliceActive, "x-correlation-id", `"}{"level":"ERROR"`, none, "alice", none},
		{FnGetInterview, "GET", "/interviews/" + aliceActive, "x-correlation-id", "a,b", none, "alice", none},
		{FnGetInterview, "GET", "/interviews/" + aliceActive, "x-correlation-id", "ünïcode", none, "alice", none},
	}
	for _, s := range seeds {
		f.Add(fnIndex(s.fn), s.method, s.path, s.headerName, s.headerValue, []byte(s.body), s.sub, s.roles)
	}
	logger := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, fnIdx byte, method, rawPath, headerName, headerValue string, body []byte, sub, roles string) {
		rt := routes[int(fnIdx)%len(routes)]
		h, ok := handlerFor(rt.Function, logger)
		if !ok {
			t.Fatalf("no handler for %s", rt.Function)
		}
		if len(body) > 64<<10 {
			body = body[:64<<10]
		}
		path, query := apiGatewayTarget(rawPath)
		var headers map[string]string
		if headerName != "" {
			headers = map[string]string{headerName: headerValue}
		}
		ev := request{
			method: method, path: path, routeKey: rt.Pattern(), id: idSegment(path),
			sub: sub, roles: roles, body: string(body), headers: headers,
		}.event()
		// request.event fills in defaults for an empty method or path; use the fuzzed ones as is.
		ev.RawPath, ev.RequestContext.HTTP.Path, ev.RequestContext.HTTP.Method = path, path, method
		ev.RawQueryString = query

		if why := adapterRefusal(method, path, query); why != "" {
			// The api-proxy adapter cannot build an http.Request from this event (a method
			// that is not an HTTP token, or a target net/url refuses), so the handler never
			// runs; Lambda answers the documented 400 instead of failing the invocation.
			resp, err := Lambda(slog.New(slog.NewJSONHandler(io.Discard, nil)), h)(context.Background(), ev)
			if err != nil || resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, `"code":"INVALID_REQUEST"`) {
				t.Fatalf("%s: an event the adapter refuses got %d %s (err %v)", why, resp.StatusCode, resp.Body, err)
			}
			return
		}
		if _, err := (&core.RequestAccessorV2{}).EventToRequest(ev); err != nil {
			t.Fatalf("api-proxy refused the event for no known reason: method %q path %q query %q: %v", method, path, query, err)
		}

		var resp events.APIGatewayV2HTTPResponse
		if contractApplies(rt.Function, ev.RequestContext.HTTP.Method, path) {
			resp = invoke(t, h, ev)
		} else {
			// invoke would hold this response to openapi.yaml although API Gateway never
			// sends this function this request (see contractApplies); the properties below
			// still hold it to the documented error shape.
			resp = invokeUnchecked(t, h, ev)
		}
		where := fmt.Sprintf("%s %q (function %s)", method, path+"?"+query, rt.Function)
		if resp.StatusCode >= 500 {
			t.Fatalf("%s: server error %d: %s", where, resp.StatusCode, resp.Body)
		}
		if !slices.Contains([]int{200, 400, 401, 403, 404, 409, 413, 415, 422}, resp.StatusCode) {
			t.Fatalf("%s: undocumented status %d: %s", where, resp.StatusCode, resp.Body)
		}
		if resp.IsBase64Encoded {
			t.Fatalf("%s: the body is not UTF-8 text", where)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(resp.Body), &m); err != nil || m == nil {
			t.Fatalf("%s: body is not a JSON object: %q", where, resp.Body)
		}
		if resp.StatusCode != http.StatusOK {
			if e, ok := m["error"].(string); !ok || e == "" {
				t.Errorf("%s: %d without an error text: %s", where, resp.StatusCode, resp.Body)
			}
			if c, ok := m["code"].(string); !ok || !slices.Contains(errorCodes(t), c) {
				t.Errorf("%s: %d with code %v, not one of %v: %s", where, resp.StatusCode, m["code"], errorCodes(t), resp.Body)
			}
			for k := range m {
				if !slices.Contains([]string{"error", "code", "details", "currentStatus", "requestId"}, k) {
					t.Errorf("%s: %d with undocumented field %q: %s", where, resp.StatusCode, k, resp.Body)
				}
			}
		}
		cid := header(resp, CorrelationHeader)
		if cid == "" || !validCorrelationIDForTest(cid) {
			t.Errorf("%s: X-Correlation-Id = %q", where, cid)
		}
	})
}

// contractApplies reports whether invoke's contract check fits a request sent to fn's
// handler. checkContract holds every request on a documented route to openapi.yaml, but
// (a) API Gateway sends a route only to the function that serves it, so another function's
// ROUTE_NOT_FOUND for, say, GET /interviews is not a response the API can give, and
// (b) its routeMatches lets an empty segment stand for {id} while the OpenAPI router does
// not, so /interviews//cancel would be reported as "no such route", and (c) it splits the
// raw path, while net/url drops the raw form of a path holding a byte that is not allowed
// in one (`"`, `{`, non-ASCII...), after which an encoded slash is a real one to the router:
// /interviews/"%2F/cancel has 4 segments to routeMatches but 5 to the OpenAPI router.
func contractApplies(fn, method, path string) bool {
	if u, err := url.Parse("https://example.com" + path); err != nil ||
		strings.Count(u.EscapedPath(), "/") != strings.Count(path, "/") {
		return false
	}
	for _, r := range Routes() {
		if r.Method != method || !routeMatches(r.Path, path) {
			continue
		}
		if r.Function != fn {
			return false
		}
		ps, xs := strings.Split(r.Path, "/"), strings.Split(path, "/")
		for i := range ps {
			if strings.HasPrefix(ps[i], "{") && xs[i] == "" {
				return false
			}
		}
	}
	return true
}

// invokeUnchecked is invoke without the contract check.
func invokeUnchecked(t *testing.T, h http.Handler, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
	resp, err := Lambda(slog.New(slog.NewJSONHandler(io.Discard, nil)), h)(ctx, ev)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	return resp
}

// apiGatewayTarget turns a fuzzed request target into the rawPath and rawQueryString API
// Gateway would deliver: the query is what follows the first '?', and bytes that cannot
// appear literally in an HTTP request line (controls, space, DEL) or that never reach the
// server ('#') are percent-encoded, as a client must send them. '%' itself is left alone,
// so encoded slashes and malformed escapes still get through.
func apiGatewayTarget(raw string) (path, query string) {
	path, query, _ = strings.Cut(raw, "?")
	return escapeLineBytes(path), escapeLineBytes(query)
}

func escapeLineBytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// idSegment is the {id} API Gateway would report: the segment before the action for the
// transition routes, else the last segment.
func idSegment(path string) string {
	segs := strings.Split(path, "/")
	last := segs[len(segs)-1]
	if len(segs) > 1 && (last == "cancel" || last == "pause" || last == "resume") {
		return segs[len(segs)-2]
	}
	return last
}

// adapterRefusal explains why the api-proxy adapter cannot turn an event into an
// http.Request, or returns "" when it should have been able to.
func adapterRefusal(method, path, query string) string {
	m := strings.ToUpper(method)
	if m != "" && !isToken(m) {
		return "method is not an HTTP token"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	target := "https://example.com" + path
	if query != "" {
		target += "?" + query
	}
	if _, err := url.Parse(target); err != nil {
		return "net/url refuses the target: " + err.Error()
	}
	return ""
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c <= ' ' || c == 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validCorrelationIDForTest restates the documented X-Correlation-Id shape independently
// of the middleware: 1 to 128 characters of [A-Za-z0-9._:-].
func validCorrelationIDForTest(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:-", r))
	})
}

var (
	errorCodesOnce sync.Once
	errorCodesList []string
	errorCodesErr  error
)

// errorCodes is the enum of Error.code in openapi.yaml.
func errorCodes(t *testing.T) []string {
	t.Helper()
	errorCodesOnce.Do(func() {
		raw, err := os.ReadFile("../../openapi.yaml")
		if err != nil {
			errorCodesErr = err
			return
		}
		var doc struct {
			Components struct {
				Schemas struct {
					Error struct {
						Properties struct {
							Code struct {
								Enum []string `yaml:"enum"`
							} `yaml:"code"`
						} `yaml:"properties"`
					} `yaml:"Error"`
				} `yaml:"schemas"`
			} `yaml:"components"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			errorCodesErr = err
			return
		}
		errorCodesList = doc.Components.Schemas.Error.Properties.Code.Enum
		if len(errorCodesList) == 0 {
			errorCodesErr = errors.New("openapi.yaml: components.schemas.Error.properties.code.enum is empty")
		}
	})
	if errorCodesErr != nil {
		t.Fatal(errorCodesErr)
	}
	return errorCodesList
}
