// Package schemacheck compiles the JSON Schemas in schemas/ for tests: each under its $id,
// so that the live message's schema finds the detail schemas it refers to.
package schemacheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// LiveMessageID is the $id of schemas/live-message.json.
const LiveMessageID = "https://lifecycle-api.github.io/schemas/live-message.json"

// Schemas is every schema of a schemas/ folder, compiled with format assertions.
type Schemas struct{ c *jsonschema.Compiler }

// Load reads every schema in dir.
func Load(dir string) (*Schemas, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no schemas in %s: %v", dir, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			return nil, fmt.Errorf("%s has no $id", f)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	return &Schemas{c: c}, nil
}

// Validate checks v (marshalled to JSON) against the schema with $id id.
func (s *Schemas) Validate(id string, v any) error {
	sch, err := s.c.Compile(id)
	if err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}
