// Package stack starts everything `make run` serves: moto's DynamoDB (serialised) with the
// demo data, moto's EventBridge and SQS with the template's event plumbing, the publisher on the table's stream, the
// example audit consumer on its queue, the event feed, the live channel (its WebSocket
// at /live, its @connections endpoint, the notifier on its rule), and the resume timer (the
// planner on its rule, its schedules in moto's EventBridge Scheduler, fired by
// tools/local/schedulefire); and wires the functions behind the local API Gateway stand-ins.
package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamotypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lifecycle-api/lifecycle/shared/auditlog"
	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/eventbus"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/live/push"
	"github.com/lifecycle-api/lifecycle/shared/liveapi"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
	"github.com/lifecycle-api/lifecycle/tools/local/asyncinvoke"
	"github.com/lifecycle-api/lifecycle/tools/local/console"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/docsite"
	"github.com/lifecycle-api/lifecycle/tools/local/eventfeed"
	"github.com/lifecycle-api/lifecycle/tools/local/eventplumbing"
	"github.com/lifecycle-api/lifecycle/tools/local/gateway"
	"github.com/lifecycle-api/lifecycle/tools/local/livegateway"
	"github.com/lifecycle-api/lifecycle/tools/local/motoserver"
	"github.com/lifecycle-api/lifecycle/tools/local/queuepoll"
	"github.com/lifecycle-api/lifecycle/tools/local/schedulefire"
	"github.com/lifecycle-api/lifecycle/tools/local/streampoller"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// Options configure a local stack.
type Options struct {
	Table      string
	AuditTable string
	// LogDir receives moto-dynamodb.log and moto.log.
	LogDir string
	Logger *slog.Logger
	Verify gateway.Verifier
	// Progress, when set, receives one line per start-up step.
	Progress io.Writer
	// Via, when set, gives the endpoint the functions and the publisher use for a service
	// ("dynamodb", "eventbridge") in place of the real one: a fault-injecting proxy.
	Via func(service, endpoint string) (string, error)
	// Wiring, when set, adjusts what the in-process functions are wired on before they are
	// wired: their DynamoDB client (a middleware counting requests), stores, live limits,
	// resume lead (tests pause for seconds, not the product's minute).
	Wiring func(*wiring.Config)
	// ManualPoll leaves the stream poller to the caller (Stack.Poller.Poll) instead of
	// running it every PollInterval.
	ManualPoll bool
	// Docs mounts the API's documentation at /docs (Swagger UI from web/node_modules, which
	// `make tools` installs).
	Docs bool
	// CORSOrigins, when set, are the origins the API admits cross-origin requests from,
	// with the rest of template.yaml's CorsConfiguration (the CorsAllowedOrigins
	// parameter's part in AWS).
	CORSOrigins []string
	// Mint, when set, mounts the web console at /console with its local-only endpoints:
	// /_local/token signs dev tokens with Mint, /_local/demo lists the demo data.
	Mint func(sub string, roles []string, ttl time.Duration, now time.Time) (string, error)
	// Handlers, when set, is called once the services are up, with what a function process
	// needs to reach them; the handlers it returns replace or wrap the stack's own
	// (`make reliability` runs the real bootstraps under the Runtime API this way, `make
	// bench` times the publisher and the notifier).
	Handlers func(Info) (Handlers, error)
}

// Handlers are what a caller puts in place of the stack's own handlers, or around them.
type Handlers struct {
	// HTTP replaces HTTP functions, by name.
	HTTP map[string]gateway.Handler
	// Publisher and Notifier, when set, are given the stack's publisher on the table's
	// stream and its live notifier, and return what runs in their place (the same, wrapped,
	// or another).
	Publisher func(streampoller.Handler) streampoller.Handler
	Notifier  func(asyncinvoke.Handler) asyncinvoke.Handler
}

// Stack is a running local stack.
type Stack struct {
	Info   Info
	Events *eventplumbing.Stack
	Feed   *eventfeed.Feed
	// DB is a client of the stack's DynamoDB (not through Via).
	DB *dynamodb.Client
	// Poller publishes the stream's records.
	Poller *streampoller.Poller
	// Handler serves the API routes, the live WebSocket at /live, GET /_local/events,
	// /openapi.yaml and /docs.
	Handler http.Handler
	// Audit counts the audit consumer's repeated deliveries.
	Audit *AuditCounts
	// GivenUp counts the stream records the poller gave up on after its retries and sent
	// to the on-failure queue (PublishEventsFailures).
	GivenUp atomic.Int64
	// Resumes fires the schedules plan-resume makes (every PollInterval; Drain fires what
	// is due now and waits).
	Resumes *schedulefire.Firer

	stop []func()
}

// AuditCounts are the deliveries the audit consumer found already recorded (the bus and
// the queue deliver at least once).
type AuditCounts struct {
	Duplicates atomic.Int64
}

// countingAudit counts the records the audit store already held.
type countingAudit struct {
	auditlog.Store
	counts *AuditCounts
}

func (c countingAudit) Put(ctx context.Context, r auditlog.Record) (bool, error) {
	inserted, err := c.Store.Put(ctx, r)
	if err == nil && !inserted {
		c.counts.Duplicates.Add(1)
	}
	return inserted, err
}

// Start brings the stack up; Close takes it down. The background work (stream poller,
// audit consumer, feed) runs until ctx ends.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	// s, not the result, is what a failed start closes: the result is nil by then.
	s := &Stack{Feed: &eventfeed.Feed{Size: 200}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	step := func(msg string) {
		if o.Progress != nil {
			fmt.Fprintln(o.Progress, "==> "+msg)
		}
	}
	ddb, mt, err := s.startMoto(ctx, o, step)
	if err != nil {
		return nil, err
	}

	// Local mode never talks to a real account: fixed fake credentials and region, and
	// every client pointed at the services just started. The process environment is left
	// alone (tests run several stacks in one process).
	cfg := config.New(Region, credentials.NewStaticCredentialsProvider(AccessKey, AccessKey, ""))
	// The emulator's CRC32 header need not match its bodies; the SDK only warns about it,
	// on every such response. Local clients skip the check.
	localDB := func(opt *dynamodb.Options) {
		opt.BaseEndpoint, opt.DisableValidateResponseChecksum = aws.String(ddb.Endpoint), true
	}
	db := dynamodb.NewFromConfig(cfg, localDB)
	step(fmt.Sprintf("creating tables %s and %s and loading demo data", o.Table, o.AuditTable))
	if err := demodata.Load(ctx, db, o.Table); err != nil {
		return nil, err
	}
	// ResourceInUseException: the SDK's retry of a create whose answer was lost met the
	// table it made (the moto is this stack's own).
	var inUse *dynamotypes.ResourceInUseException
	if _, err := db.CreateTable(ctx, dynamo.CreateAuditTableInput(o.AuditTable)); err != nil && !errors.As(err, &inUse) {
		return nil, fmt.Errorf("create audit table: %w", err)
	}
	liveTable := o.Table + "-live"
	if err := demodata.LoadLive(ctx, db, liveTable); err != nil {
		return nil, err
	}

	step("creating the event bus, rules and queues from template.yaml, and the resume timer's schedule group")
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	tpl, err := cfntemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	eb := eventbridge.NewFromConfig(cfg, func(opt *eventbridge.Options) { opt.BaseEndpoint = aws.String(mt.Endpoint) })
	sq := sqs.NewFromConfig(cfg, func(opt *sqs.Options) { opt.BaseEndpoint = aws.String(mt.Endpoint) })
	if s.Events, err = eventplumbing.Setup(ctx, tpl, eb, sq, "local-"); err != nil {
		return nil, err
	}
	// The resume timer's schedule group (template.yaml: ResumeScheduleGroup).
	sched := scheduler.NewFromConfig(cfg, func(opt *scheduler.Options) { opt.BaseEndpoint = aws.String(mt.Endpoint) })
	const resumeGroup = "local-resumes"
	if _, err := sched.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(resumeGroup)}); err != nil {
		return nil, fmt.Errorf("create the schedule group: %w", err)
	}

	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(o.Table)})
	if err != nil {
		return nil, err
	}
	// The functions' clients: the real endpoints, or what Via puts in front of them.
	fnDB, fnEB := db, eb
	if o.Via != nil {
		ddbVia, err := o.Via("dynamodb", ddb.Endpoint)
		if err != nil {
			return nil, err
		}
		ebVia, err := o.Via("eventbridge", mt.Endpoint)
		if err != nil {
			return nil, err
		}
		fnDB = dynamodb.NewFromConfig(cfg, localDB, func(opt *dynamodb.Options) { opt.BaseEndpoint = aws.String(ddbVia) })
		fnEB = eventbridge.NewFromConfig(cfg, func(opt *eventbridge.Options) { opt.BaseEndpoint = aws.String(ebVia) })
	}
	s.DB = db
	s.Info = Info{DynamoDB: ddb.Endpoint, Moto: mt.Endpoint, Table: o.Table, AuditTable: o.AuditTable, LiveTable: liveTable, Bus: s.Events.BusName,
		ResumeGroup: resumeGroup, ResumeDLQ: s.Events.QueueARNs["ResumeDLQ"]}
	var hs Handlers
	if o.Handlers != nil {
		if hs, err = o.Handlers(s.Info); err != nil {
			return nil, err
		}
	}
	var publish streampoller.Handler = eventbus.NewPublisher(fnEB, s.Events.BusName, o.Logger.With("function", eventbus.FnPublishEvents)).Handle
	if hs.Publisher != nil {
		publish = hs.Publisher(publish)
	}
	s.Poller = &streampoller.Poller{
		Streams:    dynamodbstreams.NewFromConfig(cfg, func(opt *dynamodbstreams.Options) { opt.BaseEndpoint = aws.String(ddb.Endpoint) }),
		StreamARN:  aws.ToString(desc.Table.LatestStreamArn),
		Handler:    publish,
		BatchSize:  100,
		MaxRetries: 10,
		Logger:     o.Logger.With("component", "stream-poller"),
		OnFailure: func(ctx context.Context, recs []events.DynamoDBEventRecord) {
			s.GivenUp.Add(int64(len(recs)))
			b, _ := json.Marshal(map[string]any{"records": recs})
			_, _ = sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(s.Events.Queues["PublishEventsFailures"]), MessageBody: aws.String(string(b))})
		},
	}
	if !o.ManualPoll {
		go s.Poller.Run(ctx, PollInterval)
	}
	s.Audit = &AuditCounts{}
	audit := auditlog.Handler(o.Logger.With("function", auditlog.FnAuditLog), countingAudit{dynamo.NewAuditLog(db, o.AuditTable, 0), s.Audit}, time.Now)
	// Lambda polls a queue with several batches at once (five to begin with).
	for range auditPollers {
		go consume(ctx, sq, s.Events.Queues["AuditQueue"], audit, o.Logger)
	}
	go s.Feed.Drain(ctx, sq, map[string]string{
		"InterviewEventsQueue": s.Events.Queues["InterviewEventsQueue"],
		"JobEventsQueue":       s.Events.Queues["JobEventsQueue"],
	}, o.Logger.With("component", "event-feed"))

	wc := wiring.Config{Logger: o.Logger, DB: fnDB, Table: o.Table, LiveTable: liveTable, Now: time.Now, Verify: o.Verify, Replace: hs.HTTP}
	if o.Wiring != nil {
		o.Wiring(&wc)
	}
	if len(o.CORSOrigins) > 0 {
		wc.CORS = corsFromTemplate(tpl, o.CORSOrigins)
	}
	api, err := wiring.New(wc)
	if err != nil {
		return nil, err
	}

	liveGateway, err := s.startRuleTargets(ctx, o, hs, wc, cfg, sq, sched, step)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /live", liveGateway)
	mux.Handle("GET /_local/events", s.Feed.Handler())
	if o.Docs {
		if err := docsite.Mount(mux, root); err != nil {
			return nil, err
		}
	}
	if o.Mint != nil {
		c := consoleConfig(o)
		c.Reset = s.Reset
		console.Mount(mux, c)
	}
	s.Handler = splitLocal(mux, api)
	return s, nil
}

// startMoto starts the two moto servers, their logs in o.LogDir; s stops them.
func (s *Stack) startMoto(ctx context.Context, o Options, step func(string)) (ddb, mt *motoserver.Server, err error) {
	if err := os.MkdirAll(o.LogDir, 0o755); err != nil {
		return nil, nil, err
	}
	var logs [2]*os.File
	for i, name := range []string{"moto-dynamodb.log", "moto.log"} {
		if logs[i], err = os.Create(filepath.Join(o.LogDir, name)); err != nil {
			return nil, nil, err
		}
		s.stop = append(s.stop, func() { logs[i].Close() })
	}

	// Two servers, started together: DynamoDB and its streams, one request at a time as
	// DynamoDB applies an item's writes (motoserver, serve.py); EventBridge and SQS beside
	// it, so neither waits on the other's interpreter.
	step("starting moto: DynamoDB with its streams (serialised), and EventBridge with SQS (loopback only)")
	var ddbErr, mtErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		ddb, ddbErr = motoserver.Start(ctx, logs[0], motoserver.Options{Serialise: true, Name: "moto (DynamoDB)"})
	})
	wg.Go(func() {
		mt, mtErr = motoserver.Start(ctx, logs[1], motoserver.Options{Name: "moto (EventBridge, SQS)"})
	})
	wg.Wait()
	for _, srv := range []*motoserver.Server{ddb, mt} {
		if srv != nil {
			s.stop = append(s.stop, srv.Stop)
		}
	}
	if err := errors.Join(ddbErr, mtErr); err != nil {
		return nil, nil, err
	}
	return ddb, mt, nil
}

// startRuleTargets starts what the bus's rules invoke: the live channel (its WebSocket
// stand-in, its @connections endpoint, the notifier) and the resume timer (plan-resume,
// the schedules' firing). It returns the live channel's WebSocket API stand-in.
func (s *Stack) startRuleTargets(ctx context.Context, o Options, hs Handlers, wc wiring.Config, cfg aws.Config, sq *sqs.Client, sched *scheduler.Client, step func(string)) (*livegateway.Gateway, error) {
	logger := o.Logger.With("component", "rule-target")
	// invoke runs a rule's function target as Lambda's asynchronous invocation would.
	invoke := func(logicalID, fn string, h asyncinvoke.Handler) {
		t := s.Events.Functions[logicalID]
		v := &asyncinvoke.Invoker{SQS: sq, Queue: t.Queue, Function: fn, Handler: h, MaxRetries: t.MaxRetries,
			Delays: retryDelays, OnFailure: s.Events.Queues[t.OnFailure], Timeout: functionTimeout, Logger: logger}
		go v.Run(ctx)
	}

	step("starting the live channel (WebSocket at /live, its @connections endpoint, the notifier)")
	gw := livegateway.New(wiring.LiveRoutes(wc), o.Logger.With("component", "live-gateway"))
	// The @connections endpoint on a free loopback port (httptest's server would panic,
	// not fail, when it cannot listen).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		gw.Close()
		return nil, err
	}
	connections := &http.Server{Handler: gw.Management(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = connections.Serve(ln) }()
	s.stop = append(s.stop, func() { gw.Close(); _ = connections.Close() })
	s.Info.Connections = "http://" + ln.Addr().String()
	limits := liveapi.DefaultLimits()
	notify := asyncinvoke.Handler(wiring.Notifier(wc, push.NewClient(cfg, limits.Concurrency, func(opt *apigatewaymanagementapi.Options) {
		opt.BaseEndpoint = aws.String(s.Info.Connections)
	}), limits).Handle)
	if hs.Notifier != nil {
		notify = hs.Notifier(notify)
	}
	invoke("LiveNotifyFunction", live.FnNotify, notify)

	step("starting the resume timer (plan-resume on its rule, schedules in moto's EventBridge Scheduler, their firing)")
	invoke("PlanResumeFunction", resumetimer.FnPlan, wiring.PlanResume(wc, sched, wiring.ResumeTarget(s.Info.ResumeGroup, s.Info.ResumeDLQ)))
	s.Resumes = &schedulefire.Firer{
		Scheduler: sched, SQS: sq, Group: s.Info.ResumeGroup,
		Targets: map[string]schedulefire.Target{wiring.ResumeScheduledARN: wiring.ResumeScheduled(wc)},
		Delays:  retryDelays, Timeout: functionTimeout, Logger: o.Logger.With("component", "scheduler"),
	}
	go s.Resumes.Run(ctx, PollInterval)
	return gw, nil
}

// The rule targets' and the schedules' waits before a retry (for Lambda's minutes and the
// scheduler's backoff), and their functions' timeout (template.yaml).
var retryDelays = asyncinvoke.Delays{200 * time.Millisecond, time.Second}

const functionTimeout = 30 * time.Second

// splitLocal sends the local pages (/_local/…, /docs, /openapi.yaml, /console, and the live
// channel's WebSocket at /live) to local and everything else to api untouched. A ServeMux
// in front of the API would clean paths and answer "//interviews/…" or "/x/../interviews/…"
// with a redirect, where API Gateway (and the gateway stand-in behind api) answers 404.
func splitLocal(local, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		isLocal := strings.HasPrefix(p, "/_local/") || p == "/openapi.yaml" ||
			p == "/docs" || strings.HasPrefix(p, "/docs/") || p == "/console" || strings.HasPrefix(p, "/console/") || p == "/live"
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") {
			clean += "/" // "/console/" is a page; only dot and empty segments are refused
		}
		if isLocal && clean == p {
			local.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// PollInterval is how often the local stream poller reads the table's stream: as Lambda's
// event source polls each shard, four times a second.
const PollInterval = 250 * time.Millisecond

// auditPollers is how many batches of the audit queue are handled at once.
const auditPollers = 5

// consume plays one poller of Lambda's SQS event source for a queue: batches of up to ten,
// messages reported as failures stay on the queue (and reach its dead-letter queue in time).
func consume(ctx context.Context, sq *sqs.Client, url string, h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), logger *slog.Logger) {
	queuepoll.Run(ctx, sq, url, logger, "audit consumer", func(ctx context.Context, batch []sqstypes.Message) []string {
		var ev events.SQSEvent
		for _, m := range batch {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body)})
		}
		resp, err := h(ctx, ev)
		if err != nil {
			return nil // the whole batch stays, as an event source mapping leaves it
		}
		var done []string
		for _, m := range ev.Records {
			if !slices.ContainsFunc(resp.BatchItemFailures, func(f events.SQSBatchItemFailure) bool { return f.ItemIdentifier == m.MessageId }) {
				done = append(done, m.ReceiptHandle)
			}
		}
		return done
	})
}

// Reset puts the demo data back as it was when the stack started (`make reset`, the
// console's "Reset demo data"), in place: the server, its tokens and its open pages keep
// working. The event feed starts again empty.
func (s *Stack) Reset(ctx context.Context) error {
	if err := demodata.Reset(ctx, s.DB, s.Info.Table); err != nil {
		return fmt.Errorf("reset the demo data: %w", err)
	}
	s.Feed.Clear()
	return nil
}

// Close stops what Start started, in reverse order.
func (s *Stack) Close() {
	for i := len(s.stop) - 1; i >= 0; i-- {
		s.stop[i]()
	}
	s.stop = nil
}

// consoleConfig offers the demo users and jobs on the console's sign-in and jobs pages.
func consoleConfig(o Options) console.Config {
	c := console.Config{Assets: console.Assets(), Mint: o.Mint, Now: time.Now, Logger: o.Logger}
	for _, u := range demodata.Users {
		roles := u.Roles
		if roles == nil {
			roles = []string{}
		}
		c.Users = append(c.Users, console.User{Sub: u.Sub, Roles: roles, About: u.About})
	}
	for _, j := range demodata.Jobs() {
		c.Jobs = append(c.Jobs, console.Job{ID: j.Job.ID, Title: j.Job.Title})
	}
	return c
}

// corsFromTemplate is the HttpApi's CorsConfiguration in template.yaml, with origins in
// place of the parameter that gives them in AWS.
func corsFromTemplate(tpl *cfntemplate.Template, origins []string) *gateway.CORS {
	c := cfntemplate.Get(tpl.Root, "Resources", "HttpApi", "Properties", "CorsConfiguration")
	maxAge, _ := strconv.Atoi(cfntemplate.Scalar(cfntemplate.Get(c, "MaxAge")))
	return &gateway.CORS{
		AllowOrigins:  origins,
		AllowHeaders:  cfntemplate.Scalars(cfntemplate.Get(c, "AllowHeaders")),
		AllowMethods:  cfntemplate.Scalars(cfntemplate.Get(c, "AllowMethods")),
		ExposeHeaders: cfntemplate.Scalars(cfntemplate.Get(c, "ExposeHeaders")),
		MaxAge:        maxAge,
	}
}
