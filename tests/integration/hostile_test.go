package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
)

// TestHostileRequests sends what an attacker or a broken client would, over real HTTP:
// never a 5xx, never a write, always the documented error shape (stack.do holds every
// answer to openapi.yaml).
func TestHostileRequests(t *testing.T) {
	s := newStack(t)
	alice, dana := s.token(t, "alice"), s.token(t, "dana", "Dispatcher")
	mint := func(claims jwt.MapClaims) string {
		claims["iss"], claims["aud"] = "lifecycle-local", "lifecycle-api"
		if _, ok := claims["exp"]; !ok {
			claims["exp"] = time.Now().Add(time.Hour).Unix()
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	noneAlg := func() string {
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "alice", "iss": "lifecycle-local", "aud": "lifecycle-api", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
		return tok
	}()
	cases := []struct {
		name, method, path, token, body string
		headers                         []string
		want                            []int
	}{
		{"traversal in the id", "POST", "/interviews/..%2F..%2Fetc%2Fpasswd/cancel", alice, "", nil, []int{400}},
		{"encoded slash in the id", "POST", "/interviews/" + demodata.AliceActive + "%2Fx/cancel", alice, "", nil, []int{400}},
		{"dot segments", "POST", "/interviews/%2E%2E/cancel", alice, "", nil, []int{400}},
		{"double slash", "POST", "//interviews/" + demodata.AliceActive + "/cancel", alice, "", nil, []int{404}},
		{"dot segment around a route", "POST", "/interviews/x/../" + demodata.AliceActive + "/cancel", alice, "", nil, []int{404}},
		{"trailing slash", "POST", "/interviews/" + demodata.AliceActive + "/cancel/", alice, "", nil, []int{404}},
		{"null byte in the id", "GET", "/interviews/" + demodata.AliceActive[:35] + "%00", alice, "", nil, []int{400}},
		{"SQL in the id", "GET", "/interviews/1'%20OR%20'1'='1", alice, "", nil, []int{400}},
		{"unknown field", "POST", "/interviews/" + demodata.AliceActive + "/cancel", alice, `{"reason":"x","status":"active"}`, nil, []int{400}},
		{"duplicate field", "POST", "/interviews/" + demodata.AliceActive + "/cancel", alice, `{"reason":"x","reason":"y"}`, nil, []int{400}},
		{"wrong content type", "POST", "/interviews/" + demodata.AliceActive + "/cancel", alice, `<reason>x</reason>`, []string{"Content-Type", "application/xml"}, []int{415}},
		{"deeply nested JSON", "POST", "/interviews/" + demodata.AliceActive + "/cancel", alice, strings.Repeat("[", 5000) + strings.Repeat("]", 5000), nil, []int{400}},
		{"body over 16 KiB", "POST", "/jobs/" + demodata.JobUnassigned + "/cancel", dana, `{"reason":"` + strings.Repeat("é", 9000) + `"}`, nil, []int{413}},
		{"another owner's token", "POST", "/interviews/" + demodata.AliceActive + "/pause", s.token(t, "bob"), "", nil, []int{403}},
		{"forged token", "POST", "/interviews/" + demodata.AliceActive + "/pause", alice[:len(alice)-4] + "AAAA", "", nil, []int{401}},
		{"alg none token", "POST", "/interviews/" + demodata.AliceActive + "/pause", noneAlg, "", nil, []int{401}},
		{"expired token", "POST", "/interviews/" + demodata.AliceActive + "/pause", mint(jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(-time.Hour).Unix()}), "", nil, []int{401}},
		{"roles claim as an object", "POST", "/jobs/" + demodata.JobUnassigned + "/cancel", mint(jwt.MapClaims{"sub": "eve", "roles": map[string]any{"Dispatcher": true}}), "", nil, []int{403}},
		{"groups claim as a number", "POST", "/jobs/" + demodata.JobUnassigned + "/cancel", mint(jwt.MapClaims{"sub": "eve", "cognito:groups": 42}), "", nil, []int{403}},
		{"role named in another claim", "POST", "/jobs/" + demodata.JobUnassigned + "/cancel", mint(jwt.MapClaims{"sub": "eve", "role": "Admin", "scope": "Dispatcher"}), "", nil, []int{403}},
		{"sub as a number", "POST", "/interviews/" + demodata.AliceActive + "/pause", mint(jwt.MapClaims{"sub": 12345}), "", nil, []int{401, 403}},
		{"idempotency key with spaces", "POST", "/interviews/" + demodata.AliceActive + "/pause", alice, "", []string{"Idempotency-Key", "a b"}, []int{400}},
		{"bad escape in a filter", "GET", "/jobs?status=Bogus%G0", dana, "", nil, []int{400}},
		{"badly escaped second from", "GET", "/technicians/tom/assignments?from=2027-07-01T00:00:00Z&to=2027-07-02T00:00:00Z&from=%zz", dana, "", nil, []int{400}},
		{"offset of 24 hours in a filter", "GET", "/jobs?from=2027-07-01T00:00:00%2B24:00", dana, "", nil, []int{400}},
		{"body not UTF-8", "POST", "/jobs/" + demodata.JobUnassigned + "/assign", dana, "{\"technicianId\":\"tech-\xff\",\"scheduledStart\":\"2027-07-01T09:00:00Z\",\"scheduledEnd\":\"2027-07-01T10:00:00Z\"}", nil, []int{400}},
		{"lone surrogate escape", "POST", "/jobs/" + demodata.JobUnassigned + "/assign", dana, `{"technicianId":"tech-\ud800","scheduledStart":"2027-07-01T09:00:00Z","scheduledEnd":"2027-07-01T10:00:00Z"}`, nil, []int{400}},
		{"path not UTF-8", "GET", "/technicians/%FF/assignments?from=2027-07-01T00:00:00Z&to=2027-07-02T00:00:00Z", dana, "", nil, []int{400}},
		{"huge correlation id", "POST", "/interviews/" + demodata.AliceActive + "/pause", alice, "x", []string{"X-Correlation-Id", strings.Repeat("c", 4000)}, []int{400}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, c.method, c.path, c.token, c.body, c.headers...)
			ok := false
			for _, w := range c.want {
				ok = ok || r.status == w
			}
			if !ok {
				t.Fatalf("status %d, want one of %v: %s", r.status, c.want, r.raw)
			}
			if r.status >= 400 && r.header.Get("X-Correlation-Id") != "" {
				if e, _ := r.body["error"].(string); e == "" {
					t.Errorf("error body without an error: %s", r.raw)
				}
			}
			if cid := r.header.Get("X-Correlation-Id"); len(cid) > 128 {
				t.Errorf("a %d-character correlation id was echoed", len(cid))
			}
		})
	}
	for _, id := range []string{demodata.AliceActive, demodata.JobUnassigned} {
		it := s.session(t, id)
		if it == nil {
			it = s.job(t, id)
		}
		if v := str(it, "version"); v != "1" {
			t.Errorf("%s was written by a hostile request: version %s", id, v)
		}
	}
}

// TestUnicodeAndControlCharactersInReasons are stored exactly and echoed as escaped JSON.
func TestUnicodeAndControlCharactersInReasons(t *testing.T) {
	s := newStack(t)
	reason := "naïve \u0000 \u001b[31mred\u001b[0m <script>alert(1)</script> \"quoted\" \\ 日本語 🚀 \u2028 end"
	body := `{"reason":"naïve \u0000 \u001b[31mred\u001b[0m <script>alert(1)</script> \"quoted\" \\ 日本語 🚀 \u2028 end"}`
	r := s.do(t, http.MethodPost, "/jobs/"+demodata.JobAssignedPending+"/cancel", s.token(t, "dana", "Dispatcher"), body)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r.body["cancelReason"] != reason {
		t.Errorf("echoed %q, want %q", r.body["cancelReason"], reason)
	}
	if strings.Contains(r.raw, "<script>") || strings.ContainsRune(r.raw, 0) || strings.ContainsRune(r.raw, 0x1b) {
		t.Errorf("the response carries raw markup or control characters: %q", r.raw)
	}
	if r.header.Get("Content-Type") != "application/json" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", r.header)
	}
	if got := str(s.job(t, demodata.JobAssignedPending), "cancelReason"); got != reason {
		t.Errorf("stored %q, want %q", got, reason)
	}
}
