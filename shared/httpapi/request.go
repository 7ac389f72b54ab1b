package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lifecycle-api/lifecycle/shared/auth"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// actorFrom reads the caller from the JWT claims API Gateway's authorizer put in the
// request context, roles from the function's roles claim. No claims, or no subject, is
// lifecycle.ErrUnauthenticated.
func actorFrom(r *http.Request) (lifecycle.Actor, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return lifecycle.Actor{}, lifecycle.ErrUnauthenticated
	}
	return auth.ActorFromClaims(rc.Authorizer.JWT.Claims, scopeOf(r).settings.RolesClaim)
}

// reasonAttr is how a cancellation's reason is logged: in full, or, when the function's
// settings say so, only its length in characters (the text stays on the item and event).
func reasonAttr(r *http.Request, reason string) slog.Attr {
	if scopeOf(r).settings.LogReasons {
		return slog.String("reason", reason)
	}
	return slog.Int("reasonLength", utf8.RuneCountInString(reason))
}

// parseID validates a path id (see lifecycle.ParseID) and returns its stored form.
func parseID(name, s string) (string, error) {
	id, ok := lifecycle.ParseID(s)
	if !ok {
		return "", invalid(name + " must be a UUID")
	}
	return id, nil
}

// parseTimestamp reads a timestamp of a query or body: RFC 3339 with its zone (RFC 3339
// allows a lower-case t and z, which Go's parser does not), between the years 2000 and
// 9999, kept as the API keeps times: UTC, to the millisecond.
func parseTimestamp(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	if err != nil || t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Millisecond), true
}
