// Package bench holds the in-process handler benchmarks `make bench` reports: each
// function's handler, with its real store and SDK client, against a local HTTP endpoint
// that answers the DynamoDB calls with canned bodies (in another process, so its CPU is not
// counted): the CPU of a request (routing, auth, decoding, the SDK's marshalling and
// signing, logging). Beside each handler, "sdk" makes the same DynamoDB calls with the same
// client and nothing else: the floor, so the difference is our own code's cost.
package handlerbench

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/logging"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/lambdaevent"
)

// wire renders an item in DynamoDB's JSON wire format.
func wire(m map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = wireValue(v)
	}
	return out
}

func wireValue(v types.AttributeValue) any {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]string{"S": x.Value}
	case *types.AttributeValueMemberN:
		return map[string]string{"N": x.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]bool{"BOOL": x.Value}
	case *types.AttributeValueMemberB:
		return map[string]string{"B": base64.StdEncoding.EncodeToString(x.Value)}
	case *types.AttributeValueMemberSS:
		return map[string][]string{"SS": x.Value}
	case *types.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			l[i] = wireValue(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": wire(x.Value)}
	}
	return map[string]bool{"NULL": true}
}

// TestMain runs the fake DynamoDB endpoint in a child process (this test binary again, with
// FAKE_DYNAMODB=1), so the CPU a benchmark measures is the function's alone.
func TestMain(m *testing.M) {
	if os.Getenv("FAKE_DYNAMODB") == "1" {
		serveFake()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FAKE_DYNAMODB=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		panic(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		panic(fmt.Sprintf("fake DynamoDB did not start: %v", err))
	}
	fakeURL = strings.TrimSpace(line)
	code := m.Run()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	os.Exit(code)
}

var fakeURL string

// serveFake answers every DynamoDB operation with a canned body after 1 ms, and prints its
// URL. The millisecond stands for the network: answering at once, on loopback, the answer
// can arrive before the client's transport has finished writing the request, and the SDK
// then closes the request body under it (smithy-go's safeWriteToReadCloser answers the
// transport's last read with EOF), which costs the connection: under load one request in
// six dialled anew, and the dials' CPU drowned what is measured. The sleep is in this
// process, so it adds to the wall time per request, not to the CPU.
func serveFake() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println("http://" + ln.Addr().String())
	fake := fakeDynamoDB()
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		fake.ServeHTTP(w, r)
	}))
}

// fakeDynamoDB answers every operation with a canned body.
func fakeDynamoDB() http.Handler {
	session := demodata.Sessions()[0]
	jw := demodata.Jobs()[2] // assigned, with a confirmed assignment
	bodies := map[string][]byte{}
	enc := func(v any) []byte {
		out, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return out
	}
	bodies["UpdateItem"] = enc(map[string]any{"Attributes": wire(dynamo.SessionItem(session))})
	// A transition reads its session first: GetItem answers the demo session the request
	// names (a paused one for resume), any other id the first.
	bodies["GetItem"] = enc(map[string]any{"Item": wire(dynamo.SessionItem(session))})
	for _, s := range demodata.Sessions() {
		bodies["GetItem:"+s.ID] = enc(map[string]any{"Item": wire(dynamo.SessionItem(s))})
	}
	// A listing reads the byOwner index, which holds session summaries.
	var sessions []any
	for _, s := range demodata.Sessions()[:7] {
		item, summary := dynamo.SessionItem(s), map[string]types.AttributeValue{}
		for _, a := range append(dynamo.SummaryAttributes(), "pk", "sk", "ownerId", "createdAt") {
			if v, ok := item[a]; ok {
				summary[a] = v
			}
		}
		sessions = append(sessions, wire(summary))
	}
	bodies["Query:byOwner"] = enc(map[string]any{"Items": sessions, "Count": len(sessions)})
	bodies["Query:job"] = enc(map[string]any{"Items": []any{wire(dynamo.JobItem(jw.Job)), wire(dynamo.AssignmentItem(jw.Assignments[0]))}, "Count": 2})
	bodies["TransactWriteItems"] = []byte(`{}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		op = op[strings.LastIndex(op, ".")+1:]
		body, _ := io.ReadAll(r.Body)
		switch op {
		case "Query":
			op = "Query:job"
			if strings.Contains(string(body), `"IndexName"`) {
				op = "Query:byOwner"
			}
		case "GetItem":
			if m := interviewPK.FindSubmatch(body); m != nil && bodies["GetItem:"+string(m[1])] != nil {
				op = "GetItem:" + string(m[1])
			}
		}
		// As DynamoDB answers: a length (so the connection is kept) and the body's CRC32,
		// which the SDK checks by default.
		b := bodies[op]
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
		_, _ = w.Write(b)
	})
}

var interviewPK = regexp.MustCompile(`"INTERVIEW#([0-9a-f-]{36})"`)

func client() *dynamodb.Client {
	cfg := config.New("us-east-1", credentials.NewStaticCredentialsProvider("bench", "bench", ""))
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(fakeURL) })
}

func event(method, path, routeKey, id, sub, roles, body string) events.APIGatewayV2HTTPRequest {
	return lambdaevent.HTTP{Method: method, Path: path, RouteKey: routeKey, ID: id, Body: body, RequestID: "bench",
		Headers: map[string]string{"content-type": "application/json", "x-correlation-id": "bench"},
		Claims:  lambdaevent.Claims(sub, roles, "")}.Event()
}

// route is one function's benchmark: its handler wired to a store on a DynamoDB client, and
// the event it is invoked with.
type route struct {
	handler func(log *slog.Logger, db *dynamodb.Client) http.Handler
	event   events.APIGatewayV2HTTPRequest
	want    int
}

// bench runs three benchmarks of r. "handler": the function's handler wrapped as in
// Lambda. "sdk": the floor under it, the same DynamoDB calls the handler makes (the inputs
// it built, captured from one invocation) on the same kind of client against the same
// endpoint, and nothing else. "pair": both in turn for every request, with the CPU of each
// measured around it, so the two are taken under the same conditions however the machine's
// other work comes and goes: make bench reads the CPU figures from it (and allocations and
// log bytes from the first two). The difference is our code's cost per request: decoding,
// auth, validation, building expressions, decoding items, encoding, logging.
func bench(b *testing.B, r route) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "bench"})
	log, logs := logger()
	h := httpapi.Lambda(log, r.handler(log, client()))
	handler := func() error {
		resp, err := h(ctx, r.event)
		if err == nil && resp.StatusCode != r.want {
			err = fmt.Errorf("status %d, want %d: %s", resp.StatusCode, r.want, resp.Body)
		}
		return err
	}
	var calls []func(context.Context, *dynamodb.Client) error
	record := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("record", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				calls = append(calls, replay(in.Parameters))
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		})
	}
	if resp, err := httpapi.Lambda(log, r.handler(log, dynamodb.New(client().Options(), record)))(ctx, r.event); err != nil || resp.StatusCode != r.want {
		b.Fatalf("status %d, want %d: %s %v", resp.StatusCode, r.want, resp.Body, err)
	}
	db := client()
	floor := func() error {
		for _, call := range calls {
			if err := call(ctx, db); err != nil {
				return err
			}
		}
		return nil
	}
	if err := errors.Join(handler(), floor()); err != nil {
		b.Fatal(err)
	}
	b.Run("handler", func(b *testing.B) {
		logs.n = 0
		measure(b, handler)
		b.ReportMetric(float64(logs.n)/float64(b.N), "log-B/op")
	})
	b.Run("sdk", func(b *testing.B) { measure(b, floor) })
	b.Run("pair", func(b *testing.B) {
		var ours, sdk time.Duration
		for b.Loop() {
			t0 := cpuTime()
			if err := handler(); err != nil {
				b.Fatal(err)
			}
			t1 := cpuTime()
			if err := floor(); err != nil {
				b.Fatal(err)
			}
			t2 := cpuTime()
			ours, sdk = ours+t1-t0, sdk+t2-t1
		}
		b.ReportMetric(float64(ours.Microseconds())/float64(b.N), "handler-cpu-µs/op")
		b.ReportMetric(float64(sdk.Microseconds())/float64(b.N), "sdk-cpu-µs/op")
	})
}

// replay returns a call of the operation whose input is params.
func replay(params any) func(context.Context, *dynamodb.Client) error {
	switch in := params.(type) {
	case *dynamodb.UpdateItemInput:
		return func(ctx context.Context, db *dynamodb.Client) error { _, err := db.UpdateItem(ctx, in); return err }
	case *dynamodb.GetItemInput:
		return func(ctx context.Context, db *dynamodb.Client) error { _, err := db.GetItem(ctx, in); return err }
	case *dynamodb.QueryInput:
		return func(ctx context.Context, db *dynamodb.Client) error { _, err := db.Query(ctx, in); return err }
	case *dynamodb.TransactWriteItemsInput:
		return func(ctx context.Context, db *dynamodb.Client) error {
			_, err := db.TransactWriteItems(ctx, in)
			return err
		}
	}
	return func(context.Context, *dynamodb.Client) error { return fmt.Errorf("no replay for %T", params) }
}

// measure runs f b.N times and reports its CPU per call (this process's user and system
// time, GC included; the endpoint runs in another process).
func measure(b *testing.B, f func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuTime()
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-before).Microseconds())/float64(b.N), "cpu-µs/op")
}

// logCounter counts the bytes a function logs (what CloudWatch Logs would ingest).
type logCounter struct{ n int }

func (c *logCounter) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

// logger is the functions' logger (JSON, info, named) writing to a byte counter.
func logger() (*slog.Logger, *logCounter) {
	c := &logCounter{}
	return logging.New(c, "info").With("function", "bench"), c
}

// cpuTime is the CPU this process has used (user and system, GC included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func interviews(db *dynamodb.Client) *dynamo.Interviews {
	return dynamo.NewInterviews(db, "bench", time.Now, lifecycle.NewID)
}

func jobs(db *dynamodb.Client) *dynamo.Jobs {
	return dynamo.NewJobs(db, "bench", time.Now, lifecycle.NewID)
}

// routes are the benchmarked functions, by name: each handler on its store, the event it
// is invoked with and the status it must answer.
var routes = map[string]route{
	"CancelInterview": route{func(log *slog.Logger, db *dynamodb.Client) http.Handler {
		return httpapi.CancelInterview(log, wiring.Defaults(), interviews(db))
	},
		event("POST", "/interviews/"+demodata.AliceActive+"/cancel", "POST /interviews/{id}/cancel", demodata.AliceActive, "alice", "", `{"reason":"bench"}`), 200},
	"PauseInterview": route{func(log *slog.Logger, db *dynamodb.Client) http.Handler {
		return httpapi.PauseInterview(log, wiring.Defaults(), interviews(db))
	},
		event("POST", "/interviews/"+demodata.AliceActive+"/pause", "POST /interviews/{id}/pause", demodata.AliceActive, "alice", "", ""), 200},
	"ResumeInterview": route{func(log *slog.Logger, db *dynamodb.Client) http.Handler {
		return httpapi.ResumeInterview(log, wiring.Defaults(), interviews(db))
	},
		event("POST", "/interviews/"+demodata.AlicePaused+"/resume", "POST /interviews/{id}/resume", demodata.AlicePaused, "alice", "", ""), 200},
	"GetInterview": route{func(log *slog.Logger, db *dynamodb.Client) http.Handler {
		return httpapi.GetInterview(log, wiring.Defaults(), interviews(db))
	},
		event("GET", "/interviews/"+demodata.AliceActive, "GET /interviews/{id}", demodata.AliceActive, "alice", "", ""), 200},
	"ListInterviews": route{func(log *slog.Logger, db *dynamodb.Client) http.Handler {
		return httpapi.ListInterviews(log, wiring.Defaults(), interviews(db))
	},
		event("GET", "/interviews", "GET /interviews", "", "alice", "", ""), 200},
	"CancelJob": route{func(log *slog.Logger, db *dynamodb.Client) http.Handler {
		return httpapi.CancelJob(log, wiring.Defaults(), jobs(db))
	},
		event("POST", "/jobs/"+demodata.JobAssignedConfirmed+"/cancel", "POST /jobs/{id}/cancel", demodata.JobAssignedConfirmed, "dana", "[Dispatcher]", `{"reason":"bench"}`), 200},
	"GetJob": route{func(log *slog.Logger, db *dynamodb.Client) http.Handler {
		return httpapi.GetJob(log, wiring.Defaults(), jobs(db))
	},
		event("GET", "/jobs/"+demodata.JobAssignedConfirmed, "GET /jobs/{id}", demodata.JobAssignedConfirmed, "dana", "[Dispatcher]", ""), 200},
}

func BenchmarkCancelInterview(b *testing.B) { bench(b, routes["CancelInterview"]) }

func BenchmarkPauseInterview(b *testing.B) { bench(b, routes["PauseInterview"]) }

func BenchmarkResumeInterview(b *testing.B) { bench(b, routes["ResumeInterview"]) }

func BenchmarkGetInterview(b *testing.B) { bench(b, routes["GetInterview"]) }

func BenchmarkListInterviews(b *testing.B) { bench(b, routes["ListInterviews"]) }

func BenchmarkCancelJob(b *testing.B) { bench(b, routes["CancelJob"]) }

func BenchmarkGetJob(b *testing.B) { bench(b, routes["GetJob"]) }

// TestEveryBenchmarkedRouteAnswers runs each benchmarked handler once against the canned
// endpoint: make test keeps make bench's handler benchmarks working (a store that reads
// before it writes needs a session the transition can leave, a paused one for resume).
func TestEveryBenchmarkedRouteAnswers(t *testing.T) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "bench"})
	for name, r := range routes {
		log, _ := logger()
		resp, err := httpapi.Lambda(log, r.handler(log, client()))(ctx, r.event)
		if err != nil || resp.StatusCode != r.want {
			t.Errorf("%s: status %d, want %d: %s %v", name, resp.StatusCode, r.want, resp.Body, err)
		}
	}
}
