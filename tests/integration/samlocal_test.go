package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lifecycle-api/lifecycle/tools/local/samlocal"
	localstack "github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// TestSampleEventsThroughSAMLocal runs every file of events/ through the real SAM CLI, as
// a developer with Docker runs `sam local invoke`: `sam build` for this machine,
// `sam local start-lambda` with one warm container per function (in a Docker engine this
// test starts, and stops, when none runs) and the Lambda SDK's Invoke. Each function has
// its own stack, reached over Docker's bridge; the expectations are the Runtime API
// test's, from the file names.
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
		env[samlocal.LogicalID(fn)] = bridge.Vars(targets[fn].info)
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
	srv, err := l.Serve(ctx, "start-lambda", 0, logFile(filepath.Base(samLog)), 3*time.Minute, "--warm-containers", "EAGER")
	if err != nil {
		t.Fatalf("sam local start-lambda: %v (test-output/sam-local.log)", err)
	}
	t.Cleanup(srv.Stop)
	took("sam local start-lambda with a warm container per function")
	client := lambda.New(lambda.Options{
		Region: localstack.Region, BaseEndpoint: aws.String(srv.Endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(localstack.AccessKey, localstack.AccessKey, ""),
	})
	logs := func() string { raw, _ := os.ReadFile(samLog); return string(raw) }
	// The functions run side by side, each in its own container; each one's samples in turn.
	t.Run("events", func(t *testing.T) {
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
	took("every sample event")
}
