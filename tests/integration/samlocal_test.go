package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/samlocal"
	localstack "github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// TestSampleEventsThroughSAMLocal runs every file of events/ through the real SAM CLI, as
// a developer with Docker runs `sam local invoke`: `sam build` for this machine,
// `sam local start-lambda` with one warm container per function (in a Docker engine this
// test starts, and stops, when none runs) and the Lambda SDK's Invoke. Each function has
// its own stack, reached over Docker's bridge; the expectations are the Runtime API
// test's, from the file names. Beside them, `sam local start-api` serves the routes
// (checkStartAPI).
func TestSampleEventsThroughSAMLocal(t *testing.T) {
	prereq.Need(t, prereq.SAMCLI)
	root := repoRoot(t)
	out := filepath.Join(root, "test-output")
	logFile := func(name string) *os.File {
		f, err := os.Create(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	ctx := context.Background()
	began := time.Now()
	took := func(what string) {
		t.Logf("%s: %s", what, time.Since(began).Round(10*time.Millisecond))
		began = time.Now()
	}
	var engine *samlocal.Engine
	prereq.Need(t, func() (err error) {
		engine, err = samlocal.Docker(ctx, logFile("dockerd.log"), os.Stderr)
		return err
	})
	t.Cleanup(engine.Stop)
	took(fmt.Sprintf("Docker engine (started here: %v)", engine.Started()))
	arch, err := samlocal.Arch()
	if err != nil {
		t.Fatal(err)
	}
	l := samlocal.Local{Root: root, Arch: arch, EnvFile: filepath.Join(out, "sam-env.json")}
	if l.Image, err = engine.BaseImage(ctx, arch, os.Stderr); err != nil {
		t.Fatal(err)
	}
	took("base image " + l.Image)
	// sam build runs while the stacks are made.
	buildLog, built := logFile("sam-build.log"), make(chan struct{})
	buildCtx, cancelBuild := context.WithCancel(ctx)
	var buildErr error
	go func() {
		defer close(built)
		l.Template, buildErr = samlocal.Build(buildCtx, root, arch, buildLog)
	}()
	t.Cleanup(func() { cancelBuild(); <-built })

	bridge, err := samlocal.Expose(localstack.Info{DynamoDB: os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), Moto: os.Getenv("AWS_ENDPOINT_URL_EVENTBRIDGE")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bridge.Close)
	targets := map[string]*sampleTarget{}
	env := samlocal.EnvFile{}
	for _, fn := range functionNames(t) {
		targets[fn] = newSampleTarget(t, fn)
		vars, err := bridge.Vars(targets[fn].info)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range targets[fn].planEnv() {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		if _, ok := vars["AWS_ENDPOINT_URL_SCHEDULER"]; ok {
			vars["AWS_ENDPOINT_URL_SCHEDULER"] = bridge.Moto // moto, as the container reaches it
		}
		env[samlocal.LogicalID(fn)] = vars
	}
	if err := env.Write(l.EnvFile); err != nil {
		t.Fatal(err)
	}
	<-built
	if buildErr != nil {
		t.Fatalf("%v (test-output/sam-build.log)", buildErr)
	}
	took("sam build and a stack per function")
	samLog := filepath.Join(out, "sam-local.log")
	// LAZY, each container then started by one invocation after the other: SAM gives each
	// container a port it picks at random from 5000–9000 by binding and closing it, and its
	// EAGER start does that for every function at once, so two could pick one port ("port is
	// already allocated", about one start in forty). One at a time, each finds the last one
	// bound.
	srv, err := l.Serve(ctx, "start-lambda", 0, logFile(filepath.Base(samLog)), 3*time.Minute, "--warm-containers", "LAZY")
	if err != nil {
		t.Fatalf("sam local start-lambda: %v (test-output/sam-local.log)", err)
	}
	t.Cleanup(srv.Stop)
	client := lambda.New(lambda.Options{
		Region: localstack.Region, BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(localstack.AccessKey, localstack.AccessKey, ""),
	})
	for _, fn := range functionNames(t) {
		// An empty event: every function answers it without touching anything.
		if _, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(samlocal.LogicalID(fn)), Payload: []byte(`{}`)}); err != nil {
			t.Fatalf("start %s's container: %v (test-output/sam-local.log)", fn, err)
		}
	}
	took("sam local start-lambda with a warm container per function")
	logs := func() string { raw, _ := os.ReadFile(samLog); return string(raw) }
	// The functions run side by side, each in its own container; each one's samples in turn.
	// start-api, beside them, serves the routes over the same stacks.
	t.Run("sam", func(t *testing.T) {
		t.Run("start-api", func(t *testing.T) {
			t.Parallel()
			checkStartAPI(t, l, logFile("sam-api.log"))
		})
		for _, fn := range functionNames(t) {
			t.Run(fn, func(t *testing.T) {
				t.Parallel()
				targets[fn].check(t, func(ctx context.Context, event []byte) ([]byte, error) {
					res, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(samlocal.LogicalID(fn)), Payload: event})
					if err != nil {
						return nil, err
					}
					if res.FunctionError != nil {
						return nil, fmt.Errorf("the function failed (%s): %s", *res.FunctionError, res.Payload)
					}
					return res.Payload, nil
				}, logs)
			})
		}
	})
	took("every sample event, and start-api")
}

// checkStartAPI holds what docs/local.md says of `sam local start-api`: it serves the
// template's routes through the functions, but SAM does not run the JWT authorizer, so
// even a request with a valid token reaches the function without claims and is answered
// 401; a route the template lacks gets SAM's own 403.
func checkStartAPI(t *testing.T, l samlocal.Local, logw io.Writer) {
	api, err := l.Serve(context.Background(), "start-api", 0, logw, 3*time.Minute, "--warm-containers", "LAZY")
	if err != nil {
		t.Fatalf("sam local start-api: %v (test-output/sam-api.log)", err)
	}
	t.Cleanup(api.Stop)
	tok, err := devauth.Mint([]byte(randomName("key-0123456789abcdef0123456789")), "alice", nil, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	path := "/interviews/" + demodata.AliceActive + "/cancel"
	req, _ := http.NewRequest(http.MethodPost, api.Endpoint+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"error":"Unauthorized"`) || resp.Header.Get("X-Correlation-Id") == "" {
		t.Fatalf("POST %s through start-api: %d %s", path, resp.StatusCode, body)
	}
	if err := apiContract.Check(http.MethodPost, path, resp.StatusCode, resp.Header, body); err != nil {
		t.Error(err)
	}
	resp, err = http.Get(api.Endpoint + "/no-such-route")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Missing Authentication Token") {
		t.Errorf("an unknown route through start-api: %d %s", resp.StatusCode, body)
	}
}
