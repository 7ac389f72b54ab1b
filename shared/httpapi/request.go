package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/lifecycle-api/lifecycle/shared/auth"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// actorFrom reads the caller from the JWT claims API Gateway's authorizer put in the
// request context, roles from the function's roles claim. No claims, or no subject, is
// lifecycle.ErrUnauthenticated.
func actorFrom(r *http.Request) (lifecycle.Actor, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return lifecycle.Actor{}, lifecycle.ErrUnauthenticated
	}
	return auth.ActorFromClaims(rc.Authorizer.JWT.Claims, scopeOf(r).settings.RolesClaim)
}

// reasonAttr is how a cancellation's reason is logged: in full, or, when the function's
// settings say so, only its length in characters (the text stays on the item and event).
func reasonAttr(r *http.Request, reason string) slog.Attr {
	if scopeOf(r).settings.LogReasons {
		return slog.String("reason", reason)
	}
	return slog.Int("reasonLength", utf8.RuneCountInString(reason))
}

// parseID validates a path id (see lifecycle.ParseID) and returns its stored form.
func parseID(name, s string) (string, error) {
	id, ok := lifecycle.ParseID(s)
	if !ok {
		return "", invalid(name + " must be a UUID")
	}
	return id, nil
}

// queryValues parses the request's query string, refusing one it cannot read whole. The
// listings read their parameters from here, never from r.URL.Query(): that drops every pair
// it cannot decode (a bad percent escape, a semicolon), so "status=Bogus%G0" would lose its
// filter and list every status, and "from=%zz" beside a good from would pass as given once.
// Behind API Gateway the query is the event's rawQueryString, which aws-lambda-go-api-proxy
// puts in the URL as the client sent it, so the same pairs are refused there too.
func queryValues(r *http.Request) (url.Values, error) {
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		return values, nil
	}
	// Name the first pair that fails, so the caller knows which parameter to fix.
	for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if _, err := url.ParseQuery(pair); err == nil {
			continue
		}
		key := pair
		if i := strings.IndexAny(pair, "=;"); i >= 0 {
			key = pair[:i]
		}
		// A name too odd to quote back (undecodable, empty, long) is left out of details.
		name, err := url.QueryUnescape(key)
		quotable := err == nil && name != "" && utf8.RuneCountInString(name) <= maxIDLength
		semicolon := strings.Contains(pair, ";")
		switch {
		case semicolon && quotable:
			return nil, invalid(fmt.Sprintf("query parameter %q holds a semicolon: separate parameters with &, and send a semicolon as %%3B", name))
		case semicolon:
			return nil, invalid("the query holds a semicolon: separate parameters with &, and send a semicolon as %3B")
		case quotable:
			return nil, invalid(fmt.Sprintf("query parameter %q is not valid percent-encoding", name))
		default:
			return nil, invalid("the query has a parameter that is not valid percent-encoding")
		}
	}
	return nil, invalid("the query could not be read")
}

// parseTimestamp reads a timestamp of a query or body (parseRFC3339) between the years 2000
// and 9999.
func parseTimestamp(s string) (time.Time, bool) {
	t, ok := parseRFC3339(s)
	if !ok || t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// parseRFC3339 reads an RFC 3339 timestamp with its zone, kept as the API keeps times: UTC,
// to the millisecond. Every timestamp a request holds is read here. RFC 3339 allows a
// lower-case t and z, which Go's parser does not. Go's parser also takes an offset of up to
// 24 hours and 60 minutes, which RFC 3339's time-numoffset (hours 00 to 23, minutes 00 to
// 59) does not: "+24:00" would be read as a day ahead of UTC and stored a day early, so an
// offset out of RFC 3339's range is refused like any other malformed timestamp.
func parseRFC3339(s string) (time.Time, bool) {
	s = strings.ToUpper(s)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	// Parsed, s ends in Z or in an offset ±hh:mm of digits.
	if n := len(s); s[n-1] != 'Z' && (s[n-5:n-3] > "23" || s[n-2:] > "59") {
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Millisecond), true
}
