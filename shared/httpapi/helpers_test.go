package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lifecycle-api/lifecycle/shared/auth"
	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/openapicheck"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/lambdaevent"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/logcapture"
)

// defaults are the functions' settings as the template's parameter defaults give them.
var defaults = config.HTTP{RolesClaim: auth.DefaultRolesClaim, LogReasons: true}

// memStore is an in-process InterviewStore for handler tests: it applies the domain's
// own rules to a map. The DynamoDB store is tested against moto's DynamoDB in tests/integration.
type memStore struct {
	mu       sync.Mutex
	sessions map[string]interview.Session
	now      time.Time
	err      error // returned by every call when set
	panics   bool
	calls    []interview.Request
	lists    []interview.ListQuery
	keys     map[string]lifecycle.Idempotency
}

func newMemStore(sessions ...interview.Session) *memStore {
	m := &memStore{sessions: map[string]interview.Session{}, keys: map[string]lifecycle.Idempotency{}, now: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	for _, s := range sessions {
		m.sessions[s.ID] = s
	}
	return m
}

// Apply applies the domain's rules, and remembers each session's last idempotency key as
// the DynamoDB store does on the item.
func (m *memStore) Apply(_ context.Context, t interview.Transition, req interview.Request) (interview.Session, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, req)
	if m.panics {
		panic("store exploded")
	}
	if m.err != nil {
		return interview.Session{}, false, m.err
	}
	s, ok := m.sessions[req.ID]
	if !ok {
		return interview.Session{}, false, lifecycle.ErrNotFound
	}
	if err := t.Authorize(s, req.Actor); err != nil {
		return interview.Session{}, false, err
	}
	if last := m.keys[req.ID]; last.Key != "" && last.Key == req.Idempotency.Key {
		if last.Fingerprint != req.Idempotency.Fingerprint {
			return interview.Session{}, false, lifecycle.ErrIdempotencyKeyReused
		}
		return s, true, nil
	}
	if err := t.Decide(s, req.Actor); err != nil {
		return interview.Session{}, false, err
	}
	req, err := t.Prepare(s, req)
	if err != nil {
		return interview.Session{}, false, err
	}
	s = t.Apply(s, req, m.now)
	m.sessions[req.ID] = s
	m.keys[req.ID] = req.Idempotency
	return s, false, nil
}

// Create stores a new session under req.ID, and answers a retry of the same key with the
// session it created, as the DynamoDB store does.
func (m *memStore) Create(_ context.Context, d interview.Draft, req interview.Request) (interview.Session, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, req)
	if m.err != nil {
		return interview.Session{}, false, m.err
	}
	if s, ok := m.sessions[req.ID]; ok {
		if last := m.keys[req.ID]; last.Key == "" || last.Key != req.Idempotency.Key {
			return interview.Session{}, false, lifecycle.ErrConflict
		} else if last.Fingerprint != req.Idempotency.Fingerprint {
			return interview.Session{}, false, lifecycle.ErrIdempotencyKeyReused
		}
		return s, true, nil
	}
	s := interview.New(req.ID, req.Actor, d, m.now)
	m.sessions[req.ID], m.keys[req.ID] = s, req.Idempotency
	return s, false, nil
}

func (m *memStore) Get(_ context.Context, id string) (interview.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return interview.Session{}, m.err
	}
	s, ok := m.sessions[id]
	if !ok {
		return interview.Session{}, lifecycle.ErrNotFound
	}
	return s, nil
}

// List pages through the owner's sessions, newest createdAt first; its cursor is an offset.
func (m *memStore) List(_ context.Context, q interview.ListQuery) (interview.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lists = append(m.lists, q)
	if m.err != nil {
		return interview.Page{}, m.err
	}
	var all []interview.Session
	for _, s := range m.sessions {
		if s.OwnerID == q.Owner && (q.Status == "" || s.Status == q.Status) {
			all = append(all, s)
		}
	}
	slices.SortFunc(all, func(a, b interview.Session) int { return b.CreatedAt.Compare(a.CreatedAt) })
	start := 0
	if q.Cursor != "" {
		n, err := strconv.Atoi(q.Cursor)
		if err != nil || n < 0 || n > len(all) {
			return interview.Page{}, lifecycle.ErrInvalidCursor
		}
		start = n
	}
	end := min(start+q.Limit, len(all))
	page := interview.Page{Items: all[start:end]}
	if end < len(all) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

const (
	aliceActive    = "a11ce000-0000-4000-8000-000000000001"
	alicePaused    = "a11ce000-0000-4000-8000-000000000003"
	aliceCompleted = "a11ce000-0000-4000-8000-000000000004"
	aliceCancelled = "a11ce000-0000-4000-8000-000000000005"
	bobActive      = "b0b00000-0000-4000-8000-000000000001"
	missing        = "00000000-0000-4000-8000-00000000dead"
)

// sessionAge makes each test session's createdAt distinct, newest first in this order.
var sessionAge = map[string]int{aliceActive: 1, alicePaused: 2, aliceCompleted: 3, aliceCancelled: 4, bobActive: 1}

func session(id, owner string, st interview.Status) interview.Session {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).Add(-time.Duration(sessionAge[id]) * time.Hour)
	return interview.Session{
		ID: id, OwnerID: owner, Status: st, Title: "Session " + id[:5], TopicIDs: []string{"t1"},
		InterviewerID: "interviewer-aria", CreatedAt: t0, UpdatedAt: t0, Version: 1,
		ConversationID: "conv-1", RecentMessages: json.RawMessage(`[{"id":"m1","output":{"text":"hi"}}]`),
	}
}

func demoStore() *memStore {
	return newMemStore(
		session(aliceActive, "alice", interview.Active),
		session(alicePaused, "alice", interview.Paused),
		session(aliceCompleted, "alice", interview.Completed),
		session(aliceCancelled, "alice", interview.Cancelled),
		session(bobActive, "bob", interview.Active),
	)
}

// logBuffer collects the JSON log lines a handler writes.
type logBuffer struct{ *logcapture.Buffer }

func (l *logBuffer) lines(t *testing.T) []map[string]any { return l.Lines(t) }

func newLogger() (*slog.Logger, *logBuffer) {
	logger, b := logcapture.New()
	return logger, &logBuffer{b}
}

// request describes an API Gateway event to build.
type request struct {
	method, path, routeKey string
	id                     string
	sub                    string // "" means no authorizer claims
	roles                  string
	scope                  string // the token's "scope" claim: a service's
	body                   string
	headers                map[string]string
}

func (r request) event() events.APIGatewayV2HTTPRequest {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	path := r.path
	if path == "" {
		path = "/interviews/" + r.id + "/cancel"
	}
	routeKey := r.routeKey
	if routeKey == "" {
		routeKey = "POST /interviews/{id}/cancel"
	}
	headers := map[string]string{"content-type": "application/json"}
	maps.Copy(headers, r.headers)
	h := lambdaevent.HTTP{Method: method, Path: path, RouteKey: routeKey, ID: r.id, Headers: headers, Body: r.body, RequestID: "apigw-req-1"}
	if r.sub != "" {
		h.Claims = lambdaevent.Claims(r.sub, r.roles, r.scope)
	}
	return h.Event()
}

// invoke runs ev through the api-proxy adapter, as the Lambda runtime does, and holds the
// response to openapi.yaml when the request is on a documented route.
func invoke(t *testing.T, h http.Handler, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
	resp, err := Lambda(slog.New(slog.NewJSONHandler(io.Discard, nil)), h)(ctx, ev)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	checkContract(t, ev, resp)
	return resp
}

var (
	apiContractOnce sync.Once
	apiContract     *openapicheck.Validator
	apiContractErr  error
)

func checkContract(t *testing.T, ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	apiContractOnce.Do(func() { apiContract, apiContractErr = openapicheck.Load("../../openapi.yaml") })
	if apiContractErr != nil {
		t.Fatal(apiContractErr)
	}
	method := ev.RequestContext.HTTP.Method
	known := false
	for _, r := range Routes() {
		if r.Method == method && routeMatches(r.Path, ev.RawPath) {
			known = true
		}
	}
	if !known || strings.Contains(resp.Body, `"code":"ROUTE_NOT_FOUND"`) {
		// A request off the route table, or one API Gateway would never route to this
		// function: the test asserts the 404 itself.
		return
	}
	target := ev.RawPath
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	header := http.Header{}
	for k, v := range resp.Headers {
		header.Set(k, v)
	}
	if err := apiContract.Check(method, target, resp.StatusCode, header, []byte(resp.Body)); err != nil {
		t.Error(err)
	}
}

// routeMatches reports whether path (decoded, as the router sees it) fits a route pattern
// segment by segment, with a non-empty segment for each parameter.
func routeMatches(pattern, path string) bool {
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") {
			if xs[i] == "" {
				return false
			}
		} else if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// wantInvalid checks that resp is the documented 400 INVALID_REQUEST whose details begin
// with details.
func wantInvalid(t *testing.T, resp events.APIGatewayV2HTTPResponse, details string) {
	t.Helper()
	body := decodeBody(t, resp)
	got, _ := body["details"].(string)
	if resp.StatusCode != http.StatusBadRequest || body["code"] != "INVALID_REQUEST" || !strings.HasPrefix(got, details) {
		t.Errorf("%d %s, want 400 saying %q", resp.StatusCode, resp.Body, details)
	}
}

func decodeBody(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %q", resp.Body)
	}
	return m
}

var errBoom = errors.New("dynamodb: ValidationException: secret internal detail arn:aws:dynamodb:us-east-1:123456789012:table/x")

// header looks a response header up case-insensitively, as HTTP clients do.
func header(resp events.APIGatewayV2HTTPResponse, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func actorOf(sub string, roles ...string) lifecycle.Actor {
	return lifecycle.Actor{Sub: sub, Roles: roles}
}
