package stack

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/coder/websocket"

	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/eventbus"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/streampoller"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// TestFailedStartStopsWhatItStarted: a start that fails half-way (here: the fault proxy
// cannot be set up) returns the error, not a panic, and leaves no moto server
// running.
func TestFailedStartStopsWhatItStarted(t *testing.T) {
	prereq.Need(t, prereq.Moto)
	var endpoints []string
	refused := errors.New("no proxy today")
	stack, err := Start(context.Background(), Options{
		Table: "failing", AuditTable: "failing-audit", LogDir: filepath.Join(t.TempDir(), "logs"),
		Logger: slog.New(slog.DiscardHandler),
		Verify: func(string) (map[string]string, error) { return nil, errors.New("unused") },
		Via: func(service, endpoint string) (string, error) {
			endpoints = append(endpoints, endpoint)
			return "", refused
		},
	})
	if !errors.Is(err, refused) || stack != nil {
		t.Fatalf("Start = %v, %v; want nil and the Via error", stack, err)
	}
	if len(endpoints) == 0 {
		t.Fatal("Via was never called: the test did not reach the point it means to fail at")
	}
	for _, e := range endpoints {
		u, err := url.Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", u.Host, 200*time.Millisecond)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatalf("%s still answers after the failed start", e)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// TestTheLocalServerAnswersLikeAPIGateway drives the whole local server (what `make run`
// serves, local pages included), not the API router alone: paths with empty or dot
// segments are API Gateway's 404, never a redirect; a body that stops short of its
// Content-Length is answered, not waited on for ever; the console's pages still serve.
func TestTheLocalServerAnswersLikeAPIGateway(t *testing.T) {
	prereq.Need(t, prereq.Moto)
	_, srv := startServed(t, Options{})

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"//interviews/" + demodata.AliceActive, "/x/../interviews", "/interviews/./" + demodata.AliceActive, "/console/../interviews", "//_local/events"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		req.URL.Opaque = p // sent as written, dot segments and all
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || string(body) != `{"message":"Not Found"}` || resp.Header.Get("Location") != "" {
			t.Errorf("GET %s = %d %q (Location %q), want API Gateway's 404", p, resp.StatusCode, body, resp.Header.Get("Location"))
		}
	}
	for _, p := range []string{"/console", "/console/", "/_local/events"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want the local page", p, resp.StatusCode)
		}
	}

	// A body shorter than its Content-Length: the gateway answers within its body read
	// timeout (10 s) instead of holding the connection.
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /interviews/%s/cancel HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"re", demodata.AliceActive, strings.TrimPrefix(srv.URL, "http://"))
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a short body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "Request Timeout") {
		t.Errorf("short body = %d %s, want 408", resp.StatusCode, body)
	}
}

// TestResetPutsTheDemoDataBack: `make reset` restores the demo data in place, announces no
// transition (the stream gets removals and inserts only), and moves each version on, so the
// next transition's eventId is one no consumer has seen.
func TestResetPutsTheDemoDataBack(t *testing.T) {
	prereq.Need(t, prereq.Moto)
	st, srv := startServed(t, Options{ManualPoll: true})
	if code, m := call(t, srv, http.MethodPost, "/interviews/"+demodata.AliceActive+"/pause", ""); code != 200 || m["status"] != "paused" {
		t.Fatalf("pause = %d %v", code, m)
	}
	var announced []string
	poller := &streampoller.Poller{
		Streams: st.Poller.Streams, StreamARN: st.Poller.StreamARN, BatchSize: 100, MaxRetries: 1,
		Logger: slog.New(slog.DiscardHandler),
		Handler: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			for _, r := range ev.Records {
				if e, ok, err := eventbus.Derive(r); err == nil && ok {
					announced = append(announced, e.EventID)
				}
			}
			return events.DynamoDBEventResponse{}, nil
		},
	}
	ctx := context.Background()
	if _, err := poller.Poll(ctx); err != nil || len(announced) != 1 {
		t.Fatalf("before the reset: %v announced, err %v; want the pause", announced, err)
	}

	reset(t, srv)
	if _, err := poller.Poll(ctx); err != nil || len(announced) != 1 {
		t.Fatalf("the reset announced %v (err %v); it must announce nothing", announced[1:], err)
	}
	if code, m := call(t, srv, http.MethodGet, "/interviews/"+demodata.AliceActive, ""); code != 200 || m["status"] != "active" {
		t.Fatalf("after the reset: %d %v, want the session active again", code, m)
	}
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(st.Info.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "INTERVIEW#" + demodata.AliceActive}, "sk": &types.AttributeValueMemberS{Value: "INTERVIEW"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := out.Item["version"].(*types.AttributeValueMemberN).Value; v != "3" {
		t.Errorf("version after pause and reset = %s, want 3 (1, the pause's 2, the reset's 3)", v)
	}
	if code, _ := call(t, srv, http.MethodPost, "/interviews/"+demodata.AliceActive+"/pause", ""); code != 200 {
		t.Fatalf("pause after the reset = %d", code)
	}
	if _, err := poller.Poll(ctx); err != nil || len(announced) != 2 || announced[0] == announced[1] {
		t.Fatalf("eventIds %v: the pause after the reset must announce a new one", announced)
	}
}

// TestResetReleasesWhatTheDemoJobsBookedSince: a demo job booked after Load is Unassigned
// again after a reset, and its booking's time is free again: the technician's schedule no
// longer shows it, and the same booking is made again (it met its own slots before).
func TestResetReleasesWhatTheDemoJobsBookedSince(t *testing.T) {
	prereq.Need(t, prereq.Moto)
	_, srv := startServed(t, Options{ManualPoll: true})
	dispatcher := []string{"Dispatcher"}
	booking := `{"technicianId":"tom","scheduledStart":"2031-01-06T09:00:00Z","scheduledEnd":"2031-01-06T10:00:00Z"}`
	assign := "/jobs/" + demodata.JobUnassigned + "/assign"
	schedule := "/technicians/tom/assignments?from=2031-01-06T00:00:00Z&to=2031-01-07T00:00:00Z"
	if code, m := callAs(t, srv, "dana", dispatcher, http.MethodPost, assign, booking); code != 200 || m["status"] != "Assigned" {
		t.Fatalf("assign = %d %v", code, m)
	}
	reset(t, srv)
	if code, m := callAs(t, srv, "dana", dispatcher, http.MethodGet, "/jobs/"+demodata.JobUnassigned, ""); code != 200 || m["status"] != "Unassigned" || m["assignment"] != nil {
		t.Errorf("the job after the reset = %d %v, want it Unassigned with no assignment", code, m)
	}
	if code, m := callAs(t, srv, "dana", dispatcher, http.MethodGet, schedule, ""); code != 200 || len(m["bookings"].([]any)) != 0 {
		t.Errorf("tom's schedule after the reset = %d %v, want no booking", code, m)
	}
	if code, m := callAs(t, srv, "dana", dispatcher, http.MethodPost, assign, booking); code != 200 || m["status"] != "Assigned" {
		t.Errorf("the same booking after the reset = %d %v, want it made again", code, m)
	}
}

// reset is make reset: POST /_local/reset, which must answer 200.
func reset(t *testing.T, srv *httptest.Server) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/_local/reset", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset = %d", resp.StatusCode)
	}
}

var testKey = []byte("stack-test-signing-key-0123456789")

// startServed starts a stack with the console (and so /_local/reset) mounted, o's options
// added, and serves it over HTTP as `make run` does.
func startServed(t *testing.T, o Options) (*Stack, *httptest.Server) {
	t.Helper()
	o.Table, o.AuditTable, o.LogDir = "served", "served-audit", filepath.Join(t.TempDir(), "logs")
	o.Logger = slog.New(slog.DiscardHandler)
	o.Verify = func(tok string) (map[string]string, error) { return devauth.Verify(testKey, tok, time.Now()) }
	o.Mint = func(sub string, roles []string, ttl time.Duration, now time.Time) (string, error) {
		return devauth.Mint(testKey, sub, roles, ttl, now)
	}
	st, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	srv := httptest.NewServer(st.Handler)
	t.Cleanup(srv.Close)
	return st, srv
}

// call sends a request to srv as alice and decodes the JSON answer.
func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	return callAs(t, srv, "alice", nil, method, path, body)
}

// callAs is call by sub with roles.
func callAs(t *testing.T, srv *httptest.Server, sub string, roles []string, method, path, body string) (int, map[string]any) {
	t.Helper()
	token, err := devauth.Mint(testKey, sub, roles, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestAPauseUntilATimeResumesOnTheStack: the stack as `make run` serves it (stream poller,
// plan-resume on its rule, the schedule in moto, its firing, the live channel all running
// by themselves), with a lead of a second: a pause until a time is resumed at that time,
// and the owner's open WebSocket hears the pause and then the resume by the scheduler.
func TestAPauseUntilATimeResumesOnTheStack(t *testing.T) {
	prereq.Need(t, prereq.Moto)
	_, srv := startServed(t, Options{Wiring: func(c *wiring.Config) { c.ResumeMinLead = time.Second }})
	code, tk := call(t, srv, http.MethodPost, "/api/live/tickets", "")
	if code != http.StatusCreated {
		t.Fatalf("ticket: %d %v", code, tk)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(wctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/live",
		&websocket.DialOptions{Subprotocols: []string{live.Subprotocol, live.TicketProtocolPrefix + tk["ticket"].(string)}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()

	resumeAt := time.Now().Add(2 * time.Second).UTC().Truncate(time.Millisecond)
	if code, m := call(t, srv, http.MethodPost, "/interviews/"+demodata.AliceActive+"/pause", `{"resumeAt":"`+lifecycle.FormatTime(resumeAt)+`"}`); code != http.StatusOK || m["resumeAt"] == nil {
		t.Fatalf("pause until %s = %d %v", resumeAt, code, m)
	}
	var got []live.Message
	for len(got) < 2 {
		_, data, err := conn.Read(wctx)
		if err != nil {
			t.Fatalf("after %d messages (%+v): %v", len(got), got, err)
		}
		var m live.Message
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	var detail struct {
		Actor      struct{ Sub string } `json:"actor"`
		OccurredAt time.Time            `json:"occurredAt"`
	}
	_ = json.Unmarshal(got[1].Detail, &detail)
	if got[0].Type != event.TypeInterviewPaused || got[1].Type != event.TypeInterviewResumed || detail.Actor.Sub != "scheduler" {
		t.Fatalf("the owner heard %+v, want the pause then the scheduler's resume", got)
	}
	if detail.OccurredAt.Before(resumeAt) {
		t.Errorf("resumed at %s, before %s", detail.OccurredAt, resumeAt)
	}
	if code, m := call(t, srv, http.MethodGet, "/interviews/"+demodata.AliceActive, ""); code != http.StatusOK || m["status"] != "active" || m["resumeAt"] != nil {
		t.Errorf("after the timer: %d %v, want active without resumeAt", code, m)
	}
}
