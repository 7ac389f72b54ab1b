package auth

import (
	"testing"
	"time"
)

func TestTokenExpiry(t *testing.T) {
	if got, ok := TokenExpiry(map[string]string{"exp": "1795273200"}); !ok || !got.Equal(time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("got %v, %v", got, ok)
	}
	for _, bad := range []map[string]string{nil, {"exp": ""}, {"exp": "soon"}, {"exp": "1.7e9"}, {"exp": "-5"}} {
		if _, ok := TokenExpiry(bad); ok {
			t.Errorf("%v read as an expiry", bad)
		}
	}
}
