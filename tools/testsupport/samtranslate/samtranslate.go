// Package samtranslate translates template.yaml into the CloudFormation template `sam
// deploy` submits, with SAM's own translator (aws-sam-translator, in the tools venv), so
// tests can check what SAM adds: generated roles and their managed policies, aliases,
// deployment groups, permissions.
package samtranslate

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/lifecycle-api/lifecycle/tools/repo"
)

//go:embed translate.py
var script []byte

// Python is the tools venv's interpreter (make tools installs it with aws-sam-cli).
func Python() (string, error) {
	return repo.Path(".tools", "venv", "bin", "python")
}

// Translate returns the translated template at path for the given parameter values (a
// CommaDelimitedList's value comma-separated, as in samconfig.toml).
func Translate(path string, params map[string]string) (map[string]any, error) {
	py, err := Python()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "samtranslate")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	prog := filepath.Join(dir, "translate.py")
	if err := os.WriteFile(prog, script, 0o600); err != nil {
		return nil, err
	}
	args := []string{prog, path}
	for k, v := range params {
		args = append(args, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(py, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("translate %s: %v\n%s", path, err, stderr.String())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("translate %s: %w", path, err)
	}
	return out, nil
}
