package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// DiscoveryPath is where an OpenID Connect issuer publishes its configuration, under its URL.
const DiscoveryPath = "/.well-known/openid-configuration"

// CheckIssuer fetches issuer's discovery document with hc: the HTTP API's JWT authorizer
// reads it (and the keys at its jwks_uri) to verify tokens, and a document that is missing
// or names another issuer fails every request, or the deploy. A placeholder issuer is not
// fetched (CheckPlaceholders reports it).
func CheckIssuer(ctx context.Context, hc *http.Client, issuer string) Result {
	const check = "issuer"
	switch {
	case issuer == "":
		return fail(check, "the environment sets no JwtIssuer", "set JwtIssuer in samconfig.toml's parameter_overrides (docs/operations.md, First deploy)")
	case IsPlaceholder(issuer):
		return Result{Check: check, Status: Info, Message: "not fetched: JwtIssuer is a placeholder"}
	}
	doc := issuer + DiscoveryPath
	fix := "JwtIssuer must be the issuer's URL exactly as its tokens' iss claim has it (Cognito: https://cognito-idp.<region>.amazonaws.com/<user pool id>, of a pool that exists in that region); fix it in samconfig.toml"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, doc, nil)
	if err != nil {
		return fail(check, fmt.Sprintf("JwtIssuer %q: %v", issuer, err), fix)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fail(check, fmt.Sprintf("GET %s: %v", doc, err), fix+"; and this machine must reach it")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(check, fmt.Sprintf("GET %s answered %s, not 200", doc, resp.Status), fix)
	}
	var cfg struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&cfg); err != nil {
		return fail(check, fmt.Sprintf("GET %s: not an OpenID configuration (%v)", doc, err), fix)
	}
	switch {
	case cfg.Issuer == "":
		return fail(check, doc+" names no issuer: not an OpenID configuration", fix)
	case cfg.Issuer != issuer:
		return fail(check, fmt.Sprintf("%s names the issuer %q, not JwtIssuer %q: the authorizer would refuse every token", doc, cfg.Issuer, issuer),
			fmt.Sprintf("set JwtIssuer=%s in samconfig.toml, if that is the issuer meant", cfg.Issuer))
	case cfg.JWKSURI == "":
		return fail(check, doc+" names no jwks_uri: the authorizer could fetch no keys", fix)
	}
	return Result{Check: check, Status: OK, Message: fmt.Sprintf("%s answers with issuer %s", doc, issuer)}
}
