package docsite

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestTheDocsPageHasOneAddress: /docs is the page, /docs/ redirects to it (a trailing slash
// typed by hand is not a 404), and /openapi.yaml is the document.
func TestTheDocsPageHasOneAddress(t *testing.T) {
	root := t.TempDir()
	assets := filepath.Join(root, "web", "node_modules", "swagger-ui-dist")
	if err := os.MkdirAll(assets, 0o755); err != nil {
		t.Fatal(err)
	}
	for path, text := range map[string]string{filepath.Join(assets, "swagger-ui-bundle.js"): "//", filepath.Join(root, "openapi.yaml"): "openapi: 3.1.0\n"} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	if err := Mount(mux, root); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/docs": http.StatusOK, "/docs/": http.StatusMovedPermanently, "/openapi.yaml": http.StatusOK, "/docs/assets/swagger-ui-bundle.js": http.StatusOK} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != want {
			t.Errorf("GET %s = %d, want %d", path, w.Code, want)
		}
		if path == "/docs/" && w.Header().Get("Location") != "/docs" {
			t.Errorf("GET /docs/ redirects to %q, want /docs", w.Header().Get("Location"))
		}
	}
}
