package gateway

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// CORS is the HTTP API's CorsConfiguration (template.yaml), which the gateway applies as
// API Gateway does: it answers every preflight itself, before routes and the authorizer,
// and adds the CORS headers to the responses of requests from an allowed origin,
// replacing any a function set.
type CORS struct {
	AllowOrigins  []string
	AllowHeaders  []string
	AllowMethods  []string
	ExposeHeaders []string
	MaxAge        int
}

// allows reports whether origin is allowed: listed exactly, or matched by "*" or by a
// scheme wildcard ("https://*").
func (c *CORS) allows(origin string) bool {
	return origin != "" && slices.ContainsFunc(c.AllowOrigins, func(o string) bool {
		scheme, wildcard := strings.CutSuffix(o, "://*")
		return o == "*" || o == origin || wildcard && strings.HasPrefix(origin, scheme+"://")
	})
}

// allow gives a response to an allowed origin its Access-Control-Allow-Origin, and reports
// whether origin is one.
func (c *CORS) allow(h http.Header, origin string) bool {
	if !c.allows(origin) {
		return false
	}
	if slices.Contains(c.AllowOrigins, "*") {
		origin = "*"
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	return true
}

// preflight answers a preflight: 204, with the configuration's headers when the origin
// is allowed and none when it is not (the browser then refuses the request).
func (c *CORS) preflight(w http.ResponseWriter, r *http.Request) {
	if h := w.Header(); c.allow(h, r.Header.Get("Origin")) {
		h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// decorate sets the CORS headers of a response to a request from origin, replacing those
// a function set (API Gateway ignores an integration's CORS headers).
func (c *CORS) decorate(h http.Header, origin string) {
	maps.DeleteFunc(h, func(k string, _ []string) bool {
		return strings.HasPrefix(http.CanonicalHeaderKey(k), "Access-Control-")
	})
	if c.allow(h, origin) && len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
}

// corsWriter decorates the response's headers just before they are written.
type corsWriter struct {
	http.ResponseWriter
	cors   *CORS
	origin string
	done   bool
}

func (w *corsWriter) WriteHeader(code int) {
	if !w.done {
		w.done = true
		w.cors.decorate(w.Header(), w.origin)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *corsWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// withCORS puts c in front of next; a nil c leaves next as it is (no CorsConfiguration:
// a preflight finds no route).
func withCORS(c *CORS, next http.Handler) http.Handler {
	if c == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered
		// whether or not a route matches.
		if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			c.preflight(w, r)
			return
		}
		next.ServeHTTP(&corsWriter{ResponseWriter: w, cors: c, origin: r.Header.Get("Origin")}, r)
	})
}
