package live

import (
	"strings"
	"testing"
)

func TestTicketSecrets(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := NewTicketSecret()
		if !wellFormed(s) {
			t.Fatalf("secret %q is not well formed", s)
		}
		if seen[s] {
			t.Fatalf("secret %q issued twice", s)
		}
		seen[s] = true
		if k := TicketKey(s); len(k) != 64 || strings.Contains(k, s) || TicketKey(s) != k {
			t.Fatalf("key %q of %q: want a stable SHA-256 that does not reveal the secret", k, s)
		}
	}
}

func TestTicketFromSubprotocols(t *testing.T) {
	good := NewTicketSecret()
	cases := []struct {
		name   string
		values []string
		want   string
	}{
		{"one header", []string{"lifecycle.live.v1, ticket." + good}, good},
		{"ticket first, no spaces", []string{"ticket." + good + ",lifecycle.live.v1"}, good},
		{"two header lines", []string{"lifecycle.live.v1", "ticket." + good}, good},
		{"no header", nil, ""},
		{"no ticket", []string{"lifecycle.live.v1"}, ""},
		{"ticket without the channel's protocol", []string{"ticket." + good}, ""},
		{"another protocol", []string{"graphql-ws, ticket." + good}, ""},
		{"two tickets", []string{"lifecycle.live.v1, ticket." + good + ", ticket." + NewTicketSecret()}, ""},
		{"too short", []string{"lifecycle.live.v1, ticket." + good[:42]}, ""},
		{"too long", []string{"lifecycle.live.v1, ticket." + good + "A"}, ""},
		{"not base64url", []string{"lifecycle.live.v1, ticket." + strings.Repeat("+", 43)}, ""},
		{"empty ticket", []string{"lifecycle.live.v1, ticket."}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := TicketFromSubprotocols(c.values)
			if got != c.want || ok != (c.want != "") {
				t.Errorf("got %q, %v; want %q", got, ok, c.want)
			}
		})
	}
}
