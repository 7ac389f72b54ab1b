package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
)

func (s *stack) putSession(t *testing.T, sess interview.Session) {
	t.Helper()
	if _, err := s.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: dynamo.SessionItem(sess)}); err != nil {
		t.Fatal(err)
	}
}

func TestPauseResumeContract(t *testing.T) {
	s := newStack(t)
	alice := s.token(t, "alice")
	cases := []struct {
		name, path, token, body string
		status                  int
		want                    map[string]any
	}{
		{"pause active", "/interviews/" + demodata.AliceActive + "/pause", alice, "", 200, map[string]any{"id": demodata.AliceActive, "status": "paused"}},
		{"pause via /api with {}", "/api/interviews/" + demodata.AliceActive2 + "/pause", alice, "{}", 200, map[string]any{"status": "paused"}},
		{"pause a paused session", "/interviews/" + demodata.AlicePaused + "/pause", alice, "", 404,
			map[string]any{"error": "Failed to pause interview", "code": "INVALID_TRANSITION", "currentStatus": "paused", "details": "current status is paused"}},
		{"pause a cancelled session", "/interviews/" + demodata.AliceCancelled + "/pause", alice, "", 404,
			map[string]any{"error": "Failed to pause interview", "code": "INVALID_TRANSITION", "currentStatus": "cancelled"}},
		{"pause a missing session", "/interviews/" + demodata.MissingSession + "/pause", alice, "", 404,
			map[string]any{"error": "Failed to pause interview", "code": "NOT_FOUND"}},
		{"pause another's session", "/interviews/" + demodata.BobActive + "/pause", alice, "", 403, map[string]any{"error": "Forbidden"}},
		{"pause with a bad id", "/interviews/xyz/pause", alice, "", 400, map[string]any{"error": "Invalid request", "details": "id must be a UUID"}},
		{"pause with a non-JSON body", "/interviews/" + demodata.AliceActive3 + "/pause", alice, "now!", 400, map[string]any{"error": "Invalid request"}},
		{"pause without a token", "/interviews/" + demodata.AliceActive3 + "/pause", "", "", 401, map[string]any{"error": "Unauthorized"}},
		{"resume paused", "/interviews/" + demodata.AlicePaused + "/resume", alice, "", 200, map[string]any{"id": demodata.AlicePaused, "status": "active"}},
		{"resume via /api", "/api/interviews/" + demodata.AlicePaused2 + "/resume", alice, "", 200, map[string]any{"status": "active"}},
		{"resume active", "/interviews/" + demodata.AliceActive3 + "/resume", alice, "", 404,
			map[string]any{"error": "Failed to resume interview", "code": "INVALID_TRANSITION", "currentStatus": "active"}},
		{"resume completed", "/interviews/" + demodata.AliceCompleted + "/resume", alice, "", 404,
			map[string]any{"error": "Failed to resume interview", "code": "INVALID_TRANSITION", "currentStatus": "completed"}},
		{"resume missing", "/interviews/" + demodata.MissingSession + "/resume", alice, "", 404,
			map[string]any{"error": "Failed to resume interview", "code": "NOT_FOUND"}},
		{"resume another's", "/interviews/" + demodata.BobPaused + "/resume", alice, "", 403, map[string]any{"error": "Forbidden"}},
		{"resume with a bad id", "/interviews/1/resume", alice, "", 400, map[string]any{"error": "Invalid request"}},
		{"resume without a token", "/interviews/" + demodata.BobPaused + "/resume", "", "", 401, map[string]any{"error": "Unauthorized"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, c.path, c.token, c.body)
			if r.status != c.status {
				t.Fatalf("status = %d, want %d: %s", r.status, c.status, r.raw)
			}
			for k, v := range c.want {
				if r.body[k] != v {
					t.Errorf("%s = %v, want %v (%s)", k, r.body[k], v, r.raw)
				}
			}
			if c.status == 200 {
				if _, ok := r.body["success"]; ok {
					t.Error("pause/resume return the session object itself")
				}
				if r.body["recentMessages"] == nil || r.body["conversationId"] == nil {
					t.Errorf("conversation history missing: %s", r.raw)
				}
			}
		})
	}
	// What the 200s stored.
	paused := s.session(t, demodata.AliceActive)
	for k, v := range map[string]string{"status": "paused", "previousStatus": "active", "version": "2", "ownerStatus": "alice#paused", "lastAction": "pause"} {
		if got := str(paused, k); got != v {
			t.Errorf("paused item %s = %q, want %q", k, got, v)
		}
	}
	if str(paused, "pausedAt") == "" || str(paused, "pausedAt") != str(paused, "updatedAt") {
		t.Errorf("pausedAt %q updatedAt %q", str(paused, "pausedAt"), str(paused, "updatedAt"))
	}
	resumed := s.session(t, demodata.AlicePaused)
	if str(resumed, "status") != "active" || str(resumed, "resumedAt") == "" || str(resumed, "ownerStatus") != "alice#active" {
		t.Errorf("resumed item: %v", resumed)
	}
}

func TestPauseAndResumeKeepTheConversation(t *testing.T) {
	s := newStack(t)
	alice := s.token(t, "alice")
	before := s.session(t, demodata.AliceActive)
	for _, verb := range []string{"pause", "resume", "pause", "resume"} {
		if r := s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/"+verb, alice, ""); r.status != 200 {
			t.Fatalf("%s: %d %s", verb, r.status, r.raw)
		}
	}
	after := s.session(t, demodata.AliceActive)
	for _, k := range []string{"recentMessages", "conversationId", "title", "topicIds", "createdAt", "score", "progress"} {
		if !reflect.DeepEqual(after[k], before[k]) {
			t.Errorf("%s changed: %v -> %v", k, before[k], after[k])
		}
	}
	if str(after, "version") != "5" {
		t.Errorf("version = %s after 4 transitions from 1", str(after, "version"))
	}
}

func TestGetInterviewContract(t *testing.T) {
	s := newStack(t)
	alice := s.token(t, "alice")
	cases := []struct {
		name, path, token string
		status            int
		want              map[string]any
	}{
		{"own session", "/interviews/" + demodata.AlicePaused, alice, 200, map[string]any{"id": demodata.AlicePaused, "status": "paused", "title": "Go concurrency deep dive"}},
		{"via /api", "/api/interviews/" + demodata.AliceCompleted, alice, 200, map[string]any{"status": "completed"}},
		{"another's session", "/interviews/" + demodata.BobActive, alice, 403, map[string]any{"error": "Forbidden"}},
		{"missing", "/interviews/" + demodata.MissingSession, alice, 404, map[string]any{"error": "Interview session not found", "code": "NOT_FOUND"}},
		{"bad id", "/interviews/not-an-id", alice, 400, map[string]any{"error": "Invalid request"}},
		{"no token", "/interviews/" + demodata.AlicePaused, "", 401, map[string]any{"error": "Unauthorized"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, http.MethodGet, c.path, c.token, "")
			if r.status != c.status {
				t.Fatalf("status = %d, want %d: %s", r.status, c.status, r.raw)
			}
			for k, v := range c.want {
				if r.body[k] != v {
					t.Errorf("%s = %v, want %v", k, r.body[k], v)
				}
			}
		})
	}
	// A read right after a write sees it (strongly consistent GetItem).
	s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive+"/pause", alice, "")
	if r := s.do(t, http.MethodGet, "/interviews/"+demodata.AliceActive, alice, ""); r.body["status"] != "paused" || r.header.Get("ETag") != `"2"` {
		t.Errorf("read after pause: %v etag %s", r.body["status"], r.header.Get("ETag"))
	}
}

func listIDs(t *testing.T, r response) []string {
	t.Helper()
	items, ok := r.body["items"].([]any)
	if !ok {
		t.Fatalf("no items array: %s", r.raw)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	return ids
}

func TestListInterviewsContract(t *testing.T) {
	s := newStack(t)
	alice, bob := s.token(t, "alice"), s.token(t, "bob")

	// Newest createdAt first, only the caller's.
	var aliceIDs []string
	for _, sess := range demodata.Sessions() {
		if sess.OwnerID == "alice" {
			aliceIDs = append(aliceIDs, sess.ID)
		}
	}
	slices.SortFunc(aliceIDs, func(a, b string) int { return createdOf(a).Compare(createdOf(b)) * -1 })
	r := s.do(t, http.MethodGet, "/interviews", alice, "")
	if r.status != 200 || !slices.Equal(listIDs(t, r), aliceIDs) {
		t.Fatalf("list = %d %v, want %v", r.status, listIDs(t, r), aliceIDs)
	}
	if _, ok := r.body["nextCursor"]; ok {
		t.Error("a complete listing has no nextCursor")
	}
	// Summaries: the indexes hold no conversation history, and a listing returns none.
	for _, it := range r.body["items"].([]any) {
		if _, ok := it.(map[string]any)["recentMessages"]; ok {
			t.Errorf("listed with recentMessages: %v", it.(map[string]any)["id"])
		}
	}

	// Status filter.
	r = s.do(t, http.MethodGet, "/api/interviews?status=paused", alice, "")
	if got := listIDs(t, r); !slices.Equal(got, []string{demodata.AlicePaused, demodata.AlicePaused2}) {
		t.Errorf("paused = %v", got)
	}
	r = s.do(t, http.MethodGet, "/interviews?status=paused", bob, "")
	if got := listIDs(t, r); !slices.Equal(got, []string{demodata.BobPaused}) {
		t.Errorf("bob's paused = %v", got)
	}

	// Pages of 2 walk the same order without gaps or repeats, and never end on an empty page.
	var walked []string
	cursor, pages := "", 0
	for {
		q := "/interviews?limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := s.do(t, http.MethodGet, q, alice, "")
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.raw)
		}
		ids := listIDs(t, r)
		if len(ids) == 0 {
			t.Fatal("an empty page was handed out")
		}
		walked = append(walked, ids...)
		pages++
		next, _ := r.body["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(walked, aliceIDs) || pages != 4 {
		t.Errorf("walked %v in %d pages, want %v in 4", walked, pages, aliceIDs)
	}

	// A pause puts the session into the paused listing at its place by creation, and leaves
	// its place in the full listing as it was.
	s.do(t, http.MethodPost, "/interviews/"+demodata.AliceActive3+"/pause", alice, "")
	r = s.do(t, http.MethodGet, "/interviews?status=paused", alice, "")
	if got := listIDs(t, r); !slices.Equal(got, []string{demodata.AlicePaused, demodata.AliceActive3, demodata.AlicePaused2}) {
		t.Errorf("after pausing, paused = %v", got)
	}
	if r = s.do(t, http.MethodGet, "/interviews", alice, ""); !slices.Equal(listIDs(t, r), aliceIDs) {
		t.Errorf("after pausing, list = %v, want %v", listIDs(t, r), aliceIDs)
	}

	// A cursor belongs to the listing that issued it: not another caller's, not another
	// status filter's.
	r = s.do(t, http.MethodGet, "/interviews?limit=1", alice, "")
	aliceCursor, _ := r.body["nextCursor"].(string)
	for name, c := range map[string]struct{ query, token string }{
		"bob with alice's cursor":             {"/interviews?limit=1&cursor=", bob},
		"alice's cursor with a status filter": {"/interviews?status=active&limit=1&cursor=", alice},
	} {
		if r := s.do(t, http.MethodGet, c.query+url.QueryEscape(aliceCursor), c.token, ""); r.status != 400 || !strings.Contains(fmt.Sprint(r.body["details"]), "another listing") {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}

	// Bad parameters (an empty one is not an absent one). The last: a cursor of the earlier
	// design, sorted by updatedAt ("u"), is refused.
	for _, q := range []string{"status=archived", "status=", "cursor=", "limit=", "limit=0", "limit=101", "limit=x", "cursor=bogus", "cursor=" + url.QueryEscape("eyJ1IjoiMjAyNi0xMS0wMVQwOTowMDowMC4wMDBaIiwiaSI6Ii4uIn0"),
		"cursor=eyJ1IjoiMjAyNi0xMC0yOVQwOTowMDowMC4wMDBaIiwiaSI6ImExMWNlMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMyJ9"} {
		if r := s.do(t, http.MethodGet, "/interviews?"+q, alice, ""); r.status != 400 || r.body["error"] != "Invalid request" {
			t.Errorf("%s: %d %s", q, r.status, r.raw)
		}
	}
	if r := s.do(t, http.MethodGet, "/interviews", "", ""); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}
	// A user with no sessions gets an empty array.
	if r := s.do(t, http.MethodGet, "/interviews", s.token(t, "carol"), ""); r.status != 200 || len(listIDs(t, r)) != 0 {
		t.Errorf("carol: %d %s", r.status, r.raw)
	}
}

func createdOf(id string) time.Time {
	for _, s := range demodata.Sessions() {
		if s.ID == id {
			return s.CreatedAt
		}
	}
	return time.Time{}
}

// TestCommandLineFlow is issue 3's walk-through: list paused, pause, pause again,
// resume, cancel, resume.
func TestCommandLineFlow(t *testing.T) {
	s := newStack(t)
	alice := s.token(t, "alice")
	id := demodata.AliceActive
	steps := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/interviews?status=paused", 200, ""},
		{http.MethodPost, "/interviews/" + id + "/pause", 200, ""},
		{http.MethodPost, "/interviews/" + id + "/pause", 404, "INVALID_TRANSITION"},
		{http.MethodPost, "/interviews/" + id + "/resume", 200, ""},
		{http.MethodPost, "/interviews/" + id + "/cancel", 200, ""},
		{http.MethodPost, "/interviews/" + id + "/resume", 404, "INVALID_TRANSITION"},
	}
	for i, st := range steps {
		r := s.do(t, st.method, st.path, alice, "")
		if r.status != st.status || (st.code != "" && r.body["code"] != st.code) {
			t.Fatalf("step %d %s %s: %d %s", i, st.method, st.path, r.status, r.raw)
		}
	}
}

// TestConcurrentMixedTransitions fires 100 concurrent pause, resume and cancel requests
// at one session and checks them against the writes DynamoDB actually made (its stream):
// every 200 is exactly one write, each write left a status its action may leave and
// stepped the version by one, the final version is the number of 200s, and nothing
// succeeds once the session is cancelled.
func TestConcurrentMixedTransitions(t *testing.T) {
	s := newStack(t)
	id := "c0c0c0c0-0000-4000-8000-000000000001"
	sess := demodata.Sessions()[0]
	sess.ID, sess.Version, sess.Status = id, 0, interview.Active
	s.putSession(t, sess)
	alice := s.token(t, "alice")

	const n = 100
	verbs := []string{"pause", "resume", "cancel"}
	type result struct {
		verb, corr string
		r          response
	}
	results := make([]result, n)
	rng := rand.New(rand.NewPCG(1, 2))
	plan := make([]string, n)
	jitter := make([]time.Duration, n)
	for i := range plan {
		// Pauses and resumes spread over ~100 ms, and two cancels in the middle: the
		// session goes through many transitions, then a cancel ends it while requests
		// are still arriving.
		plan[i] = verbs[rng.IntN(2)]
		jitter[i] = time.Duration(rng.IntN(100)) * time.Millisecond
	}
	for _, i := range []int{17, 61} {
		plan[i], jitter[i] = "cancel", 50*time.Millisecond
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			time.Sleep(jitter[i])
			corr := "mix-" + strconv.Itoa(i)
			results[i] = result{plan[i], corr, s.doAsAClient(t, http.MethodPost, "/interviews/"+id+"/"+plan[i], alice, "", "X-Correlation-Id", corr)}
		}()
	}
	close(start)
	wg.Wait()

	successes := map[string]string{} // correlation id -> verb
	for _, res := range results {
		switch {
		case res.r.status == 200:
			successes[res.corr] = res.verb
		case res.r.status == 404 || res.r.status == 400:
			if res.r.body["code"] != "INVALID_TRANSITION" {
				t.Errorf("%s: %d %s", res.verb, res.r.status, res.r.raw)
			}
		default:
			t.Errorf("%s: unexpected %d %s", res.verb, res.r.status, res.r.raw)
		}
	}

	legalFrom := map[string][]string{"pause": {"active"}, "resume": {"paused"}, "cancel": {"active", "paused"}}
	target := map[string]string{"pause": "paused", "resume": "active", "cancel": "cancelled"}
	var writes int
	seen := map[string]bool{}
	lastVersion, lastStatus := 0, "active"
	for _, rec := range streamRecords(t, s) {
		if rec.Dynamodb == nil || imageStr(rec.Dynamodb.NewImage, "id") != id || rec.EventName != "MODIFY" {
			continue
		}
		writes++
		old, nw := rec.Dynamodb.OldImage, rec.Dynamodb.NewImage
		corr := imageStr(nw, "correlationId")
		verb, ok := successes[corr]
		if !ok {
			t.Errorf("a write (%s) with no 200 behind it", corr)
			continue
		}
		if seen[corr] {
			t.Errorf("request %s wrote twice", corr)
		}
		seen[corr] = true
		ov, _ := strconv.Atoi(imageStr(old, "version"))
		nv, _ := strconv.Atoi(imageStr(nw, "version"))
		if nv != ov+1 || ov != lastVersion {
			t.Errorf("%s: version %d -> %d after %d", corr, ov, nv, lastVersion)
		}
		if imageStr(old, "status") != lastStatus || !slices.Contains(legalFrom[verb], imageStr(old, "status")) {
			t.Errorf("%s %s from %q (the previous write left %q)", corr, verb, imageStr(old, "status"), lastStatus)
		}
		if imageStr(nw, "status") != target[verb] || imageStr(nw, "previousStatus") != imageStr(old, "status") {
			t.Errorf("%s %s wrote status %q previous %q", corr, verb, imageStr(nw, "status"), imageStr(nw, "previousStatus"))
		}
		if lastStatus == "cancelled" {
			t.Errorf("%s succeeded after the session was cancelled", corr)
		}
		lastVersion, lastStatus = nv, imageStr(nw, "status")
	}
	if lastStatus != "cancelled" {
		t.Errorf("the session ended %s; a cancel must have ended it", lastStatus)
	}
	if len(successes) < 2 {
		t.Errorf("only %d successes: the test did not exercise a chain of transitions", len(successes))
	}
	if writes != len(successes) {
		t.Errorf("%d writes for %d successes", writes, len(successes))
	}
	final := s.session(t, id)
	if v, _ := strconv.Atoi(str(final, "version")); v != len(successes) || str(final, "status") != lastStatus {
		t.Errorf("final version %s status %s; %d successes, last status %s", str(final, "version"), str(final, "status"), len(successes), lastStatus)
	}
	t.Logf("%d requests: %d succeeded, final status %s", n, len(successes), lastStatus)
}
