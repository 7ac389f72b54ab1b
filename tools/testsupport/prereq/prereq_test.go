package prereq

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a test ended instead of ending it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func missing() error { return errors.New("moto is not installed at x") }
func present() error { return nil }

func TestNeedSkipsOnALaptopAndFailsUnderMakeTest(t *testing.T) {
	for _, tc := range []struct {
		name, require, ci string
		wantFail          bool
	}{
		{"laptop", "", "", false},
		{"make test", "1", "", true},
		{"CI", "", "true", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(RequireEnv, tc.require)
			t.Setenv("CI", tc.ci)
			r := &recorder{}
			Need(r, present, missing)
			if tc.wantFail != (r.failed != "") || tc.wantFail == (r.skipped != "") {
				t.Fatalf("skipped %q, failed %q; want failed=%v", r.skipped, r.failed, tc.wantFail)
			}
			msg := r.skipped + r.failed
			for _, want := range []string{"moto is not installed", "make test"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not say %q", msg, want)
				}
			}
			code, ok := Main("pkg", missing)
			if ok || (code == 1) != tc.wantFail {
				t.Errorf("Main = %d, %v; want exit 1 only when required", code, ok)
			}
		})
	}
}

func TestNeedPassesWhenAllIsPresent(t *testing.T) {
	t.Setenv(RequireEnv, "1")
	r := &recorder{}
	Need(r, present)
	if r.skipped != "" || r.failed != "" {
		t.Fatalf("skipped %q, failed %q with nothing missing", r.skipped, r.failed)
	}
	if code, ok := Main("pkg", present); !ok || code != 0 {
		t.Fatalf("Main = %d, %v with nothing missing", code, ok)
	}
}
