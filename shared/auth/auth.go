// Package auth turns verified JWT claims into a lifecycle.Actor. The token itself is
// verified before we see it (by the HTTP API's JWT authorizer in AWS, by the local gateway
// with a dev key locally); this package only reads the claims, in the shape the authorizer
// delivers them. It has no AWS imports.
package auth

import (
	"slices"
	"strings"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// DefaultRolesClaim is the claim the caller's roles come from unless the template's
// RolesClaim parameter names another: Cognito puts a user's groups there.
const DefaultRolesClaim = "cognito:groups"

// maxRoles bounds how many roles we accept from one claim.
const maxRoles = 64

// ActorFromClaims reads the caller from API Gateway's claims map. The subject is "sub",
// exactly as issued (never trimmed or rewritten: it is what ownership compares); roles
// come from rolesClaim alone. A missing or empty subject is lifecycle.ErrUnauthenticated.
// A roles claim in a shape we cannot read gives no roles, never an error: a malformed
// claim must not become a 500.
func ActorFromClaims(claims map[string]string, rolesClaim string) (lifecycle.Actor, error) {
	sub := claims["sub"]
	if sub == "" {
		return lifecycle.Actor{}, lifecycle.ErrUnauthenticated
	}
	return lifecycle.Actor{Sub: sub, Roles: ParseRoles(claims[rolesClaim]), Scopes: ParseScopes(claims)}, nil
}

// ParseScopes reads the scopes a token grants, where API Gateway's JWT authorizer looks for
// them: "scope", a space-separated string (OAuth 2.0; Cognito's access tokens), and "scp",
// a list (delivered as ParseRoles reads it) or a string of one scope. Duplicates are
// dropped; at most 64 are read.
func ParseScopes(claims map[string]string) []string {
	var scopes []string
	add := func(s string) {
		if s != "" && !slices.Contains(scopes, s) && len(scopes) < maxRoles {
			scopes = append(scopes, s)
		}
	}
	for _, s := range strings.Fields(claims["scope"]) {
		add(s)
	}
	for _, s := range ParseRoles(claims["scp"]) {
		add(s)
	}
	return scopes
}

// ParseRoles reads a roles claim as the HTTP API's JWT authorizer delivers it. Every claim
// reaches a function as one string: an array claim is flattened to its elements joined by
// single spaces inside brackets ("[Admin Dispatcher]", "[Admin]", "[]"), so a role name
// can never contain a space; any other claim is its plain value ("Admin"), which is one
// role. Nothing else is split: a comma is part of a role's name. Duplicates are dropped,
// order is kept, and at most 64 roles are read.
func ParseRoles(v string) []string {
	if v == "" {
		return nil
	}
	inner, ok := strings.CutPrefix(v, "[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "]")
	}
	if !ok {
		return []string{v}
	}
	var roles []string
	for _, r := range strings.Split(inner, " ") {
		if r != "" && !slices.Contains(roles, r) && len(roles) < maxRoles {
			roles = append(roles, r)
		}
	}
	return roles
}
