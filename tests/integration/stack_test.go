package integration

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
)

// stack is one isolated local API: its own table with the demo data, its own signing key,
// served over real HTTP.
type stack struct {
	url   string
	db    *dynamodb.Client
	table string
	// liveTable holds the live channel's tickets and connections (with the sample tickets).
	liveTable string
	key       []byte
	cfg       wiring.Config
}

type stackOption func(*wiring.Config)

// withDB serves the functions through another DynamoDB client (for outage tests); the
// demo data still goes through the working one.
func withDB(db *dynamodb.Client) stackOption { return func(c *wiring.Config) { c.DB = db } }

// withNow gives the functions a clock of the test's.
func withNow(now func() time.Time) stackOption { return func(c *wiring.Config) { c.Now = now } }

func newStack(t *testing.T, opts ...stackOption) *stack {
	t.Helper()
	ctx := context.Background()
	awsCfg, err := config.AWS()
	if err != nil {
		t.Fatal(err)
	}
	// A retry the SDK makes says so in the test's output: a test that fails after one shows
	// where the request first went wrong.
	awsCfg.ClientLogMode = aws.LogRetries
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	s := &stack{db: db, table: randomName("it-"), key: []byte(randomName("key-0123456789abcdef0123456789"))}
	s.liveTable = s.table + "-live"
	if err := demodata.Load(ctx, db, s.table); err != nil {
		t.Fatalf("load demo data: %v", err)
	}
	if err := demodata.LoadLive(ctx, db, s.liveTable); err != nil {
		t.Fatalf("create the live table: %v", err)
	}
	cfg := wiring.Config{
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, nil)),
		DB:        db,
		Table:     s.table,
		LiveTable: s.liveTable,
		Now:       time.Now,
		Verify:    func(tok string) (map[string]string, error) { return devauth.Verify(s.key, tok, time.Now()) },
	}
	for _, o := range opts {
		o(&cfg)
	}
	s.cfg = cfg
	h, err := wiring.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *stack) token(t *testing.T, sub string, roles ...string) string {
	t.Helper()
	tok, err := devauth.Mint(s.key, sub, roles, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request; headers are pairs of name, value.
func (s *stack) do(t *testing.T, method, path, token, body string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	// Every answer a function gives (they all carry a correlation id; API Gateway's own
	// 404 for an unknown route does not) must be one openapi.yaml documents.
	if resp.Header.Get("X-Correlation-Id") != "" {
		if err := apiContract.Check(method, req.URL.RequestURI(), resp.StatusCode, resp.Header, raw); err != nil {
			t.Error(err)
		}
	}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %q", method, path, raw)
	}
	return r
}

// doAsAClient sends a POST as a well-behaved client does: with an Idempotency-Key, and
// again with the same key after a 503 or a 409, as openapi.yaml tells clients to. The
// concurrency tests send dozens of writes to one entity at once: a request can lose the
// race for it several times running (a 409), and on a busy machine the local DynamoDB can
// miss a function's timeout (a 503). The retry can never apply twice, so the tests' counts
// of winners and refusals still hold.
func (s *stack) doAsAClient(t *testing.T, method, path, token, body string, headers ...string) response {
	t.Helper()
	headers = append(headers, "Idempotency-Key", randomName("client-"))
	for attempt := 1; ; attempt++ {
		r := s.do(t, method, path, token, body, headers...)
		if (r.status != http.StatusServiceUnavailable && r.status != http.StatusConflict) || attempt == 5 {
			return r
		}
		time.Sleep(time.Second) // Retry-After
	}
}

// item reads an item straight from the table.
func (s *stack) item(t *testing.T, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := s.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func (s *stack) session(t *testing.T, id string) map[string]types.AttributeValue {
	return s.item(t, "INTERVIEW#"+id, "INTERVIEW")
}

func str(m map[string]types.AttributeValue, k string) string {
	switch v := m[k].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}
