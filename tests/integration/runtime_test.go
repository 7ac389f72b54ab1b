package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
	"github.com/lifecycle-api/lifecycle/tools/local/lambdaruntime"
	localstack "github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
	"github.com/lifecycle-api/lifecycle/tools/repo"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// lambdaEnv is the environment every function process gets locally: fake credentials and
// the endpoints of the moto servers.
func lambdaEnv(extra ...string) []string {
	env := []string{"LOG_LEVEL=warn"}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_EC2_METADATA_DISABLED",
		"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "AWS_ENDPOINT_URL_EVENTBRIDGE", "AWS_ENDPOINT_URL_SQS"} {
		env = append(env, k+"="+os.Getenv(k))
	}
	env = append(env, wiring.Env(wiring.Defaults())...)
	return append(env, extra...)
}

// bootstrap is the amd64 binary `make build` produced for fn.
func bootstrap(t *testing.T, fn string) string {
	t.Helper()
	prereq.Need(t, prereq.Bootstraps)
	p := filepath.Join(repoRoot(t), "bin", "amd64", fn, "bootstrap")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v: %v", fn, lambdaruntime.ErrNoBootstrap, err)
	}
	return p
}

// TestBootstrapsOnTheRuntimeAPI runs every function's real bootstrap (linux/amd64, built
// with the deployment flags) as Lambda does, through the Runtime API, and invokes it with
// each of its files in events/ (sampleTarget.check says what each must produce).
func TestBootstrapsOnTheRuntimeAPI(t *testing.T) {
	for _, fn := range functionNames(t) {
		t.Run(fn, func(t *testing.T) {
			st := newSampleTarget(t, fn)
			var logs bytes.Buffer
			rt, err := lambdaruntime.Start(lambdaruntime.Options{
				Bootstrap: bootstrap(t, fn), Name: fn, Output: &logs,
				Env: lambdaEnv(append([]string{"TABLE_NAME=" + st.info.Table, "EVENT_BUS_NAME=" + st.info.Bus, "AUDIT_TABLE_NAME=" + st.info.AuditTable, "AUDIT_RETENTION_DAYS=0",
					"LIVE_TABLE_NAME=" + st.info.LiveTable, "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI=" + st.info.Connections}, st.planEnv()...)...),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer rt.Stop()
			st.check(t, func(ctx context.Context, event []byte) ([]byte, error) {
				res, err := rt.Invoke(ctx, event)
				if err != nil {
					return nil, err
				}
				if res.Error != nil {
					return nil, fmt.Errorf("the function failed: %s", res.Error)
				}
				return res.Payload, nil
			}, logs.String)
		})
	}
}

// functionNames are the folders of functions/.
func functionNames(t *testing.T) []string {
	t.Helper()
	names, err := repo.Functions()
	if err != nil || len(names) < 9 {
		t.Fatalf("found %d functions: %v", len(names), err)
	}
	return names
}

// sampleTarget is one function's own stack for its sample events: a table of demo data,
// the event pipeline (its stream drained), an audit table, and the live channel with its
// own sample tickets (so $connect's sample redeems a ticket no other run has used). info
// names them, with the endpoints of the moto servers and the @connections endpoint on
// loopback. For live-notify, alice and dana are connected: the samples' audiences.
type sampleTarget struct {
	fn      string
	s       *stack
	p       *pipeline
	info    localstack.Info
	clients map[string]*liveClient
	// schedules and group are plan-resume's: moto's Scheduler and the group it plans in.
	schedules *scheduler.Client
	group     string
}

func newSampleTarget(t *testing.T, fn string) *sampleTarget {
	t.Helper()
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	auditTable := newAuditTable(t, s.db)
	l := newLiveChannel(t, s, p)
	st := &sampleTarget{fn: fn, s: s, p: p, info: localstack.Info{
		DynamoDB: os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), Moto: os.Getenv("AWS_ENDPOINT_URL_EVENTBRIDGE"),
		Table: s.table, AuditTable: auditTable, Bus: p.es.BusName, LiveTable: s.liveTable, Connections: l.connections,
	}}
	if fn == live.FnNotify {
		st.clients = map[string]*liveClient{"alice": l.connect(t, s, "alice"), "dana": l.connect(t, s, "dana", "Dispatcher")}
	}
	if fn == resumetimer.FnPlan {
		awsCfg, err := config.AWS()
		if err != nil {
			t.Fatal(err)
		}
		st.schedules = scheduler.NewFromConfig(awsCfg, func(o *scheduler.Options) { o.BaseEndpoint = aws.String(st.info.Moto) })
		st.group = randomName("resumes-")
		if _, err := st.schedules.CreateScheduleGroup(context.Background(), &scheduler.CreateScheduleGroupInput{Name: aws.String(st.group)}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// planEnv is what plan-resume is configured with: its schedule group in moto, and a
// target, a role and a dead-letter queue for the schedules it makes (moto keeps them; it
// fires nothing).
func (st *sampleTarget) planEnv() []string {
	if st.group == "" {
		return nil
	}
	return []string{
		config.ResumeScheduleGroup + "=" + st.group, config.ResumeTargetARN + "=arn:aws:lambda:us-east-1:123456789012:function:resume-scheduled:live",
		config.ResumeSchedulerRoleARN + "=arn:aws:iam::123456789012:role/resume-scheduler", config.ResumeDeadLetterARN + "=arn:aws:sqs:us-east-1:123456789012:resume-dlq",
		"AWS_ENDPOINT_URL_SCHEDULER=" + st.info.Moto,
	}
}

// check invokes the function with each of its files in events/ and compares the result
// with what the file's name promises: the status (its prefix) and openapi.yaml for an
// HTTP function, the events the publisher sends, the failures the audit consumer reports
// and the items it writes, a WebSocket route's answer, the connections the notifier
// reaches. logs, shown when the test fails, are the function's.
func (st *sampleTarget) check(t *testing.T, invoke func(ctx context.Context, event []byte) ([]byte, error), logs func() string) {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("%s logs:\n%s", st.fn, logs())
		}
	}()
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "events", st.fn, "*.json"))
	if len(files) == 0 {
		t.Fatalf("no sample events for %s", st.fn)
	}
	for _, f := range files {
		name := filepath.Base(f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		before := st.sessionStatus(t, raw)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		payload, err := invoke(ctx, raw)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch st.fn {
		case "publish-events":
			var resp events.DynamoDBEventResponse
			if err := json.Unmarshal(payload, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("%s: %s", name, payload)
			}
			if got := len(st.p.received(t, "AuditQueue")); got != publishedBySample[name] {
				t.Errorf("%s: %d events published, want %d", name, got, publishedBySample[name])
			}
		case "audit-log":
			var resp events.SQSEventResponse
			if err := json.Unmarshal(payload, &resp); err != nil || len(resp.BatchItemFailures) != auditFailuresBySample[name][0] {
				t.Fatalf("%s: %s", name, payload)
			}
		case live.FnNotify:
			checkNotified(t, name, raw, st.clients)
		case live.FnConnect, live.FnDisconnect, live.FnDefault:
			checkRouteResult(t, st.s, name, raw, payload)
		case resumetimer.FnPlan:
			st.checkPlanned(t, name, raw)
		case interview.ScheduledResume.Function:
			// resumed-*: the pause the timer names is the session's latest, so it resumes;
			// stale-*: it is not, so nothing changes.
			after := st.sessionStatus(t, raw)
			if want := map[bool]string{true: "active", false: before}[strings.HasPrefix(name, "resumed-")]; after != want ||
				(strings.HasPrefix(name, "resumed-") && before != "paused") {
				t.Errorf("%s: the session went from %s to %s, want %s", name, before, after, want)
			}
		default:
			checkHTTPResult(t, name, raw, payload)
		}
	}
	if st.fn == "audit-log" {
		scan, err := st.s.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(st.info.AuditTable)})
		if err != nil || len(scan.Items) != 2 {
			t.Errorf("%d audit items after the samples, want 2 (%v)", len(scan.Items), err)
		}
	}
}

// checkHTTPResult compares an HTTP function's response with the sample's expected status
// (its name's prefix) and openapi.yaml.
func checkHTTPResult(t *testing.T, name string, rawEvent, payload []byte) {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(rawEvent, &ev); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(payload, &resp); err != nil {
		t.Fatalf("%s: not an HTTP API response: %s", name, payload)
	}
	want, _ := strconv.Atoi(strings.SplitN(name, "-", 2)[0])
	if resp.StatusCode != want {
		t.Errorf("%s: status %d, want %d: %s", name, resp.StatusCode, want, resp.Body)
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
	if err := apiContract.Check(ev.RequestContext.HTTP.Method, target, resp.StatusCode, header, []byte(resp.Body)); err != nil {
		t.Error(err)
	}
}

// checkNotified: the sample's event reached the connection entitled to it, and no other.
func checkNotified(t *testing.T, name string, rawEvent []byte, clients map[string]*liveClient) {
	t.Helper()
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(rawEvent, &ev); err != nil {
		t.Fatal(err)
	}
	var d struct {
		EventID string `json:"eventId"`
	}
	_ = json.Unmarshal(ev.Detail, &d)
	entitled := "alice"
	if ev.DetailType == event.TypeJobCancelled {
		entitled = "dana"
	}
	for sub, c := range clients {
		got := c.received(t)
		if sub == entitled && (len(got) != 1 || got[0].EventID != d.EventID) {
			t.Errorf("%s: %s received %+v, want event %s", name, sub, got, d.EventID)
		}
		if sub != entitled && len(got) != 0 {
			t.Errorf("%s: %s received %+v", name, sub, got)
		}
	}
}

// checkRouteResult compares a WebSocket route's answer with the sample's expected status
// (its name's prefix); a connection accepted selects the channel's subprotocol and is
// recorded.
func checkRouteResult(t *testing.T, s *stack, name string, rawEvent, payload []byte) {
	t.Helper()
	var ev events.APIGatewayWebsocketProxyRequest
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(rawEvent, &ev); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(payload, &resp); err != nil {
		t.Fatalf("%s: not a proxy response: %s", name, payload)
	}
	want, _ := strconv.Atoi(strings.SplitN(name, "-", 2)[0])
	if resp.StatusCode != want {
		t.Errorf("%s: status %d, want %d: %s", name, resp.StatusCode, want, resp.Body)
	}
	if ev.RequestContext.EventType == "CONNECT" && want == http.StatusOK {
		if resp.Headers["Sec-WebSocket-Protocol"] != live.Subprotocol || s.connectionRecords(t) != 1 {
			t.Errorf("%s: headers %v, %d connection records", name, resp.Headers, s.connectionRecords(t))
		}
	}
}

// TestBootstrapWithoutConfigurationExits: a function missing its configuration exits at
// start instead of answering requests wrongly.
func TestBootstrapWithoutConfigurationExits(t *testing.T) {
	var logs bytes.Buffer
	rt, err := lambdaruntime.Start(lambdaruntime.Options{Bootstrap: bootstrap(t, "get-interview"), Name: "get-interview", Output: &logs, Env: lambdaEnv()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Stop()
	_, err = rt.Invoke(context.Background(), []byte(`{}`))
	if err == nil || !strings.Contains(logs.String(), "TABLE_NAME") {
		t.Fatalf("invoke error %v, logs %s", err, logs.String())
	}
}

// sessionStatus is, for resume-scheduled's samples (a schedule's input), the status of the
// session the input names; "" for other functions' samples.
func (st *sampleTarget) sessionStatus(t *testing.T, raw []byte) string {
	t.Helper()
	if st.fn != interview.ScheduledResume.Function {
		return ""
	}
	var in resumetimer.Input
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	it := st.s.item(t, "INTERVIEW#"+in.SessionID, "INTERVIEW")
	sess, err := dynamo.SessionFromItem(it)
	if err != nil {
		t.Fatal(err)
	}
	return string(sess.Status)
}

// checkPlanned holds plan-resume's samples: planned-* leaves one schedule in the group for
// the pause the event announces, at its resumeAt, to resume that version; skipped-* (a pause
// without resumeAt) leaves none.
func (st *sampleTarget) checkPlanned(t *testing.T, name string, raw []byte) {
	t.Helper()
	var ev events.EventBridgeEvent
	var d event.Interview
	if err := json.Unmarshal(raw, &ev); err != nil || json.Unmarshal(ev.Detail, &d) != nil {
		t.Fatalf("%s: not an InterviewPaused event", name)
	}
	in := resumetimer.Input{SessionID: d.SessionID, Version: d.Version}
	got, err := st.schedules.GetSchedule(context.Background(), &scheduler.GetScheduleInput{GroupName: aws.String(st.group), Name: aws.String(resumetimer.Name(in))})
	if !strings.HasPrefix(name, "planned-") {
		if err == nil {
			t.Errorf("%s: a schedule was made: %+v", name, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: no schedule %s: %v", name, resumetimer.Name(in), err)
	}
	var target resumetimer.Input
	if json.Unmarshal([]byte(aws.ToString(got.Target.Input)), &target) != nil || target != in ||
		aws.ToString(got.ScheduleExpression) != "at("+d.ResumeAt.UTC().Format("2006-01-02T15:04:05")+")" {
		t.Errorf("%s: schedule %s at %s, input %s", name, aws.ToString(got.Name), aws.ToString(got.ScheduleExpression), aws.ToString(got.Target.Input))
	}
}
