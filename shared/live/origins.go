package live

import "strings"

// Origins are the browser origins whose pages may open the channel (the frontends': the
// API's CorsAllowedOrigins); "*" admits any.
type Origins []string

// ParseOrigins reads a comma-separated list of origins.
func ParseOrigins(s string) Origins {
	var o Origins
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			o = append(o, strings.TrimSuffix(v, "/"))
		}
	}
	return o
}

// Admits reports whether a handshake with Origin origin may go on. A browser always sends
// its page's origin; a handshake without one is no browser's (a service's client), which
// its ticket, got with a bearer token, already vouches for. So the check keeps other
// sites' pages out, as defence in depth beside the ticket.
func (o Origins) Admits(origin string) bool {
	if origin == "" {
		return true
	}
	for _, a := range o {
		if a == "*" || strings.EqualFold(a, origin) {
			return true
		}
	}
	return false
}
