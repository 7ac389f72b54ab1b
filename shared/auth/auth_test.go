package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func TestParseRoles(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"blank", "   ", nil},
		{"single", "Admin", []string{"Admin"}},
		{"single padded", "  Admin  ", []string{"Admin"}},
		{"api gateway flattening", "[Admin Dispatcher]", []string{"Admin", "Dispatcher"}},
		{"api gateway flattening, one", "[Admin]", []string{"Admin"}},
		{"json array", `["Admin","Dispatcher"]`, []string{"Admin", "Dispatcher"}},
		{"json array spaced", `[ "Admin" , "Dispatcher" ]`, []string{"Admin", "Dispatcher"}},
		{"json array with duplicates and blanks", `["Admin","","Admin"," Dispatcher "]`, []string{"Admin", "Dispatcher"}},
		{"comma", "Admin,Dispatcher", []string{"Admin", "Dispatcher"}},
		{"comma space", "Admin, Dispatcher", []string{"Admin", "Dispatcher"}},
		{"space", "Admin Dispatcher", []string{"Admin", "Dispatcher"}},
		{"many spaces and commas", " Admin ,, ,  Dispatcher ,", []string{"Admin", "Dispatcher"}},
		{"duplicates", "Admin Admin Dispatcher Admin", []string{"Admin", "Dispatcher"}},
		{"quoted single", `"Admin"`, []string{"Admin"}},
		{"flattened with commas", "[Admin, Dispatcher]", []string{"Admin", "Dispatcher"}},
		{"order preserved", "Dispatcher Admin", []string{"Dispatcher", "Admin"}},
		{"case preserved, not merged", "admin Admin", []string{"admin", "Admin"}},
		{"empty json array", "[]", []string{}},
		{"empty json array spaced", "[ ]", []string{}},
		{"lone open bracket", "[", []string{}},
		{"lone close bracket", "]", []string{"]"}},
		{"json array of numbers", "[1,2]", []string{"1", "2"}},
		{"json object", `{"a":1}`, []string{`{"a":1}`}},
		{"only quotes", `""`, []string{}},
		{"only commas", ",,,", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseRoles(tt.in)
			if len(tt.want) == 0 {
				if len(got) != 0 {
					t.Errorf("ParseRoles(%q) = %q, want empty", tt.in, got)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseRoles(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseRolesNeverPanicsAndReturnsOnlyNonEmpty feeds odd shapes; whatever comes out
// must be non-empty, trimmed, unique strings.
func TestParseRolesNeverPanicsAndReturnsOnlyNonEmpty(t *testing.T) {
	inputs := []string{
		"", " ", "[", "]", "[]", "[[", "]]", "[[]]", "[,]", "[ , ]", `[""]`, `["", " "]`,
		`{"a":1}`, `{}`, `[1,2]`, `[true,null]`, `[null]`, `null`, `[{"a":1}]`, `[["Admin"]]`,
		`"`, `""`, `"""`, `["Admin"`, `"Admin"]`, "\x00", "\t\n", "Admin\tDispatcher",
		"[Admin", "Admin]", `["Admin",]`, `[,"Admin"]`, "ü ñ 日本", strings.Repeat("[", 1000),
		strings.Repeat("a,", 500), `["a\u0000b"]`, `["\"Admin\""]`,
	}
	for _, in := range inputs {
		t.Run(fmt.Sprintf("%.30q", in), func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("ParseRoles(%q) panicked: %v", in, r)
				}
			}()
			got := ParseRoles(in)
			seen := map[string]bool{}
			for _, r := range got {
				if r == "" {
					t.Errorf("ParseRoles(%q) returned an empty role: %q", in, got)
				}
				if strings.TrimSpace(r) != r {
					t.Errorf("ParseRoles(%q) returned untrimmed role %q", in, r)
				}
				if seen[r] {
					t.Errorf("ParseRoles(%q) returned duplicate role %q", in, r)
				}
				seen[r] = true
			}
		})
	}
}

func TestActorFromClaimsUnauthenticated(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]string
	}{
		{"nil map", nil},
		{"empty map", map[string]string{}},
		{"no sub", map[string]string{"roles": "Admin", "cognito:groups": "[Admin]"}},
		{"empty sub", map[string]string{"sub": ""}},
		{"blank sub", map[string]string{"sub": "   "}},
		{"tab newline sub", map[string]string{"sub": "\t\n", "roles": "Admin"}},
		{"Sub with capital S", map[string]string{"Sub": "user-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ActorFromClaims(tt.claims)
			if !errors.Is(err, lifecycle.ErrUnauthenticated) {
				t.Fatalf("err = %v, want ErrUnauthenticated", err)
			}
			if a.Sub != "" || len(a.Roles) != 0 {
				t.Errorf("actor = %+v, want zero", a)
			}
		})
	}
}

func TestActorFromClaims(t *testing.T) {
	tests := []struct {
		name    string
		claims  map[string]string
		wantSub string
		want    []string
	}{
		{"sub only", map[string]string{"sub": "user-1"}, "user-1", nil},
		{"sub trimmed", map[string]string{"sub": "  user-1 \n"}, "user-1", nil},
		{"cognito groups flattened", map[string]string{"sub": "u", "cognito:groups": "[Admin Dispatcher]"}, "u", []string{"Admin", "Dispatcher"}},
		{"roles json", map[string]string{"sub": "u", "roles": `["Dispatcher"]`}, "u", []string{"Dispatcher"}},
		{"merged, groups first", map[string]string{"sub": "u", "cognito:groups": "Admin", "roles": "Dispatcher"}, "u", []string{"Admin", "Dispatcher"}},
		{"merged and de-duplicated", map[string]string{"sub": "u", "cognito:groups": "[Admin Dispatcher]", "roles": `["Dispatcher","Admin","Viewer"]`}, "u", []string{"Admin", "Dispatcher", "Viewer"}},
		{"duplicates within one claim", map[string]string{"sub": "u", "roles": "Admin,Admin, Admin"}, "u", []string{"Admin"}},
		{"garbage roles ignored, no error", map[string]string{"sub": "u", "roles": "[", "cognito:groups": "[]"}, "u", nil},
		{"other claims ignored", map[string]string{"sub": "u", "groups": "Admin", "scope": "Admin"}, "u", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ActorFromClaims(tt.claims)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if a.Sub != tt.wantSub {
				t.Errorf("Sub = %q, want %q", a.Sub, tt.wantSub)
			}
			if len(tt.want) == 0 {
				if len(a.Roles) != 0 {
					t.Errorf("Roles = %q, want none", a.Roles)
				}
				return
			}
			if !slices.Equal(a.Roles, tt.want) {
				t.Errorf("Roles = %q, want %q", a.Roles, tt.want)
			}
		})
	}
}

func TestActorFromClaimsRoleConstants(t *testing.T) {
	a, err := ActorFromClaims(map[string]string{"sub": "u", "cognito:groups": "[Admin Dispatcher]"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasAnyRole("Admin") || !a.HasAnyRole("Dispatcher") {
		t.Errorf("actor %+v lacks Admin/Dispatcher", a)
	}
}

func roleNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

func TestActorFromClaimsRoleCap(t *testing.T) {
	t.Run("one claim over the cap", func(t *testing.T) {
		all := roleNames("r", 100)
		a, err := ActorFromClaims(map[string]string{"sub": "u", "roles": strings.Join(all, ",")})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Roles) != 64 {
			t.Fatalf("len(Roles) = %d, want 64", len(a.Roles))
		}
		if !slices.Equal(a.Roles, all[:64]) {
			t.Errorf("Roles should be the first 64 in order, got %q...", a.Roles[:3])
		}
	})
	t.Run("exactly the cap", func(t *testing.T) {
		all := roleNames("r", 64)
		a, err := ActorFromClaims(map[string]string{"sub": "u", "roles": "[" + strings.Join(all, " ") + "]"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Roles, all) {
			t.Errorf("len(Roles) = %d, want all 64", len(a.Roles))
		}
	})
	t.Run("two claims together over the cap", func(t *testing.T) {
		groups := roleNames("g", 40)
		roles := roleNames("r", 40)
		a, err := ActorFromClaims(map[string]string{
			"sub":            "u",
			"cognito:groups": strings.Join(groups, " "),
			"roles":          strings.Join(roles, " "),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Roles) != 64 {
			t.Fatalf("len(Roles) = %d, want 64", len(a.Roles))
		}
		want := append(slices.Clone(groups), roles[:24]...)
		if !slices.Equal(a.Roles, want) {
			t.Errorf("Roles = %q, want groups then the first 24 roles", a.Roles)
		}
	})
	t.Run("duplicates do not count toward the cap", func(t *testing.T) {
		all := roleNames("r", 64)
		dup := make([]string, 0, 200)
		for range 3 {
			dup = append(dup, all[:10]...)
		}
		dup = append(dup, all...)
		a, err := ActorFromClaims(map[string]string{"sub": "u", "cognito:groups": strings.Join(dup, ","), "roles": strings.Join(all, ",")})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Roles) != 64 {
			t.Fatalf("len(Roles) = %d, want 64", len(a.Roles))
		}
		slices.Sort(a.Roles)
		if !slices.Equal(a.Roles, all) {
			t.Errorf("Roles = %q, want the 64 distinct roles", a.Roles)
		}
	})
	t.Run("huge claim", func(t *testing.T) {
		all := roleNames("x", 5000)
		a, err := ActorFromClaims(map[string]string{"sub": "u", "roles": strings.Join(all, " ")})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Roles) != 64 {
			t.Errorf("len(Roles) = %d, want 64", len(a.Roles))
		}
	})
}
