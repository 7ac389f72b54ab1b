package livegateway

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"

	"github.com/lifecycle-api/lifecycle/shared/liveapi"
)

// TestAPingInvokesNoFunction: as the template's MOCK integration does, the gateway answers
// {"type":"ping"} itself; every other message goes to $default's function.
func TestAPingInvokesNoFunction(t *testing.T) {
	var defaults atomic.Int32
	ok := func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: http.StatusOK}, nil
	}
	g := New(Functions{
		Connect:    ok,
		Disconnect: ok,
		Default: func(_ context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			defaults.Add(1)
			return events.APIGatewayProxyResponse{StatusCode: http.StatusBadRequest, Body: `{"type":"error","got":` + req.Body + `}`}, nil
		},
	}, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(g)
	t.Cleanup(func() { g.Close(); srv.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	exchange := func(msg string) string {
		t.Helper()
		if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	for _, ping := range []string{`{"type":"ping"}`, `{"type":"ping","at":1}`} {
		if got := exchange(ping); got != liveapi.Pong {
			t.Errorf("%s answered %s, want %s", ping, got, liveapi.Pong)
		}
	}
	if n := defaults.Load(); n != 0 {
		t.Fatalf("pings invoked $default's function %d times", n)
	}
	for _, other := range []string{`{"type":"subscribe"}`, `{"type":"PING"}`, `[1]`} {
		if got := exchange(other); !strings.Contains(got, `"got":`+other) {
			t.Errorf("%s answered %s, want $default's answer", other, got)
		}
	}
	if n := defaults.Load(); n != 3 {
		t.Errorf("$default's function took %d messages, want 3", n)
	}
}

// TestEventCarriesTheCallersAddress: sourceIp is the caller's address without its port, an
// IPv6 one too (RemoteAddr brackets it).
func TestEventCarriesTheCallersAddress(t *testing.T) {
	g := New(Functions{}, slog.New(slog.DiscardHandler))
	defer g.Close()
	for remote, want := range map[string]string{"127.0.0.1:5123": "127.0.0.1", "[::1]:5123": "::1"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		if got := g.event(r, "c1", "$connect", "CONNECT", time.Now()).RequestContext.Identity.SourceIP; got != want {
			t.Errorf("RemoteAddr %s: sourceIp %q, want %q", remote, got, want)
		}
	}
}
