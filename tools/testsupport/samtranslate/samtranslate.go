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
	"os/exec"

	"github.com/lifecycle-api/lifecycle/tools/repo"
)

//go:embed translate.py
var script string

// Translate returns the translated template at path for the given parameter values (a
// CommaDelimitedList's value comma-separated, as in samconfig.toml).
func Translate(path string, params map[string]string) (map[string]any, error) {
	py, err := repo.Path(".tools", "venv", "bin", "python") // make tools installs aws-sam-cli there
	if err != nil {
		return nil, err
	}
	args := []string{"-c", script, path}
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
