package preflight

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/lifecycle-api/lifecycle/tools/deploy/samconfig"
)

// IsPlaceholder reports whether v is a value left to be replaced: it says PLACEHOLDER (in
// any case), or one of its comma-separated items is a URL, an e-mail address or a host
// under a domain RFC 2606 reserves for examples (example.com, example.org, example.net),
// which no real frontend, issuer or mailbox has.
func IsPlaceholder(v string) bool {
	return strings.Contains(strings.ToUpper(v), "PLACEHOLDER") || slices.ContainsFunc(strings.Split(v, ","),
		func(item string) bool { return exampleDomain(hostOf(strings.TrimSpace(item))) })
}

// hostOf returns the host of a URL, the domain of an e-mail address, or item itself.
func hostOf(item string) string {
	if strings.Contains(item, "://") {
		u, err := url.Parse(item)
		if err != nil {
			return ""
		}
		return u.Hostname()
	}
	if i := strings.LastIndex(item, "@"); i >= 0 {
		return item[i+1:]
	}
	return item
}

// exampleDomain reports whether host is example.com, example.org or example.net, or under one.
func exampleDomain(host string) bool {
	labels := strings.Split(strings.TrimSuffix(strings.ToLower(host), "."), ".")
	n := len(labels)
	return n >= 2 && labels[n-2] == "example" && slices.Contains([]string{"com", "org", "net"}, labels[n-1])
}

// Placeholders returns, in order, the parameters of env whose values are placeholders, and
// "region" when its region is one.
func Placeholders(env samconfig.Environment) []string {
	var out []string
	for name, v := range env.Params {
		if IsPlaceholder(v) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	if IsPlaceholder(env.Region) {
		out = append(out, "region")
	}
	return out
}

// CheckPlaceholders fails once for each placeholder Placeholders finds in env.
func CheckPlaceholders(env samconfig.Environment) []Result {
	names := Placeholders(env)
	if len(names) == 0 {
		return []Result{{Check: "placeholder", Status: OK, Message: fmt.Sprintf("[%s]: no placeholder in its parameter_overrides or region", env.Name)}}
	}
	out := make([]Result, 0, len(names))
	for _, name := range names {
		value, section := env.Params[name], "deploy"
		if name == "region" {
			value, section = env.Region, "global"
		}
		out = append(out, fail("placeholder", fmt.Sprintf("[%s] %s=%s is a placeholder", env.Name, name, value),
			fmt.Sprintf("in samconfig.toml [%s.%s.parameters], set %s to %s; docs/operations.md, First deploy, says where it comes from",
				env.Name, section, name, cmp.Or(realValues[name], "the environment's own value"))))
	}
	return out
}

// realValues say what a placeholder's parameter should hold instead.
var realValues = map[string]string{
	"JwtIssuer":          "the environment's issuer, exactly as its tokens' iss claim has it (Cognito: https://cognito-idp.<region>.amazonaws.com/<user pool id>)",
	"JwtAudience":        "the audiences the API accepts (Cognito: the environment's app client ids, comma-separated)",
	"CorsAllowedOrigins": "the origins of the frontends that call the API, comma-separated",
	"AlarmEmail":         "the address the alarms go to (empty subscribes none)",
	"region":             "the region to deploy to",
}
