package httpapi

import (
	"encoding/json"
	"testing"
)

func TestWithRawField(t *testing.T) {
	for _, c := range []struct{ obj, name, raw, want string }{
		{`{"a":1}`, "b", `[{"x":"y"}]`, `{"a":1,"b":[{"x":"y"}]}`},
		{`{}`, "b", `{"c":[1, 2]}`, `{"b":{"c":[1, 2]}}`},
		{`{"s":"}"}`, "m", `"t"`, `{"s":"}","m":"t"}`},
	} {
		got := withRawField([]byte(c.obj), c.name, []byte(c.raw))
		if string(got) != c.want || !json.Valid(got) {
			t.Errorf("withRawField(%s, %s, %s) = %s, want %s", c.obj, c.name, c.raw, got, c.want)
		}
	}
}
