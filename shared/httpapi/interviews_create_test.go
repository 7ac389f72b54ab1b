package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/interview"
)

func createRequest(path, sub, body string, headers map[string]string) request {
	return request{method: http.MethodPost, path: path, routeKey: "POST " + path, sub: sub, body: body, headers: headers}
}

// sequentialIDs names sessions created without a key, in turn.
func sequentialIDs() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("0c000000-0000-4000-8000-%012d", n)
	}
}

const newSessionBody = `{"title":"  System design  ","topicIds":["t1"],"interviewerId":"aria","targetScore":80,"language":"en","difficulty":3,
	"retryPolicy":{"minCooldownHours":24}}`

func TestCreateInterviewMakesAnActiveSessionOfTheCaller(t *testing.T) {
	for _, path := range []string{"/interviews", "/api/interviews"} {
		store := newMemStore()
		logger, _ := newLogger()
		resp := invoke(t, CreateInterview(logger, defaults, store, sequentialIDs()), createRequest(path, "alice", newSessionBody, nil).event())
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Body)
		}
		body := decodeBody(t, resp)
		id, _ := body["id"].(string)
		if header(resp, "Location") != path+"/"+id || header(resp, "ETag") != `"1"` || header(resp, ReplayedHeader) != "" {
			t.Errorf("%s: headers %v", path, resp.Headers)
		}
		if body["status"] != "active" || body["title"] != "System design" || body["progress"] != 0.0 || body["score"] != 0.0 || body["difficulty"] != 3.0 {
			t.Errorf("%s: session %v", path, body)
		}
		if s := store.sessions[id]; s.OwnerID != "alice" || s.Version != 1 || s.Status != interview.Active || s.RetryPolicy == nil || *s.RetryPolicy.MinCooldownHours != 24 {
			t.Errorf("%s: stored %+v", path, s)
		}
	}
}

// TestCreateInterviewTakesAWholeDifficultyWithAFraction: 4.0 is the integer 4 (JSON
// Schema's integer, which openapi.yaml's difficulty is).
func TestCreateInterviewTakesAWholeDifficultyWithAFraction(t *testing.T) {
	store := newMemStore()
	logger, _ := newLogger()
	body := `{"title":"t","topicIds":[],"interviewerId":"i","difficulty":4.0}`
	resp := invoke(t, CreateInterview(logger, defaults, store, sequentialIDs()), createRequest("/interviews", "alice", body, nil).event())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s, want 201", resp.StatusCode, resp.Body)
	}
	id, _ := decodeBody(t, resp)["id"].(string)
	if d := store.sessions[id].Difficulty; d != 4 {
		t.Errorf("stored difficulty %d, want 4", d)
	}
}

// TestCreateInterviewIsSafeToRetry: with an Idempotency-Key the id is derived from the
// caller and the key, so a retry finds the session its first attempt made; another body
// under the key is a 422; another caller's same key is another session; no key, no
// replay.
func TestCreateInterviewIsSafeToRetry(t *testing.T) {
	store := newMemStore()
	logger, _ := newLogger()
	h := CreateInterview(logger, defaults, store, sequentialIDs())
	key := map[string]string{IdempotencyHeader: "create-1"}
	first := invoke(t, h, createRequest("/interviews", "alice", newSessionBody, key).event())
	again := invoke(t, h, createRequest("/interviews", "alice", newSessionBody, key).event())
	if first.StatusCode != http.StatusCreated || again.StatusCode != http.StatusCreated || header(again, ReplayedHeader) != "true" ||
		decodeBody(t, first)["id"] != decodeBody(t, again)["id"] || len(store.sessions) != 1 {
		t.Fatalf("a retry: %d then %d (%v), %d sessions", first.StatusCode, again.StatusCode, again.Headers, len(store.sessions))
	}
	other := invoke(t, h, createRequest("/interviews", "alice", strings.Replace(newSessionBody, "aria", "ben", 1), key).event())
	if other.StatusCode != http.StatusUnprocessableEntity || decodeBody(t, other)["code"] != codeIdempotencyKeyReused {
		t.Errorf("the key with another body: %d %s", other.StatusCode, other.Body)
	}
	bob := invoke(t, h, createRequest("/interviews", "bob", newSessionBody, key).event())
	if bob.StatusCode != http.StatusCreated || decodeBody(t, bob)["id"] == decodeBody(t, first)["id"] {
		t.Errorf("another caller's same key: %d %s", bob.StatusCode, bob.Body)
	}
	a := invoke(t, h, createRequest("/interviews", "alice", newSessionBody, nil).event())
	b := invoke(t, h, createRequest("/interviews", "alice", newSessionBody, nil).event())
	if decodeBody(t, a)["id"] == decodeBody(t, b)["id"] || len(store.sessions) != 4 {
		t.Errorf("two creates without a key made %d sessions in all", len(store.sessions))
	}
}

func TestCreateInterviewRefusals(t *testing.T) {
	cases := []struct {
		name, body string
		sub        string
		status     int
		details    []string
	}{
		{"no claims", newSessionBody, "", http.StatusUnauthorized, nil},
		{"no body", ``, "alice", http.StatusBadRequest, []string{"title is required", "topicIds is required", "interviewerId is required"}},
		{"blank title, bad enums", `{"title":" ","topicIds":[],"interviewerId":"i","language":"fr","difficulty":0}`, "alice", http.StatusBadRequest,
			[]string{"title must not be blank", "language must be one of ko, en, ja", "difficulty must be an integer from 1 to 5"}},
		{"out of range", `{"title":"t","topicIds":[""],"interviewerId":"i","targetScore":101,"retryPolicy":{"minCooldownHours":-1}}`, "alice", http.StatusBadRequest,
			[]string{"each of topicIds must be 1 to 100 characters", "targetScore must be from 0 to 100", "retryPolicy.minCooldownHours must be from 0 to 8760"}},
		{"too long", `{"title":"` + strings.Repeat("x", 201) + `","topicIds":[],"interviewerId":"i","notes":"` + strings.Repeat("n", 2001) + `"}`, "alice", http.StatusBadRequest,
			[]string{"title must be at most 200 characters", "notes must be at most 2000 characters"}},
		{"a field of the lifecycle's", `{"title":"t","topicIds":[],"interviewerId":"i","status":"completed"}`, "alice", http.StatusBadRequest, []string{`unknown field "status"`}},
		{"a field of the wrong type", `{"title":"t","topicIds":"t1","interviewerId":"i"}`, "alice", http.StatusBadRequest, []string{"topicIds must be"}},
		// Found by schemathesis: the body's rules hold inside its objects too.
		{"an unknown field in retryPolicy", `{"title":"t","topicIds":[],"interviewerId":"i","retryPolicy":{"x":{"y":[1]}}}`, "alice", http.StatusBadRequest,
			[]string{`unknown field "retryPolicy.x"`}},
		{"a duplicate field in retryPolicy", `{"title":"t","topicIds":[],"interviewerId":"i","retryPolicy":{"minCooldownHours":1,"minCooldownHours":2}}`, "alice", http.StatusBadRequest,
			[]string{`duplicate field "retryPolicy.minCooldownHours"`}},
		{"retryPolicy not an object", `{"title":"t","topicIds":[],"interviewerId":"i","retryPolicy":[1]}`, "alice", http.StatusBadRequest,
			[]string{"retryPolicy must be an object"}},
		{"a field of the wrong type in retryPolicy", `{"title":"t","topicIds":[],"interviewerId":"i","retryPolicy":{"autoSuggestIfBelow":"50"}}`, "alice", http.StatusBadRequest,
			[]string{"retryPolicy.autoSuggestIfBelow must be a number"}},
		{"a null in retryPolicy", `{"title":"t","topicIds":[],"interviewerId":"i","retryPolicy":{"minCooldownHours":null}}`, "alice", http.StatusBadRequest,
			[]string{"retryPolicy.minCooldownHours must not be null"}},
		{"a null the schema does not allow", `{"title":"t","topicIds":[],"interviewerId":"i","notes":null}`, "alice", http.StatusBadRequest,
			[]string{"notes must not be null"}},
		{"a difficulty with a fraction", `{"title":"t","topicIds":[],"interviewerId":"i","difficulty":2.5}`, "alice", http.StatusBadRequest,
			[]string{"difficulty must be an integer from 1 to 5"}},
		{"a difficulty that is not a number", `{"title":"t","topicIds":[],"interviewerId":"i","difficulty":"3"}`, "alice", http.StatusBadRequest,
			[]string{"difficulty must be a number"}},
		{"a null retryPolicy", `{"title":"t","topicIds":[],"interviewerId":"i","retryPolicy":null}`, "alice", http.StatusBadRequest,
			[]string{"retryPolicy must not be null"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newMemStore()
			logger, _ := newLogger()
			resp := invoke(t, CreateInterview(logger, defaults, store, sequentialIDs()), createRequest("/interviews", c.sub, c.body, nil).event())
			if resp.StatusCode != c.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, resp.Body, c.status)
			}
			details, _ := decodeBody(t, resp)["details"].(string)
			for _, d := range c.details {
				if !strings.Contains(details, d) {
					t.Errorf("details %q do not say %q", details, d)
				}
			}
			if len(store.sessions) != 0 {
				t.Error("a refused create stored a session")
			}
		})
	}
}
