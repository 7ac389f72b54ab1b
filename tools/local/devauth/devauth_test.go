package devauth

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lifecycle-api/lifecycle/shared/auth"
)

var (
	testKey  = bytes.Repeat([]byte{0x42}, 32)
	otherKey = bytes.Repeat([]byte{0x17}, 32)
	testNow  = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

func mustMint(t *testing.T, key []byte, sub string, roles []string, ttl time.Duration, now time.Time) string {
	t.Helper()
	tok, err := Mint(key, sub, roles, ttl, now)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return tok
}

// signClaims signs arbitrary claims with HS256, for tokens Mint would never produce.
func signClaims(t *testing.T, key []byte, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tok
}

func b64(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestMintVerifyRoundTrip: a minted token verifies, at the injected clock (the wall clock
// would find it long expired), into the claims as the authorizer flattens them: exp and iat
// as plain integers (a float64's "%v" would give 1.7145684e+09).
func TestMintVerifyRoundTrip(t *testing.T) {
	tok := mustMint(t, testKey, "user-1", []string{"Dispatcher", "Admin"}, time.Hour, testNow)
	claims, err := Verify(testKey, tok, testNow.Add(time.Minute))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := map[string]string{
		"sub":            "user-1",
		"iss":            "lifecycle-local",
		"aud":            "lifecycle-api",
		"cognito:groups": "[Dispatcher Admin]",
		"exp":            "1714568400", // 2024-05-01T13:00:00Z
		"iat":            "1714564800", // 2024-05-01T12:00:00Z
	}
	if !maps.Equal(claims, want) {
		t.Errorf("claims = %v, want %v", claims, want)
	}
}

// TestMintVerifyRoles: the roles reach the claim in order; without roles there is no claim.
func TestMintVerifyRoles(t *testing.T) {
	for _, c := range []struct {
		roles []string
		want  string
	}{
		{nil, ""},
		{[]string{}, ""},
		{[]string{"Admin"}, "[Admin]"},
		{[]string{"Admin", "Dispatcher"}, "[Admin Dispatcher]"},
	} {
		claims, err := Verify(testKey, mustMint(t, testKey, "u", c.roles, time.Hour, testNow), testNow)
		got, present := claims["cognito:groups"]
		if err != nil || got != c.want || present != (c.want != "") {
			t.Errorf("roles %q: claim %q (present %v), %v; want %q", c.roles, got, present, err, c.want)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	valid := jwt.MapClaims{
		"iss": Issuer, "aud": Audience, "sub": "u",
		"iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(),
	}
	with := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := maps.Clone(valid)
		mut(c)
		return c
	}
	noneToken := b64(t, map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(t, valid) + "."
	hs384, err := jwt.NewWithClaims(jwt.SigningMethodHS384, valid).SignedString(testKey)
	if err != nil {
		t.Fatal(err)
	}
	good := mustMint(t, testKey, "u", []string{"Admin"}, time.Hour, testNow)
	parts := strings.Split(good, ".")
	tamperedPayload := parts[0] + "." + b64(t, with(func(c jwt.MapClaims) { c["sub"] = "admin" })) + "." + parts[2]

	tests := []struct {
		name  string
		token string
		now   time.Time
	}{
		{"expired", mustMint(t, testKey, "u", nil, time.Hour, testNow), testNow.Add(2 * time.Hour)},
		{"expired long ago", mustMint(t, testKey, "u", nil, time.Minute, testNow.Add(-24*time.Hour)), testNow},
		{"negative ttl", mustMint(t, testKey, "u", nil, -time.Second, testNow), testNow},
		{"signed with another key", mustMint(t, otherKey, "u", []string{"Admin"}, time.Hour, testNow), testNow},
		{"alg none", noneToken, testNow},
		{"alg HS384 with the right key", hs384, testNow},
		{"wrong issuer", signClaims(t, testKey, with(func(c jwt.MapClaims) { c["iss"] = "someone-else" })), testNow},
		{"missing issuer", signClaims(t, testKey, with(func(c jwt.MapClaims) { delete(c, "iss") })), testNow},
		{"wrong audience", signClaims(t, testKey, with(func(c jwt.MapClaims) { c["aud"] = "other-api" })), testNow},
		{"missing audience", signClaims(t, testKey, with(func(c jwt.MapClaims) { delete(c, "aud") })), testNow},
		{"missing exp", signClaims(t, testKey, with(func(c jwt.MapClaims) { delete(c, "exp") })), testNow},
		{"issued in the future", signClaims(t, testKey, with(func(c jwt.MapClaims) { c["iat"] = testNow.Add(time.Minute).Unix() })), testNow},
		{"not valid yet", signClaims(t, testKey, with(func(c jwt.MapClaims) { c["nbf"] = testNow.Add(time.Minute).Unix() })), testNow},
		{"tampered payload", tamperedPayload, testNow},
		{"stripped signature", parts[0] + "." + parts[1] + ".", testNow},
		{"garbage", "not-a-token", testNow},
		{"three garbage parts", "a.b.c", testNow},
		{"empty", "", testNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := Verify(testKey, tt.token, tt.now)
			if err == nil {
				t.Fatalf("Verify accepted the token, claims %v", claims)
			}
			if claims != nil {
				t.Errorf("claims = %v on error, want nil", claims)
			}
		})
	}

	// Sanity check: the unmodified valid claims are accepted, so the rejections above are
	// due to the one change each makes.
	if _, err := Verify(testKey, signClaims(t, testKey, valid), testNow); err != nil {
		t.Fatalf("baseline token rejected: %v", err)
	}
	if _, err := Verify(testKey, signClaims(t, testKey, valid), testNow.Add(2*time.Hour)); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("an expired token: %v, want an expiry error", err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "does", "not", "exist")
	path := filepath.Join(dir, "dev-signing-key")
	key, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("first LoadOrCreateKey: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 600", fi, err)
	}
	if raw, err := os.ReadFile(path); err != nil || string(raw) != hex.EncodeToString(key)+"\n" || len(key) != 32 {
		t.Errorf("key file holds %q (%v), want the 32-byte key %x in hex", raw, err, key)
	}
	if again, err := LoadOrCreateKey(path); err != nil || !bytes.Equal(again, key) {
		t.Errorf("second LoadOrCreateKey: %x, %v; want the same key", again, err)
	}
	if other, err := LoadOrCreateKey(filepath.Join(dir, "other-key")); err != nil || bytes.Equal(other, key) {
		t.Errorf("another file's key: %x, %v; want a new random one", other, err)
	}
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Errorf("LoadOrCreateKey on a directory succeeded, want error")
	}
}

// TestLoadOrCreateKeyReadsAnExistingKey: a file's key in hex, of 32 bytes, white space
// around it, is read; anything else is malformed, and the file is left as it is, not
// silently replaced.
func TestLoadOrCreateKeyReadsAnExistingKey(t *testing.T) {
	good := bytes.Repeat([]byte{0xab}, 32)
	for content, want := range map[string][]byte{
		"  " + hex.EncodeToString(good) + "\n\n":                           good,
		"this is not a hex key at all, not even close, no sir, not at all": nil,
		strings.Repeat("a", 63):                                            nil, // odd length
		strings.Repeat("ab", 16):                                           nil, // too short
		"":                                                                 nil,
		strings.Repeat("ab", 32) + "zz":                                    nil,
	} {
		path := filepath.Join(t.TempDir(), "k")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		key, err := LoadOrCreateKey(path)
		if !bytes.Equal(key, want) || (want == nil) != (err != nil && strings.Contains(err.Error(), "malformed")) {
			t.Errorf("%q: key %x, %v; want %x, or an error saying malformed", content, key, err, want)
		}
		if after, err := os.ReadFile(path); err != nil || string(after) != content {
			t.Errorf("%q: the file became %q, %v", content, after, err)
		}
	}
}

// TestMintServiceIsACognitoClientCredentialsToken: a service's token verifies, and reaches a
// function as the authorizer hands Cognito's on: the client id as sub and client_id, the
// scopes space-separated in "scope", no roles; auth reads them as the service's scopes.
func TestMintServiceIsACognitoClientCredentialsToken(t *testing.T) {
	tok, err := MintService(testKey, "conversation-service", []string{"lifecycle/interviews.progress", "lifecycle/x"}, time.Hour, testNow)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := Verify(testKey, tok, testNow.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "conversation-service" || claims["client_id"] != "conversation-service" || claims["token_use"] != "access" ||
		claims["scope"] != "lifecycle/interviews.progress lifecycle/x" || claims["cognito:groups"] != "" {
		t.Errorf("claims = %v", claims)
	}
	if got := auth.ParseScopes(claims); !slices.Equal(got, []string{"lifecycle/interviews.progress", "lifecycle/x"}) {
		t.Errorf("scopes read back = %q", got)
	}
}
