package push

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/live"
)

// TestPusherSpeaksTheManagementAPI: the SDK client posts the data, signed, to
// /@connections/{id} under its endpoint; a 410 GoneException is live.ErrGone; anything
// else is an error, tried once (the notifier retries).
func TestPusherSpeaksTheManagementAPI(t *testing.T) {
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls[r.Method+" "+r.URL.Path]++
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
			t.Errorf("%s %s is not signed", r.Method, r.URL.Path)
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/gone"):
			w.Header().Set("X-Amzn-ErrorType", "GoneException")
			w.WriteHeader(http.StatusGone)
			_, _ = io.WriteString(w, `{"message":null}`)
		case strings.HasSuffix(r.URL.Path, "/busy"):
			w.Header().Set("X-Amzn-ErrorType", "LimitExceededException")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"message":"Limit exceeded"}`)
		default:
			if b, _ := io.ReadAll(r.Body); r.Method == http.MethodPost && string(b) != `{"hello":1}` {
				t.Errorf("posted %q", b)
			}
		}
	}))
	defer srv.Close()
	cfg := config.New("us-east-1", credentials.NewStaticCredentialsProvider("id", "secret", ""))
	p := New(NewClient(cfg, 4, func(o *apigatewaymanagementapi.Options) { o.BaseEndpoint = aws.String(srv.URL + "/dev") }))
	ctx := context.Background()
	if err := p.Push(ctx, "ok", []byte(`{"hello":1}`)); err != nil {
		t.Errorf("push: %v", err)
	}
	if err := p.Push(ctx, "gone", []byte(`{}`)); !errors.Is(err, live.ErrGone) {
		t.Errorf("push to a gone connection: %v", err)
	}
	if err := p.Push(ctx, "busy", []byte(`{}`)); err == nil || errors.Is(err, live.ErrGone) {
		t.Errorf("push refused for a limit: %v", err)
	}
	if err := p.Disconnect(ctx, "ok"); err != nil {
		t.Errorf("disconnect: %v", err)
	}
	if err := p.Disconnect(ctx, "gone"); !errors.Is(err, live.ErrGone) {
		t.Errorf("disconnect a gone connection: %v", err)
	}
	if calls["POST /dev/@connections/ok"] != 1 || calls["DELETE /dev/@connections/ok"] != 1 || calls["POST /dev/@connections/busy"] != 1 {
		t.Errorf("calls %v: want each once, under the stage's endpoint, no SDK retry", calls)
	}
}
