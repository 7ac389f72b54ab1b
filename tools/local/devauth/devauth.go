// Package devauth mints and verifies the HS256 tokens used locally in place of the
// HTTP API's JWT authorizer. The signing key is generated per checkout into
// .local/dev-signing-key (ignored by git) and is never used outside local mode.
package devauth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lifecycle-api/lifecycle/shared/auth"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// Issuer and Audience of local tokens; the dev server accepts nothing else.
const (
	Issuer   = "lifecycle-local"
	Audience = "lifecycle-api"
)

// CheckoutKey is this checkout's signing key: the file named by $LIFECYCLE_DEV_KEY_FILE,
// else .local/dev-signing-key at the repository root, created on first use. `make run`,
// `make token` and the console all sign with it.
func CheckoutKey() ([]byte, error) {
	path := os.Getenv("LIFECYCLE_DEV_KEY_FILE")
	if path == "" {
		var err error
		if path, err = repo.Path(".local", "dev-signing-key"); err != nil {
			return nil, err
		}
	}
	return LoadOrCreateKey(path)
}

// LoadOrCreateKey reads the signing key at path, creating a random one first if needed.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 32 {
			return nil, fmt.Errorf("dev signing key %s is malformed; delete it to get a new one", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

// Mint signs a token for sub with roles, valid for ttl from now. The roles go in the claim
// Cognito puts a user's groups in (auth.DefaultRolesClaim, the RolesClaim parameter's
// default), as an array, so the gateway delivers them as the authorizer does: "[a b]".
func Mint(key []byte, sub string, roles []string, ttl time.Duration, now time.Time) (string, error) {
	claims := jwt.MapClaims{"sub": sub}
	if len(roles) > 0 {
		claims[auth.DefaultRolesClaim] = roles
	}
	return sign(key, claims, ttl, now)
}

// MintService signs a service's token, as Cognito's client-credentials grant issues one:
// the app client's id as sub and client_id, token_use "access", and the scopes it grants
// in "scope", space-separated; valid for ttl from now.
func MintService(key []byte, clientID string, scopes []string, ttl time.Duration, now time.Time) (string, error) {
	return sign(key, jwt.MapClaims{
		"sub": clientID, "client_id": clientID, "token_use": "access", "scope": strings.Join(scopes, " "),
	}, ttl, now)
}

// sign adds the issuer, audience and times to claims and signs them with HS256.
func sign(key []byte, claims jwt.MapClaims, ttl time.Duration, now time.Time) (string, error) {
	claims["iss"], claims["aud"] = Issuer, Audience
	claims["iat"], claims["exp"] = now.Unix(), now.Add(ttl).Unix()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
}

// Verify checks a token the way the HTTP API's JWT authorizer does: the signature and
// algorithm, iss, aud, exp (required, after now), nbf and iat (when present, not after
// now: a token from the future is refused). It returns the claims flattened the way API
// Gateway hands them to a function: every value a string, arrays as "[a b]".
func Verify(key []byte, token string, now time.Time) (map[string]string, error) {
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return nil, err
	}
	mc, _ := parsed.Claims.(jwt.MapClaims)
	out := make(map[string]string, len(mc))
	for k, v := range mc {
		out[k] = flatten(v)
	}
	return out, nil
}

func flatten(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = flatten(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case float64:
		return fmt.Sprintf("%.0f", x)
	default:
		return fmt.Sprint(x)
	}
}
