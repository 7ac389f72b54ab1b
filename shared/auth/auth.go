// Package auth turns verified JWT claims into a lifecycle.Actor. The token itself is
// verified before we see it (by the HTTP API's JWT authorizer in AWS, by the dev server
// locally); this package only reads the claims. It has no AWS imports.
package auth

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// maxRoles bounds how many roles we accept from one claim.
const maxRoles = 64

// ActorFromClaims reads the caller from API Gateway's flattened claims map. The subject
// comes from "sub"; roles from "cognito:groups" and "roles". A missing subject is
// lifecycle.ErrUnauthenticated. Roles in a shape we cannot read are ignored (the caller
// then simply has no roles), never an error: a malformed claim must not become a 500.
func ActorFromClaims(claims map[string]string) (lifecycle.Actor, error) {
	sub := strings.TrimSpace(claims["sub"])
	if sub == "" {
		return lifecycle.Actor{}, lifecycle.ErrUnauthenticated
	}
	var roles []string
	for _, key := range []string{"cognito:groups", "roles"} {
		for _, r := range ParseRoles(claims[key]) {
			if len(roles) < maxRoles && !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	return lifecycle.Actor{Sub: sub, Roles: roles}, nil
}

// ParseRoles reads a role claim in any of the shapes it arrives in: API Gateway's
// flattening of a JSON array ("[Admin Dispatcher]"), a JSON array string
// (`["Admin","Dispatcher"]`), a comma- or space-separated list, or a single role.
func ParseRoles(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if strings.HasPrefix(v, "[") {
		var arr []string
		if err := json.Unmarshal([]byte(v), &arr); err == nil {
			return clean(arr)
		}
		v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	}
	return clean(strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }))
}

func clean(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.Trim(strings.TrimSpace(s), `"`)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
