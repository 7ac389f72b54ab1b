package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lifecycle-api/lifecycle/tools/devserver"
)

// TestSampleEventsOnDynamoDBLocal invokes every HTTP function through the api-proxy with
// each of its files in events/, against a fresh table of demo data per function, as
// `sam local invoke -e` would. The expected status is the file name's prefix.
func TestSampleEventsOnDynamoDBLocal(t *testing.T) {
	root := repoRoot(t)
	dirs, _ := filepath.Glob(filepath.Join(root, "events", "*"))
	probe := devserver.Functions(devserver.Config{Logger: discardLogger(), Now: time.Now})
	var checked int
	for _, dir := range dirs {
		fn := filepath.Base(dir)
		if _, ok := probe[fn]; !ok {
			continue // not an HTTP function
		}
		t.Run(fn, func(t *testing.T) {
			s := newStack(t)
			handler := devserver.Functions(devserver.Config{Logger: discardLogger(), DB: s.db, Table: s.table, Now: time.Now})[fn]
			files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
			for _, f := range files {
				t.Run(filepath.Base(f), func(t *testing.T) {
					raw, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					var ev events.APIGatewayV2HTTPRequest
					if err := json.Unmarshal(raw, &ev); err != nil {
						t.Fatal(err)
					}
					ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "it"})
					resp, err := handler(ctx, ev)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := strconv.Atoi(strings.SplitN(filepath.Base(f), "-", 2)[0])
					if resp.StatusCode != want {
						t.Fatalf("status = %d, want %d: %s", resp.StatusCode, want, resp.Body)
					}
					checked++
				})
			}
		})
	}
	if checked < len(probe)*5 {
		t.Fatalf("only %d sample events checked for %d functions", checked, len(probe))
	}
}
