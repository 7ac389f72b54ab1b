// Package openapicheck checks responses against openapi.yaml (or another OpenAPI document,
// such as the local server's tools/local/console/local-api.yaml), so the document cannot
// drift from the code: a response to a route the document does not list, with a status it
// does not list, or with a body its schema does not allow, is an error.
package openapicheck

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator holds the loaded document.
type Validator struct {
	name   string // the document's file name, for the errors
	doc    *openapi3.T
	router routers.Router

	mu   sync.Mutex
	seen map[string]bool // "METHOD path status" checked so far
}

// Load reads and validates the document at path.
func Load(path string) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", path, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Validator{name: filepath.Base(path), doc: doc, router: router, seen: map[string]bool{}}, nil
}

var options = &openapi3filter.Options{
	// Requests are often wrong on purpose (that is what the 4xx tests send); only the
	// responses are held to the document.
	ExcludeRequestBody:        true,
	ExcludeRequestQueryParams: true,
	IncludeResponseStatus:     true,
	MultiError:                true,
	AuthenticationFunc:        openapi3filter.NoopAuthenticationFunc,
}

// Check validates one exchange. method and target (path with query) describe the request
// as the API received it.
func (v *Validator) Check(method, target string, status int, header http.Header, body []byte) error {
	req := httptest.NewRequest(method, "http://localhost"+target, nil)
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s answered %d but %s has no such route: %w", method, target, status, v.name, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: options},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                options,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s: the %d response does not match %s: %w\nbody: %s", method, target, status, v.name, err, body)
	}
	v.mu.Lock()
	v.seen[fmt.Sprintf("%s %s %d", method, route.Path, status)] = true
	v.mu.Unlock()
	return nil
}

// Seen lists the "METHOD path status" combinations checked so far, sorted.
func (v *Validator) Seen() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Sorted(maps.Keys(v.seen))
}

// Documented lists every "METHOD path status" the document declares, sorted.
func (v *Validator) Documented() []string {
	var out []string
	for path, item := range v.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				out = append(out, strings.ToUpper(method)+" "+path+" "+status)
			}
		}
	}
	slices.Sort(out)
	return out
}
