package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// The claim values below are the exact strings the HTTP API's JWT authorizer puts in
// requestContext.authorizer.jwt.claims: an array claim flattened to "[a b]", any other
// claim as its plain value.
func TestParseRoles(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"absent", "", nil},
		{"array of two, as API Gateway flattens it", "[Admin Dispatcher]", []string{"Admin", "Dispatcher"}},
		{"array of one", "[Admin]", []string{"Admin"}},
		{"empty array", "[]", nil},
		{"single plain value", "Admin", []string{"Admin"}},
		{"order kept", "[Dispatcher Admin]", []string{"Dispatcher", "Admin"}},
		{"case kept, not merged", "[admin Admin]", []string{"admin", "Admin"}},
		{"duplicates dropped", "[Admin Admin Dispatcher Admin]", []string{"Admin", "Dispatcher"}},
		// No splitting of one element on commas: a comma belongs to the role's name.
		{"comma inside a plain value is one role", "Admin,Dispatcher", []string{"Admin,Dispatcher"}},
		{"comma inside an element is part of it", "[Admin,Dispatcher Viewer]", []string{"Admin,Dispatcher", "Viewer"}},
		// A plain value with a space is one (unmatchable) role, not two.
		{"space in a plain value is one role", "Admin Dispatcher", []string{"Admin Dispatcher"}},
		// A JSON array in a string claim is not a shape the authorizer produces for an
		// array; it reads as one element and matches no role.
		{"JSON text is not parsed", `["Admin","Dispatcher"]`, []string{`"Admin","Dispatcher"`}},
		{"padding is kept: no such role", " Admin ", []string{" Admin "}},
		{"lone open bracket is a plain value", "[", []string{"["}},
		{"lone close bracket is a plain value", "]", []string{"]"}},
		{"number claim", "42", []string{"42"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseRoles(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("ParseRoles(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRolesCapsAt64(t *testing.T) {
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("r%03d", i)
	}
	got := ParseRoles("[" + strings.Join(names, " ") + "]")
	if !slices.Equal(got, names[:64]) {
		t.Errorf("got %d roles, want the first 64 in order", len(got))
	}
}

// TestParseRolesNeverPanics feeds odd shapes; whatever comes out is non-empty and unique.
func TestParseRolesNeverPanics(t *testing.T) {
	for _, in := range []string{"[", "]", "[[", "]]", "[[]]", "[ ]", "[  ]", "[ a  b ]", "\x00", strings.Repeat("[", 1000), "[" + strings.Repeat(" ", 1000) + "]"} {
		seen := map[string]bool{}
		for _, r := range ParseRoles(in) {
			if r == "" || seen[r] {
				t.Errorf("ParseRoles(%q) returned an empty or repeated role %q", in, r)
			}
			seen[r] = true
		}
	}
}

func TestActorFromClaims(t *testing.T) {
	tests := []struct {
		name       string
		claims     map[string]string
		rolesClaim string
		wantSub    string
		want       []string
	}{
		{"sub only", map[string]string{"sub": "user-1"}, DefaultRolesClaim, "user-1", nil},
		{"Cognito groups", map[string]string{"sub": "u", "cognito:groups": "[Admin Dispatcher]"}, DefaultRolesClaim, "u", []string{"Admin", "Dispatcher"}},
		{"one group", map[string]string{"sub": "u", "cognito:groups": "[Dispatcher]"}, DefaultRolesClaim, "u", []string{"Dispatcher"}},
		{"another claim named by the parameter", map[string]string{"sub": "u", "roles": "[Dispatcher]"}, "roles", "u", []string{"Dispatcher"}},
		{"a plain-valued custom claim", map[string]string{"sub": "u", "custom:role": "Admin"}, "custom:role", "u", []string{"Admin"}},
		// Only the named claim counts: no merging of a second one.
		{"a claim the parameter does not name is ignored", map[string]string{"sub": "u", "roles": "[Admin]"}, DefaultRolesClaim, "u", nil},
		{"cognito:groups ignored when another is named", map[string]string{"sub": "u", "cognito:groups": "[Admin]", "roles": "[Viewer]"}, "roles", "u", []string{"Viewer"}},
		// sub exactly as issued.
		{"sub not trimmed", map[string]string{"sub": " user-1 "}, DefaultRolesClaim, " user-1 ", nil},
		{"sub kept byte for byte", map[string]string{"sub": "7f3c-ÄÖ|x"}, DefaultRolesClaim, "7f3c-ÄÖ|x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ActorFromClaims(tt.claims, tt.rolesClaim)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if a.Sub != tt.wantSub || !slices.Equal(a.Roles, tt.want) {
				t.Errorf("actor = %q %q, want %q %q", a.Sub, a.Roles, tt.wantSub, tt.want)
			}
		})
	}
}

func TestActorFromClaimsUnauthenticated(t *testing.T) {
	for name, claims := range map[string]map[string]string{
		"nil map":            nil,
		"empty map":          {},
		"no sub":             {"cognito:groups": "[Admin]"},
		"empty sub":          {"sub": ""},
		"Sub with capital S": {"Sub": "user-1"},
	} {
		t.Run(name, func(t *testing.T) {
			a, err := ActorFromClaims(claims, DefaultRolesClaim)
			if !errors.Is(err, lifecycle.ErrUnauthenticated) {
				t.Fatalf("err = %v, want ErrUnauthenticated", err)
			}
			if a.Sub != "" || len(a.Roles) != 0 {
				t.Errorf("actor = %+v, want zero", a)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	cases := []struct {
		name   string
		claims map[string]string
		want   []string
	}{
		{"none", map[string]string{"sub": "u"}, nil},
		{"Cognito's scope string", map[string]string{"scope": "lifecycle/interviews.progress openid"}, []string{"lifecycle/interviews.progress", "openid"}},
		{"extra spaces", map[string]string{"scope": "  a   b "}, []string{"a", "b"}},
		{"an scp list as the authorizer flattens it", map[string]string{"scp": "[a b]"}, []string{"a", "b"}},
		{"an scp string", map[string]string{"scp": "a"}, []string{"a"}},
		{"both, duplicates dropped", map[string]string{"scope": "a b", "scp": "[b c]"}, []string{"a", "b", "c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ParseScopes(c.claims); !slices.Equal(got, c.want) {
				t.Errorf("ParseScopes(%v) = %q, want %q", c.claims, got, c.want)
			}
		})
	}
	a, err := ActorFromClaims(map[string]string{"sub": "client-1", "scope": "lifecycle/interviews.progress"}, DefaultRolesClaim)
	if err != nil || a.Sub != "client-1" || !a.HasScope("lifecycle/interviews.progress") || a.HasScope("") || len(a.Roles) != 0 {
		t.Errorf("a service's actor = %+v, %v", a, err)
	}
}
