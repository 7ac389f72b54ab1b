// Package prereq decides what a test does when something it needs and `make test` provides
// is missing: moto (DynamoDB, EventBridge, SQS), the SAM CLI, a Docker engine, chromium with
// playwright-core, the built console, the functions' bootstraps. On a laptop, a plain `go test ./...` skips such a test with one
// line naming what is missing and `make test` as the way to get it (the pattern pkgsite's
// tests follow). Under `make test`, or wherever CI is set, a missing prerequisite fails
// the test: CI must never pass by skipping.
package prereq

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/lifecycle-api/lifecycle/tools/local/motoserver"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// RequireEnv, set to anything (the Makefile's test target sets it), makes missing
// prerequisites fail; so does CI.
const RequireEnv = "LIFECYCLE_REQUIRE_TOOLS"

// Required reports whether a missing prerequisite is a failure rather than a skip.
func Required() bool { return os.Getenv(RequireEnv) != "" || os.Getenv("CI") != "" }

// A Check returns nil when its prerequisite is present, else an error that says what is
// missing.
type Check func() error

// Missing runs checks and joins what they report (errors.Join drops the nils).
func Missing(checks ...Check) error {
	errs := make([]error, len(checks))
	for i, c := range checks {
		errs[i] = c()
	}
	return errors.Join(errs...)
}

// Need skips or fails tb when a check reports something missing.
func Need(tb testing.TB, checks ...Check) {
	tb.Helper()
	err := Missing(checks...)
	if err == nil {
		return
	}
	if Required() {
		tb.Fatalf("missing prerequisite (make test installs it): %v", err)
		return
	}
	tb.Skipf("skipped: %v; `make test` (or `make tools`) installs it", err)
}

// Main is Need for a TestMain: with something missing it prints why and returns the exit
// code (0, skipped, on a laptop; 1 under make test or CI); ok is false then and the caller
// must not run the tests.
func Main(pkg string, checks ...Check) (code int, ok bool) {
	err := Missing(checks...)
	if err == nil {
		return 0, true
	}
	if Required() {
		fmt.Fprintf(os.Stderr, "%s: missing prerequisite (make test installs it): %v\n", pkg, err)
		return 1, false
	}
	fmt.Fprintf(os.Stderr, "%s: skipped: %v; `make test` (or `make tools`) installs it\n", pkg, err)
	return 0, false
}

// Moto is moto's server (DynamoDB and its streams, EventBridge, SQS), in the tools venv.
func Moto() error {
	python, err := motoserver.Python()
	if err != nil {
		return err
	}
	if _, err := os.Stat(python); err != nil {
		return fmt.Errorf("moto's Python (the tools venv) is not at %s", python)
	}
	return inRepo("moto (pip, in the tools venv)", ".tools", "venv", ".installed")
}

// Schemathesis is the outside API fuzzer, from the tools venv.
func Schemathesis() error {
	return inRepo("schemathesis (pip, in the tools venv)", ".tools", "venv", "bin", "schemathesis")
}

// SAMCLI is the SAM CLI, from the tools venv.
func SAMCLI() error {
	return inRepo("the SAM CLI (make tools)", ".tools", "venv", "bin", "sam")
}

// BrowserPath is the browser the browser tests drive: $CHROME_PATH, else $CHROMIUM (the
// Makefile's), else the first of the usual places on Linux and macOS that exists ("" when
// none does).
func BrowserPath() string {
	if p := cmp.Or(os.Getenv("CHROME_PATH"), os.Getenv("CHROMIUM")); p != "" {
		return p
	}
	for _, p := range []string{
		"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
		"/Applications/Chromium.app/Contents/MacOS/Chromium",
		"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Browser is a Chrome or Chromium (BrowserPath) and playwright-core in web/node_modules,
// which drives it.
func Browser() error {
	p := BrowserPath()
	if p == "" {
		return errors.New("no Chrome or Chromium (set CHROME_PATH to one's executable)")
	}
	if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("no browser at %s", p)
	}
	return inRepo("playwright-core (npm)", "web", "node_modules", "playwright-core", "package.json")
}

// Console is the built web console (make console), which the local server embeds.
func Console() error {
	return inRepo("the built console (make console)", "tools", "local", "console", "dist", "index.html")
}

// Bootstraps is every function's amd64 bootstrap, as `make build` leaves them in bin/.
func Bootstraps() error {
	root, err := repo.Root()
	if err != nil {
		return err
	}
	fns, err := repo.Functions()
	if err != nil {
		return err
	}
	for _, fn := range fns {
		if _, err := os.Stat(filepath.Join(root, "bin", "amd64", fn, "bootstrap")); err != nil {
			return fmt.Errorf("the functions' bootstraps are not built (make build), bin/amd64/%s/bootstrap is missing", fn)
		}
	}
	return nil
}

func inRepo(what string, elem ...string) error {
	p, err := repo.Path(elem...)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("%s is missing", what)
	}
	return nil
}

// Venv is the Python tools venv (aws-sam-cli with aws-sam-translator, cfn-lint with the
// serverless rules), as `make tools` installs it.
func Venv() error {
	return inRepo("the Python tools venv (make tools)", ".tools", "venv", ".installed")
}

// Checkov is checkov in its own venv (its pins conflict with aws-sam-cli's), as `make
// tools` installs it.
func Checkov() error {
	return inRepo("checkov (make tools)", ".tools", "checkov", ".installed")
}
