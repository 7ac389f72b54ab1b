// Package samconfig reads samconfig.toml, the SAM CLI's configuration: the environments
// `sam deploy --config-env <name>` deploys, each with its stack, region and parameters.
// tests/template checks every environment with it, and `make preflight` the one it is given.
package samconfig

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// Environment is one deployable environment of samconfig.toml: what `sam deploy
// --config-env <Name>` is given ([<Name>.global.parameters] and [<Name>.deploy.parameters]).
type Environment struct {
	Name, Stack, Region, Capabilities, Tags string
	// Params are parameter_overrides by parameter name.
	Params map[string]string
}

// Load reads the environments of the samconfig.toml at path that deploy (those with a
// stack name), ordered by name. An environment with deploy parameters but no stack name,
// or a parameter override that is not Name=Value, is an error.
func Load(path string) ([]Environment, error) {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return nil, err
	}
	var out []Environment
	var problems []string
	for name, v := range raw {
		cmds, ok := v.(map[string]any) // not the top-level version
		if !ok {
			continue
		}
		merged := map[string]any{}
		for _, cmd := range []string{"global", "deploy"} {
			c, _ := cmds[cmd].(map[string]any)
			ps, _ := c["parameters"].(map[string]any)
			maps.Copy(merged, ps)
		}
		str := func(k string) string { s, _ := merged[k].(string); return s }
		if str("stack_name") == "" {
			if cmds["deploy"] != nil {
				problems = append(problems, fmt.Sprintf("[%s] has deploy parameters but no stack_name", name))
			}
			continue
		}
		env := Environment{Name: name, Stack: str("stack_name"), Region: str("region"), Capabilities: str("capabilities"), Tags: str("tags"), Params: map[string]string{}}
		for _, kv := range strings.Fields(str("parameter_overrides")) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				problems = append(problems, fmt.Sprintf("[%s] parameter_overrides: %q is not Name=Value", name, kv))
			}
			env.Params[k] = v
		}
		out = append(out, env)
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fmt.Errorf("%s: %s", path, strings.Join(problems, "; "))
	}
	slices.SortFunc(out, func(a, b Environment) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// LoadRepo is Load of the repository's own samconfig.toml.
func LoadRepo() ([]Environment, error) {
	p, err := repo.Path("samconfig.toml")
	if err != nil {
		return nil, err
	}
	return Load(p)
}

// Find returns the environment called name.
func Find(envs []Environment, name string) (Environment, error) {
	var names []string
	for _, e := range envs {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return Environment{}, fmt.Errorf("samconfig.toml has no environment %q that deploys (it has %s)", name, strings.Join(names, ", "))
}
