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
	r := Result{Check: "issuer"}
	switch {
	case issuer == "":
		r.Status, r.Message, r.Fix = Fail, "the environment sets no JwtIssuer", "set JwtIssuer in samconfig.toml's parameter_overrides (docs/operations.md, First deploy)"
		return r
	case IsPlaceholder(issuer):
		r.Status, r.Message = Info, "not fetched: JwtIssuer is a placeholder"
		return r
	}
	doc := issuer + DiscoveryPath
	fix := "JwtIssuer must be the issuer's URL exactly as its tokens' iss claim has it (Cognito: https://cognito-idp.<region>.amazonaws.com/<user pool id>, of a pool that exists in that region); fix it in samconfig.toml"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, doc, nil)
	if err != nil {
		r.Status, r.Message, r.Fix = Fail, fmt.Sprintf("JwtIssuer %q: %v", issuer, err), fix
		return r
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		r.Status, r.Message, r.Fix = Fail, fmt.Sprintf("GET %s: %v", doc, err), fix+"; and this machine must reach it"
		return r
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.Status, r.Message, r.Fix = Fail, fmt.Sprintf("GET %s answered %s, not 200", doc, resp.Status), fix
		return r
	}
	var cfg struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&cfg); err != nil {
		r.Status, r.Message, r.Fix = Fail, fmt.Sprintf("GET %s: not an OpenID configuration (%v)", doc, err), fix
		return r
	}
	switch {
	case cfg.Issuer == "":
		r.Status, r.Message, r.Fix = Fail, doc+" names no issuer: not an OpenID configuration", fix
	case cfg.Issuer != issuer:
		r.Status = Fail
		r.Message = fmt.Sprintf("%s names the issuer %q, not JwtIssuer %q: the authorizer would refuse every token", doc, cfg.Issuer, issuer)
		r.Fix = fmt.Sprintf("set JwtIssuer=%s in samconfig.toml, if that is the issuer meant", cfg.Issuer)
	case cfg.JWKSURI == "":
		r.Status, r.Message, r.Fix = Fail, doc+" names no jwks_uri: the authorizer could fetch no keys", fix
	default:
		r.Status, r.Message = OK, fmt.Sprintf("%s answers with issuer %s", doc, issuer)
	}
	return r
}
