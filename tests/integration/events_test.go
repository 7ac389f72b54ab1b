package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lifecycle-api/lifecycle/shared/auditlog"
	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
)

// TestSampleEventsOnTheLocalStack invokes every HTTP function through the api-proxy with
// each of its files in events/, against a fresh table of demo data per function, as
// `sam local invoke -e` would. The expected status is the file name's prefix.
func TestSampleEventsOnTheLocalStack(t *testing.T) {
	root := repoRoot(t)
	dirs, _ := filepath.Glob(filepath.Join(root, "events", "*"))
	probe := wiring.Functions(wiring.Config{Logger: discardLogger(), Now: time.Now})
	var checked int
	for _, dir := range dirs {
		fn := filepath.Base(dir)
		if _, ok := probe[fn]; !ok {
			continue // not an HTTP function
		}
		t.Run(fn, func(t *testing.T) {
			s := newStack(t)
			handler := wiring.Functions(wiring.Config{Logger: discardLogger(), DB: s.db, Table: s.table, LiveTable: s.liveTable, Now: time.Now})[fn]
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
					checked++
				})
			}
		})
	}
	if checked < len(probe)*5 {
		t.Fatalf("only %d sample events checked for %d functions", checked, len(probe))
	}
}

// publishedBySample is how many events each publish-events sample publishes.
var publishedBySample = map[string]int{
	"published-interview-cancelled.json":  1,
	"published-batch-of-transitions.json": 4, // the assignment's own record is not an event
	"ignored-records.json":                0,
}

// auditFailuresBySample is how many messages of each audit-log sample are reported failed,
// and how many audit items it leaves.
var auditFailuresBySample = map[string][2]int{
	"recorded-interview-cancelled.json":               {0, 1},
	"partial-batch-with-duplicate-and-malformed.json": {1, 1},
}

func readEvent[T any](t *testing.T, path string) T {
	t.Helper()
	var v T
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// TestStreamAndQueueSampleEvents runs the publisher with each events/publish-events file
// (to moto's EventBridge) and the audit consumer with each events/audit-log file (to
// moto's DynamoDB).
func TestStreamAndQueueSampleEvents(t *testing.T) {
	root := repoRoot(t)
	pubFiles, _ := filepath.Glob(filepath.Join(root, "events", "publish-events", "*.json"))
	for _, f := range pubFiles {
		name := filepath.Base(f)
		t.Run("publish-events/"+name, func(t *testing.T) {
			want, ok := publishedBySample[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			s := newStack(t)
			p := newPipeline(t, s)
			resp, err := p.handler(context.Background(), readEvent[events.DynamoDBEvent](t, f))
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("failures %v, err %v", resp.BatchItemFailures, err)
			}
			if got := len(p.received(t, "AuditQueue")); got != want {
				t.Fatalf("%d events published, want %d", got, want)
			}
		})
	}
	auditFiles, _ := filepath.Glob(filepath.Join(root, "events", "audit-log", "*.json"))
	for _, f := range auditFiles {
		name := filepath.Base(f)
		t.Run("audit-log/"+name, func(t *testing.T) {
			want, ok := auditFailuresBySample[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			s := newStack(t)
			table := newAuditTable(t, s.db)
			h := auditlog.Handler(discardLogger(), dynamo.NewAuditLog(s.db, table, 0), time.Now)
			resp, err := h(context.Background(), readEvent[events.SQSEvent](t, f))
			if err != nil || len(resp.BatchItemFailures) != want[0] {
				t.Fatalf("failures %v (want %d), err %v", resp.BatchItemFailures, want[0], err)
			}
			scan, err := s.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
			if err != nil || len(scan.Items) != want[1] {
				t.Fatalf("%d audit items, want %d (%v)", len(scan.Items), want[1], err)
			}
		})
	}
	if len(pubFiles) != len(publishedBySample) || len(auditFiles) != len(auditFailuresBySample) {
		t.Errorf("sample files and expectations differ: %d/%d publish, %d/%d audit", len(pubFiles), len(publishedBySample), len(auditFiles), len(auditFailuresBySample))
	}
}
