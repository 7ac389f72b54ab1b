// Command preflight is `make preflight ENV=<env>`: with the credentials of the account to
// deploy to (the SDK's default chain: environment, profile, SSO), what a first `sam deploy
// --config-env <env>` would trip on, checked before it runs (tools/deploy/preflight). Each
// check prints one line, ok, warn, info or FAIL, a failure with its fix; any failure exits 1.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/lifecycle-api/lifecycle/tools/deploy/preflight"
	"github.com/lifecycle-api/lifecycle/tools/deploy/samconfig"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

func main() {
	fs := flag.NewFlagSet("preflight", flag.ExitOnError)
	env := fs.String("env", "", "the samconfig.toml environment to check (dev, prod)")
	_ = fs.Parse(os.Args[1:])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	failed, err := run(ctx, *env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "preflight:", err)
		os.Exit(2)
	}
	if failed {
		fmt.Println("preflight: the deploy would fail; fix what FAIL says, then run it again")
		os.Exit(1)
	}
}

// run reads samconfig.toml and template.yaml, runs the checks for environment name and
// prints them; failed is true when any check failed.
func run(ctx context.Context, name string) (failed bool, err error) {
	if name == "" {
		return false, fmt.Errorf("-env is required (make preflight ENV=dev)")
	}
	envs, err := samconfig.LoadRepo()
	if err != nil {
		return false, err
	}
	env, err := samconfig.Find(envs, name)
	if err != nil {
		return false, err
	}
	path, err := repo.Path("template.yaml")
	if err != nil {
		return false, err
	}
	t, err := preflight.ReadTemplate(path)
	if err != nil {
		return false, err
	}
	region := cmp.Or(os.Getenv("AWS_REGION"), env.Region)
	if region == "" {
		return false, fmt.Errorf("samconfig.toml [%s] names no region, and AWS_REGION is not set", name)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return false, fmt.Errorf("AWS configuration: %w", err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		// What needs no account is worth knowing first: the values left to replace.
		fmt.Printf("preflight of [%s]: stack %s in %s, without an account (its checks need credentials)\n", name, env.Stack, region)
		if err := preflight.Write(os.Stdout, preflight.CheckPlaceholders(env)); err != nil {
			return false, err
		}
		return false, fmt.Errorf("no credentials of the account to check (the SDK's default chain: environment, profile, SSO): %w\n"+
			"  fix: AWS_PROFILE=<profile> make preflight ENV=%s (after aws sso login, for an SSO profile), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", err, name)
	}
	fmt.Printf("preflight of [%s]: stack %s in %s\n", name, env.Stack, region)
	clients := preflight.NewClients(cfg, &http.Client{Timeout: 10 * time.Second})
	results := preflight.Run(ctx, preflight.Config{Env: env, Region: region, Template: t}, clients)
	if err := preflight.Write(os.Stdout, results); err != nil {
		return false, err
	}
	return preflight.Failed(results), nil
}
