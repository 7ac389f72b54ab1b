// Package repo finds the repository the developer commands and tests run in, so that
// they can reach template.yaml, the fetched tools in .tools/ and the local state in
// .local/ from any working directory inside it.
package repo

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
)

// Root walks up from the working directory to the folder holding go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path is Root joined with elem.
func Path(elem ...string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{root}, elem...)...), nil
}

// Functions are the Lambda functions, by name: the folders of functions/ that hold a
// main.go, sorted. It is the one list the tools take them from (make bench, make
// reliability, the bootstrap checks), as the Makefile's FUNCTIONS takes functions/.
func Functions() ([]string, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		return nil, err
	}
	if len(mains) == 0 {
		return nil, errors.New("no functions/<name>/main.go under " + root)
	}
	names := make([]string, len(mains))
	for i, m := range mains {
		names[i] = filepath.Base(filepath.Dir(m))
	}
	return names, nil
}

// Unaccounted compares a tool's per-function lines (what it does with each function) with
// Functions: the functions without a line, and the lines naming no function.
func Unaccounted(lines map[string]string) (missing, unknown []string, err error) {
	fns, err := Functions()
	if err != nil {
		return nil, nil, err
	}
	for _, fn := range fns {
		if lines[fn] == "" {
			missing = append(missing, fn)
		}
	}
	for fn := range lines {
		if !slices.Contains(fns, fn) {
			unknown = append(unknown, fn)
		}
	}
	slices.Sort(unknown)
	return missing, unknown, nil
}
