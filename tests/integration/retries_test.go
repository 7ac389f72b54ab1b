package integration

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/measure/faultproxy"
)

func TestIdempotencyKeyReplaysTheOriginalResponse(t *testing.T) {
	s := newStack(t)
	alice, dana := s.token(t, "alice"), s.token(t, "dana", "Dispatcher")
	cases := []struct {
		name, path, token, body, other string
	}{
		{"cancel interview", "/interviews/" + demodata.AliceActive + "/cancel", alice, `{"reason":"Candidate asked"}`, `{"reason":"Something else"}`},
		{"pause interview", "/api/interviews/" + demodata.AliceActive2 + "/pause", alice, ``, `{}`},
		{"cancel job", "/jobs/" + demodata.JobAssignedConfirmed + "/cancel", dana, `{"reason":"Customer cancelled"}`, `{"reason":"Other"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := randomName("key-")
			first := s.do(t, http.MethodPost, c.path, c.token, c.body, "Idempotency-Key", key)
			if first.status != 200 || first.header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("first attempt: %d %s", first.status, first.raw)
			}
			// The same request again, with whitespace the JSON may differ in.
			again := s.do(t, http.MethodPost, c.path, c.token, strings.ReplaceAll(c.body, ":", ": "), "Idempotency-Key", key)
			if again.status != 200 || again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("retry: %d replayed=%q\n%s\nfirst:\n%s", again.status, again.header.Get("Idempotent-Replayed"), again.raw, first.raw)
			}
			if again.header.Get("ETag") != first.header.Get("ETag") {
				t.Errorf("ETag %s, first %s", again.header.Get("ETag"), first.header.Get("ETag"))
			}
			// The same key for a different request.
			if r := s.do(t, http.MethodPost, c.path, c.token, c.other, "Idempotency-Key", key); c.other != "{}" && (r.status != 422 || r.body["code"] != "IDEMPOTENCY_KEY_REUSED") {
				t.Errorf("reused key: %d %s", r.status, r.raw)
			}
			// Without the key the retry is a new request, refused by the state.
			if r := s.do(t, http.MethodPost, c.path, c.token, c.body); r.status == 200 {
				t.Errorf("a keyless retry succeeded: %s", r.raw)
			}
		})
	}
	// Only the first attempts wrote.
	for id, want := range map[string]string{demodata.AliceActive: "2", demodata.AliceActive2: "2"} {
		if v := str(s.session(t, id), "version"); v != want {
			t.Errorf("%s version %s, want %s", id, v, want)
		}
	}
	if v := str(s.job(t, demodata.JobAssignedConfirmed), "version"); v != "3" {
		t.Errorf("job version %s, want 3", v)
	}
	// Keys are validated.
	for _, bad := range []string{strings.Repeat("k", 256), "has space", "tab\tkey"} {
		if r := s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive3+"/pause", alice, "", "Idempotency-Key", bad); r.status != 400 {
			t.Errorf("key %q: %d", bad, r.status)
		}
	}
}

// faultyStack is a stack whose functions reach moto's DynamoDB through the fault proxy.
func faultyStack(t *testing.T, plan faultproxy.Plan) (*stack, *faultproxy.Proxy) {
	t.Helper()
	return faultyStackWith(t, faultproxy.Config{Plan: plan, SlowDelay: 300 * time.Millisecond})
}

// faultyStackWith is faultyStack with the proxy configured as c (its target set here).
func faultyStackWith(t *testing.T, c faultproxy.Config) (*stack, *faultproxy.Proxy) {
	t.Helper()
	c.Target = getenv(t, "AWS_ENDPOINT_URL_DYNAMODB")
	proxy, err := faultproxy.New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	cfg, err := config.AWS()
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint, o.DisableValidateResponseChecksum = aws.String(proxy.URL), true
	})
	return newStack(t, withDB(db)), proxy
}

func getenv(t *testing.T, k string) string {
	v := strings.TrimSpace(lookupEnv(k))
	if v == "" {
		t.Fatalf("%s is not set", k)
	}
	return v
}

// onWrites applies fault f to writes (UpdateItem, TransactWriteItems) while on is true.
func onWrites(f faultproxy.Fault, on *atomic.Bool) faultproxy.Plan {
	return func(op string) faultproxy.Fault {
		if on.Load() && (op == "UpdateItem" || op == "TransactWriteItems") {
			return f
		}
		return faultproxy.None
	}
}

func TestThrottlingAndOutagesAre503AndWriteNothing(t *testing.T) {
	// Each fault on a stack (table, proxy) of its own, at once: most of the time is the
	// SDK's backoff between its retries.
	for _, f := range []faultproxy.Fault{faultproxy.Throttle, faultproxy.ServerError, faultproxy.Reset} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			var on atomic.Bool
			on.Store(true)
			s, proxy := faultyStack(t, onWrites(f, &on))
			r := s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/cancel", s.token(t, "alice"), "")
			if r.status != 503 || r.header.Get("Retry-After") == "" || r.body["code"] != "UNAVAILABLE" {
				t.Fatalf("%d %s (Retry-After %q)", r.status, r.raw, r.header.Get("Retry-After"))
			}
			if n := proxy.Counts()["TransactWriteItems "+string(f)]; n < 2 {
				t.Errorf("the SDK tried %d times; it should retry before giving up", n)
			}
			if v := str(s.session(t, demodata.AliceActive), "version"); v != "1" {
				t.Errorf("a refused request wrote: version %s", v)
			}
			r = s.do(t, http.MethodPost, "/jobs/"+demodata.JobAssignedPending+"/cancel", s.token(t, "dana", "Dispatcher"), "")
			if r.status != 503 {
				t.Fatalf("job cancel: %d %s", r.status, r.raw)
			}
			// When the fault clears, the same requests go through.
			on.Store(false)
			if r := s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/cancel", s.token(t, "alice"), ""); r.status != 200 {
				t.Errorf("after the fault: %d %s", r.status, r.raw)
			}
		})
	}
}

func TestSlowDynamoDBStillAnswers(t *testing.T) {
	var on atomic.Bool
	on.Store(true)
	s, _ := faultyStack(t, onWrites(faultproxy.Slow, &on))
	if r := s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/pause", s.token(t, "alice"), ""); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

// TestResponseLostAfterTheWrite: DynamoDB applies the write but its answer never arrives.
// The SDK retries the transaction with the same ClientRequestToken. DynamoDB takes that as
// the same transaction and answers its success; the local moto runs it again, and it is
// cancelled on the request's own record, which the store answers as a replay (docs/local.md,
// "The local DynamoDB: moto"). Either way the caller gets a 200 and the entity one
// transition: a lost answer never applies a cancel twice.
func TestResponseLostAfterTheWrite(t *testing.T) {
	var drops atomic.Int32
	var tokens tokenLog
	plan := func(op string) faultproxy.Fault {
		if (op == "UpdateItem" || op == "TransactWriteItems") && drops.Add(1) == 1 {
			return faultproxy.DropAfterApply
		}
		return faultproxy.None
	}
	s, proxy := faultyStackWith(t, faultproxy.Config{Plan: plan, Observe: tokens.observe})
	r := s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/cancel", s.token(t, "alice"), `{"reason":"lost"}`)
	if sess, _ := r.body["session"].(map[string]any); r.status != 200 || r.header.Get("ETag") != `"2"` || sess["status"] != "cancelled" {
		t.Fatalf("%d ETag %s %s", r.status, r.header.Get("ETag"), r.raw)
	}
	if proxy.Counts()["TransactWriteItems drop-after-apply"] != 1 {
		t.Fatalf("faults: %v", proxy.Counts())
	}
	tokens.sameOnEveryAttempt(t, "the interview's cancel")
	if it := s.session(t, demodata.AliceActive); str(it, "version") != "2" || str(it, "cancelReason") != "lost" {
		t.Errorf("stored %s %s", str(it, "version"), str(it, "cancelReason"))
	}
	drops.Store(0)
	tokens.reset()
	r = s.do(t, http.MethodPost, "/jobs/"+demodata.JobAssignedConfirmed+"/cancel", s.token(t, "dana", "Dispatcher"), "")
	if r.status != 200 {
		t.Fatalf("job: %d %s", r.status, r.raw)
	}
	a, _ := r.body["assignment"].(map[string]any)
	if r.body["status"] != "Cancelled" || a == nil || a["status"] != "Cancelled" {
		t.Errorf("job response %s", r.raw)
	}
	tokens.sameOnEveryAttempt(t, "the job's cancel")
	if v := str(s.job(t, demodata.JobAssignedConfirmed), "version"); v != "3" {
		t.Errorf("job version %s, want 3 (one write)", v)
	}
}

// tokenLog records the ClientRequestToken of every TransactWriteItems the proxy forwards.
type tokenLog struct {
	mu     sync.Mutex
	tokens []string
}

var clientRequestToken = regexp.MustCompile(`"ClientRequestToken":"([^"]+)"`)

func (l *tokenLog) observe(ex faultproxy.Exchange) {
	if ex.Op != "TransactWriteItems" {
		return
	}
	m := clientRequestToken.FindSubmatch(ex.Request)
	l.mu.Lock()
	defer l.mu.Unlock()
	if m == nil {
		l.tokens = append(l.tokens, "")
		return
	}
	l.tokens = append(l.tokens, string(m[1]))
}

func (l *tokenLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens = nil
}

// sameOnEveryAttempt: the request's transaction was sent more than once (its first answer
// was lost), every time with one token, so DynamoDB can tell the retry from a new one.
func (l *tokenLog) sameOnEveryAttempt(t *testing.T, what string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.tokens) < 2 {
		t.Errorf("%s: %d transactions sent, want the first and the SDK's retry", what, len(l.tokens))
		return
	}
	for _, tok := range l.tokens {
		if tok == "" || tok != l.tokens[0] {
			t.Errorf("%s: the SDK's attempts carried the tokens %q, want one on every attempt", what, l.tokens)
			return
		}
	}
}

// TestClientRetryAfterEveryAnswerWasLost: every attempt's answer is lost, so the function
// gives up with a 503 although its write was applied. The client's retry with the same
// Idempotency-Key gets the original 200; a retry without it is told the truth (400).
func TestClientRetryAfterEveryAnswerWasLost(t *testing.T) {
	var on atomic.Bool
	on.Store(true)
	s, _ := faultyStack(t, onWrites(faultproxy.DropAfterApply, &on))
	alice := s.token(t, "alice")
	path := "/interviews/" + demodata.AliceActive + "/cancel"
	r := s.do(t, http.MethodPost, path, alice, `{"reason":"retry me"}`, "Idempotency-Key", "client-key-1")
	if r.status != 503 {
		t.Fatalf("first attempt: %d %s", r.status, r.raw)
	}
	if v := str(s.session(t, demodata.AliceActive), "version"); v != "2" {
		t.Fatalf("the write was not applied: version %s", v)
	}
	on.Store(false)
	r = s.do(t, http.MethodPost, path, alice, `{"reason":"retry me"}`, "Idempotency-Key", "client-key-1")
	if r.status != 200 || r.header.Get("Idempotent-Replayed") != "true" || r.body["success"] != true {
		t.Fatalf("retry with the key: %d %s", r.status, r.raw)
	}
	if r := s.do(t, http.MethodPost, path, alice, `{"reason":"retry me"}`); r.status != 400 {
		t.Errorf("retry without the key: %d %s", r.status, r.raw)
	}
}
