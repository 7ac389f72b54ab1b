package samconfig_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/tools/deploy/samconfig"
)

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "samconfig.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoad: an environment is its global and deploy parameters merged, its overrides split
// into names and values; environments that deploy nothing ([default]) are left out.
func TestLoad(t *testing.T) {
	envs, err := samconfig.Load(write(t, `version = 0.1
[default.build.parameters]
cached = true
[b.global.parameters]
stack_name = "stack-b"
region = "eu-central-1"
[b.deploy.parameters]
capabilities = "CAPABILITY_IAM"
tags = "project=x"
parameter_overrides = """\
  Stage=dev \
  CorsAllowedOrigins=https://a.test,http://localhost:5173 \
  AlarmEmail= \
  """
[a.deploy.parameters]
stack_name = "stack-a"
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 2 || envs[0].Name != "a" || envs[1].Name != "b" {
		t.Fatalf("environments %+v, want a and b in order", envs)
	}
	b := envs[1]
	if b.Stack != "stack-b" || b.Region != "eu-central-1" || b.Capabilities != "CAPABILITY_IAM" || b.Tags != "project=x" {
		t.Errorf("b = %+v", b)
	}
	want := map[string]string{"Stage": "dev", "CorsAllowedOrigins": "https://a.test,http://localhost:5173", "AlarmEmail": ""}
	if !maps.Equal(b.Params, want) {
		t.Errorf("b's parameters %v, want %v", b.Params, want)
	}
	if _, err := samconfig.Find(envs, "b"); err != nil {
		t.Error(err)
	}
	if _, err := samconfig.Find(envs, "staging"); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Errorf("Find of a missing environment: %v, want an error naming those there are", err)
	}
}

func TestLoadRefusesWhatADeployCannotUse(t *testing.T) {
	for name, text := range map[string]string{
		"no stack name":  "[x.deploy.parameters]\nregion = \"eu-west-1\"\n",
		"not Name=Value": "[x.deploy.parameters]\nstack_name = \"s\"\nparameter_overrides = \"Stage=dev oops\"\n",
	} {
		if _, err := samconfig.Load(write(t, text)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// TestTheCommittedEnvironments: the repository's samconfig.toml deploys dev and prod.
func TestTheCommittedEnvironments(t *testing.T) {
	envs, err := samconfig.LoadRepo()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dev", "prod"} {
		env, err := samconfig.Find(envs, name)
		if err != nil {
			t.Fatal(err)
		}
		if env.Stack != "lifecycle-"+name || env.Params["Stage"] != name {
			t.Errorf("[%s]: stack %s, Stage %s", name, env.Stack, env.Params["Stage"])
		}
	}
}
