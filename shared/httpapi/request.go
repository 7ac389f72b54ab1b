package httpapi

import (
	"net/http"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lifecycle-api/lifecycle/shared/auth"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// actorFrom reads the caller from the JWT claims API Gateway's authorizer put in the
// request context. No claims, or no subject, is lifecycle.ErrUnauthenticated.
func actorFrom(r *http.Request) (lifecycle.Actor, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return lifecycle.Actor{}, lifecycle.ErrUnauthenticated
	}
	return auth.ActorFromClaims(rc.Authorizer.JWT.Claims)
}

// parseID validates a path id: a UUID in its canonical 8-4-4-4-12 form, any case. It
// returns the lower-case form, which is how ids are stored.
func parseID(name, s string) (string, error) {
	if len(s) != 36 {
		return "", invalid(name + " must be a UUID")
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", invalid(name + " must be a UUID")
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return "", invalid(name + " must be a UUID")
			}
		}
	}
	return strings.ToLower(s), nil
}
