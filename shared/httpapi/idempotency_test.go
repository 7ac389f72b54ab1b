package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

func TestIdempotencyKeyOnTransitions(t *testing.T) {
	store := demoStore()
	logger, _ := newLogger()
	h := CancelInterview(logger, defaults, store)
	send := func(key, body string) (int, string, string) {
		hs := map[string]string{}
		if key != "" {
			hs["idempotency-key"] = key
		}
		resp := invoke(t, h, request{id: aliceActive, sub: "alice", body: body, headers: hs}.event())
		return resp.StatusCode, header(resp, ReplayedHeader), resp.Body
	}
	status, replayed, first := send("k-1", `{"reason":"x"}`)
	if status != 200 || replayed != "" {
		t.Fatalf("first: %d %q", status, replayed)
	}
	status, replayed, again := send("k-1", `{ "reason" : "x" }`)
	if status != 200 || replayed != "true" || again != first {
		t.Fatalf("replay: %d %q\n%s\n%s", status, replayed, again, first)
	}
	if status, _, body := send("k-1", `{"reason":"y"}`); status != http.StatusUnprocessableEntity || !strings.Contains(body, "IDEMPOTENCY_KEY_REUSED") {
		t.Fatalf("reuse: %d %s", status, body)
	}
	if status, _, _ := send("", `{"reason":"x"}`); status != 400 {
		t.Fatalf("keyless retry: %d", status)
	}
	if len(store.calls) != 4 || store.calls[0].Idempotency.Key != "key:k-1" || store.calls[3].Idempotency.Key != "invocation:lambda-req-1" {
		t.Fatalf("keys passed to the store: %+v", store.calls)
	}
	if store.calls[0].Idempotency.Fingerprint != store.calls[1].Idempotency.Fingerprint || store.calls[0].Idempotency.Fingerprint == store.calls[2].Idempotency.Fingerprint {
		t.Fatal("fingerprints must follow the normalised request")
	}
}

func TestIdempotencyFingerprintCoversCallerAndEntity(t *testing.T) {
	a := fingerprintOf(t, FnCancelInterview, "alice", aliceActive, "r")
	for name, other := range map[string]string{
		"caller":   fingerprintOf(t, FnCancelInterview, "bob", aliceActive, "r"),
		"entity":   fingerprintOf(t, FnCancelInterview, "alice", alicePaused, "r"),
		"function": fingerprintOf(t, FnPauseInterview, "alice", aliceActive, "r"),
		"reason":   fingerprintOf(t, FnCancelInterview, "alice", aliceActive, "s"),
	} {
		if other == a {
			t.Errorf("a different %s gives the same fingerprint", name)
		}
	}
}

func fingerprintOf(t *testing.T, fn, sub, id, reason string) string {
	r, _ := http.NewRequest(http.MethodPost, "/", nil)
	idem, err := idempotency(r, fn, actorOf(sub), id, reason)
	if err != nil {
		t.Fatal(err)
	}
	return idem.Fingerprint
}

func TestIdempotencyKeyValidation(t *testing.T) {
	for _, c := range []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{strings.Repeat("k", 255), true},
		{"6f8c1a52-3f1e-4c3b-9d55-1a2b3c4d5e60", true},
		{strings.Repeat("k", 256), false},
		{"with space", false},
		{"tab\there", false},
		{"ünïcode", false},
	} {
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set(IdempotencyHeader, c.key)
		_, err := idempotency(r, FnCancelJob, actorOf("dana"), jobAssigned, "")
		if (err == nil) != c.ok {
			t.Errorf("key %q: err %v", c.key, err)
		}
	}
	r, _ := http.NewRequest(http.MethodPost, "/", nil)
	r.Header.Add(IdempotencyHeader, "a")
	r.Header.Add(IdempotencyHeader, "b")
	if _, err := idempotency(r, FnCancelJob, actorOf("dana"), jobAssigned, ""); err == nil {
		t.Error("two Idempotency-Key headers accepted")
	}
}

// TestIdempotencyKeyWithACommaIsOneKey: behind API Gateway a key is read from the event
// whole; aws-lambda-go-api-proxy's split of header values on commas must not turn the key
// "k,1" into two values (refused) or into "k" (another request's key).
func TestIdempotencyKeyWithACommaIsOneKey(t *testing.T) {
	store := demoStore()
	logger, _ := newLogger()
	h := CancelInterview(logger, defaults, store)
	ev := request{id: aliceActive, sub: "alice", headers: map[string]string{"idempotency-key": "k,1"}}.event()
	if resp := invoke(t, h, ev); resp.StatusCode != 200 {
		t.Fatalf("first: %d %s", resp.StatusCode, resp.Body)
	}
	resp := invoke(t, h, ev)
	if resp.StatusCode != 200 || header(resp, ReplayedHeader) != "true" {
		t.Fatalf("retry with the same key: %d %q %s", resp.StatusCode, header(resp, ReplayedHeader), resp.Body)
	}
	if len(store.calls) != 2 || store.calls[0].Idempotency.Key != "key:k,1" {
		t.Fatalf("keys passed to the store: %+v", store.calls)
	}
}
