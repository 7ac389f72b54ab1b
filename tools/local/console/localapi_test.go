package console

import (
	"encoding/json"
	"maps"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/lifecycle-api/lifecycle/tools/openapicheck"
)

// localAPI is the document of the local-only endpoints, which the console's client is typed from.
const localAPI = "local-api.yaml"

// TestLocalEndpointsAnswerAsLocalAPIYAMLSays: every answer of the local endpoints, success
// and each refusal, matches local-api.yaml, and every status it documents is answered, so
// the console's generated client (web/client/local-schema.ts) types what the server sends.
func TestLocalEndpointsAnswerAsLocalAPIYAMLSays(t *testing.T) {
	v, err := openapicheck.Load(localAPI)
	if err != nil {
		t.Fatal(err)
	}
	const local = "127.0.0.1:3000"
	cases := []struct {
		name         string
		fails        bool // minting and resetting fail
		method, path string
		host, body   string
		header       map[string]string
		want         int
	}{
		{name: "demo", method: "GET", path: "/_local/demo", want: 200},
		{name: "demo from elsewhere (read only: answered)", method: "GET", path: "/_local/demo", host: "evil.example", want: 200},
		{name: "token", method: "POST", path: "/_local/token", body: `{"sub":"dana","roles":["Dispatcher"],"ttlSeconds":60}`, want: 200},
		{name: "token, defaults", method: "POST", path: "/_local/token", body: `{"sub":"alice"}`, want: 200},
		{name: "token, not JSON", method: "POST", path: "/_local/token", body: `sub=alice`, want: 400},
		{name: "token, unknown field", method: "POST", path: "/_local/token", body: `{"sub":"alice","admin":true}`, want: 400},
		{name: "token, two objects", method: "POST", path: "/_local/token", body: `{"sub":"alice"}{"sub":"bob"}`, want: 400},
		{name: "token, no sub", method: "POST", path: "/_local/token", body: `{"roles":["Admin"]}`, want: 400},
		{name: "token, bad sub", method: "POST", path: "/_local/token", body: `{"sub":"alice bob"}`, want: 400},
		{name: "token, too many roles", method: "POST", path: "/_local/token", body: `{"sub":"alice","roles":["a","b","c","d","e","f","g","h","i","j","k"]}`, want: 400},
		{name: "token, bad role", method: "POST", path: "/_local/token", body: `{"sub":"alice","roles":["a b"]}`, want: 400},
		{name: "token, ttl too long", method: "POST", path: "/_local/token", body: `{"sub":"alice","ttlSeconds":43201}`, want: 400},
		{name: "token, negative ttl", method: "POST", path: "/_local/token", body: `{"sub":"alice","ttlSeconds":-5}`, want: 400},
		{name: "token, body too big", method: "POST", path: "/_local/token", body: `{"sub":"` + strings.Repeat("a", 5000) + `"}`, want: 400},
		{name: "token, text/plain", method: "POST", path: "/_local/token", body: `{"sub":"alice"}`, header: map[string]string{"Content-Type": "text/plain"}, want: 415},
		{name: "token, rebinding host", method: "POST", path: "/_local/token", host: "evil.example:3000", body: `{"sub":"alice"}`, want: 403},
		{name: "token, cross origin", method: "POST", path: "/_local/token", body: `{"sub":"alice"}`, header: map[string]string{"Origin": "http://evil.example"}, want: 403},
		{name: "token, cannot sign", fails: true, method: "POST", path: "/_local/token", body: `{"sub":"alice"}`, want: 500},
		{name: "reset", method: "POST", path: "/_local/reset", want: 200},
		{name: "reset, with the body make reset sends", method: "POST", path: "/_local/reset", body: `{}`, want: 200},
		{name: "reset, rebinding host", method: "POST", path: "/_local/reset", host: "evil.example:3000", want: 403},
		{name: "reset, cross origin", method: "POST", path: "/_local/reset", header: map[string]string{"Origin": "http://evil.example"}, want: 403},
		{name: "reset, fails", fails: true, method: "POST", path: "/_local/reset", want: 500},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		r.Host = local
		if c.host != "" {
			r.Host = c.host
		}
		if c.body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		for k, val := range c.header {
			r.Header.Set(k, val)
		}
		w := do(server(built, c.fails), r)
		var answer struct{ Error string }
		_ = json.Unmarshal(w.Body.Bytes(), &answer)
		if w.Code != c.want || (c.want != 200) != (answer.Error != "") || strings.Contains(w.Body.String(), "unreadable") {
			t.Errorf("%s: %d %s, want %d, an error message only with a refusal, and no detail of a failure", c.name, w.Code, w.Body.String(), c.want)
			continue
		}
		if err := v.Check(c.method, c.path, w.Code, w.Header(), w.Body.Bytes()); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if seen, documented := v.Seen(), v.Documented(); !slices.Equal(seen, documented) {
		t.Errorf("%s documents %v;\nthe tests answered %v", localAPI, documented, seen)
	}
}

// TestLocalAPIYAMLNamesTheGoFields: each body schema of local-api.yaml has exactly the JSON
// fields of the Go type the handlers decode or encode, so a field added on either side is
// caught (a response check alone misses a documented field the server never sends).
func TestLocalAPIYAMLNamesTheGoFields(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile(localAPI)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{
		"DemoUser":      User{},
		"DemoJob":       Job{},
		"TokenRequest":  tokenRequest{},
		"TokenResponse": tokenResponse{},
	} {
		ref, ok := doc.Components.Schemas[name]
		if !ok || ref.Value == nil {
			t.Errorf("%s has no schema %s", localAPI, name)
			continue
		}
		documented := slices.Sorted(maps.Keys(ref.Value.Properties))
		if fields := jsonFields(reflect.TypeOf(v)); !slices.Equal(documented, fields) {
			t.Errorf("%s: %s documents %v; the Go type has %v", name, localAPI, documented, fields)
		}
	}
}

func jsonFields(typ reflect.Type) []string {
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
