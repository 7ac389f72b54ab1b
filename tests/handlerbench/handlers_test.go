// Package bench holds the in-process handler benchmarks `make bench` reports: each
// function's handler, with its real store and SDK client, against a local HTTP endpoint
// that answers the DynamoDB call at once, so what is measured is our code's cost per
// request (routing, auth, decoding, the SDK's marshalling and signing, logging).
package handlerbench

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
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

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/logging"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
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

// serveFake answers every DynamoDB operation at once with a canned body, and prints its URL.
func serveFake() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println("http://" + ln.Addr().String())
	_ = http.Serve(ln, fakeDynamoDB())
}

// fakeDynamoDB answers every operation at once with a canned body.
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
	bodies["GetItem"] = enc(map[string]any{"Item": wire(dynamo.SessionItem(session))})
	var sessions []any
	for _, s := range demodata.Sessions()[:7] {
		sessions = append(sessions, wire(dynamo.SessionItem(s)))
	}
	bodies["Query:byOwner"] = enc(map[string]any{"Items": sessions, "Count": len(sessions)})
	bodies["Query:job"] = enc(map[string]any{"Items": []any{wire(dynamo.JobItem(jw.Job)), wire(dynamo.AssignmentItem(jw.Assignments[0]))}, "Count": 2})
	bodies["TransactWriteItems"] = []byte(`{}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		op = op[strings.LastIndex(op, ".")+1:]
		body, _ := io.ReadAll(r.Body)
		if op == "Query" {
			op = "Query:job"
			if strings.Contains(string(body), `"IndexName"`) {
				op = "Query:byOwner"
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write(bodies[op])
	})
}

func client(b *testing.B) *dynamodb.Client {
	cfg := config.New("us-east-1", credentials.NewStaticCredentialsProvider("bench", "bench", ""))
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(fakeURL) })
}

func event(method, path, routeKey, id, sub, roles, body string) events.APIGatewayV2HTTPRequest {
	claims := map[string]string{"sub": sub}
	if roles != "" {
		claims["cognito:groups"] = roles
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: path, Body: body,
		Headers: map[string]string{"content-type": "application/json", "x-correlation-id": "bench"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "bench", RouteKey: routeKey, Stage: "$default", DomainName: "example.com",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}},
		},
	}
	if id != "" {
		ev.PathParameters = map[string]string{"id": id}
	}
	return ev
}

func run(b *testing.B, h httpapi.LambdaHandler, logs *logCounter, ev events.APIGatewayV2HTTPRequest, want int) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "bench"})
	if resp, err := h(ctx, ev); err != nil || resp.StatusCode != want {
		b.Fatalf("status %d, want %d: %s %v", resp.StatusCode, want, resp.Body, err)
	}
	b.ReportAllocs()
	logs.n = 0
	b.ResetTimer()
	before := cpuTime()
	for b.Loop() {
		if _, err := h(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-before).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(logs.n)/float64(b.N), "log-B/op")
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

func interviews(b *testing.B) *dynamo.Interviews {
	return dynamo.NewInterviews(client(b), "bench", time.Now)
}

func BenchmarkCancelInterview(b *testing.B) {
	log, logs := logger()
	h := httpapi.Lambda(log, httpapi.CancelInterview(log, wiring.Defaults(), interviews(b)))
	run(b, h, logs, event("POST", "/interviews/"+demodata.AliceActive+"/cancel", "POST /interviews/{id}/cancel", demodata.AliceActive, "alice", "", `{"reason":"bench"}`), 200)
}

func BenchmarkPauseInterview(b *testing.B) {
	log, logs := logger()
	h := httpapi.Lambda(log, httpapi.PauseInterview(log, wiring.Defaults(), interviews(b)))
	run(b, h, logs, event("POST", "/interviews/"+demodata.AliceActive+"/pause", "POST /interviews/{id}/pause", demodata.AliceActive, "alice", "", ""), 200)
}

func BenchmarkResumeInterview(b *testing.B) {
	log, logs := logger()
	h := httpapi.Lambda(log, httpapi.ResumeInterview(log, wiring.Defaults(), interviews(b)))
	run(b, h, logs, event("POST", "/interviews/"+demodata.AliceActive+"/resume", "POST /interviews/{id}/resume", demodata.AliceActive, "alice", "", ""), 200)
}

func BenchmarkGetInterview(b *testing.B) {
	log, logs := logger()
	h := httpapi.Lambda(log, httpapi.GetInterview(log, wiring.Defaults(), interviews(b)))
	run(b, h, logs, event("GET", "/interviews/"+demodata.AliceActive, "GET /interviews/{id}", demodata.AliceActive, "alice", "", ""), 200)
}

func BenchmarkListInterviews(b *testing.B) {
	log, logs := logger()
	h := httpapi.Lambda(log, httpapi.ListInterviews(log, wiring.Defaults(), interviews(b)))
	run(b, h, logs, event("GET", "/interviews", "GET /interviews", "", "alice", "", ""), 200)
}

func BenchmarkCancelJob(b *testing.B) {
	log, logs := logger()
	jobs := dynamo.NewJobs(client(b), "bench", time.Now, lifecycle.NewID)
	h := httpapi.Lambda(log, httpapi.CancelJob(log, wiring.Defaults(), jobs))
	run(b, h, logs, event("POST", "/jobs/"+demodata.JobAssignedConfirmed+"/cancel", "POST /jobs/{id}/cancel", demodata.JobAssignedConfirmed, "dana", "[Dispatcher]", `{"reason":"bench"}`), 200)
}

func BenchmarkGetJob(b *testing.B) {
	log, logs := logger()
	jobs := dynamo.NewJobs(client(b), "bench", time.Now, lifecycle.NewID)
	h := httpapi.Lambda(log, httpapi.GetJob(log, wiring.Defaults(), jobs))
	run(b, h, logs, event("GET", "/jobs/"+demodata.JobAssignedConfirmed, "GET /jobs/{id}", demodata.JobAssignedConfirmed, "dana", "[Dispatcher]", ""), 200)
}
