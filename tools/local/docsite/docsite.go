// Package docsite serves the API description on the local server: the document itself at
// /openapi.yaml and a readable page at /docs, rendered by Swagger UI (the swagger-ui-dist
// package from the npm registry, fetched by `make tools` into web/node_modules).
package docsite

import (
	_ "embed"
	"errors"
	"net/http"
	"os"
	"path/filepath"
)

//go:embed index.html
var index []byte

// Mount adds GET /openapi.yaml, /docs (and /docs/, which redirects to it) and /docs/assets/
// to mux. root is the repository root.
func Mount(mux *http.ServeMux, root string) error {
	doc := filepath.Join(root, "openapi.yaml")
	assets := filepath.Join(root, "web", "node_modules", "swagger-ui-dist")
	if _, err := os.Stat(filepath.Join(assets, "swagger-ui-bundle.js")); err != nil {
		return errors.New("the docs renderer is not installed (run `make tools`): " + err.Error())
	}
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, doc)
	})
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
	mux.Handle("GET /docs/assets/", http.StripPrefix("/docs/assets/", http.FileServer(http.Dir(assets))))
	// /docs/ is the page too, by its one address (as /console/ is the console).
	mux.Handle("GET /docs/{$}", http.RedirectHandler("/docs", http.StatusMovedPermanently))
	return nil
}
