package contract

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

// messageShape is what both documents say of the live message: its fields, the required
// ones, the detail-types and entity kinds it names, and the actions allowedActions may list.
type messageShape struct {
	Required   []string `yaml:"required" json:"required"`
	Properties map[string]struct {
		Enum  []string `yaml:"enum" json:"enum"`
		Items struct {
			Enum []string `yaml:"enum" json:"enum"`
		} `yaml:"items" json:"items"`
	} `yaml:"properties" json:"properties"`
}

// TestLiveMessageDocumentedAlike: openapi.yaml's LiveMessage and schemas/live-message.json
// describe the same message.
func TestLiveMessageDocumentedAlike(t *testing.T) {
	raw, err := os.ReadFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]messageShape `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	api, ok := doc.Components.Schemas["LiveMessage"]
	if !ok {
		t.Fatal("openapi.yaml has no LiveMessage schema")
	}
	raw, err = os.ReadFile("../../schemas/live-message.json")
	if err != nil {
		t.Fatal(err)
	}
	var js messageShape
	if err := json.Unmarshal(raw, &js); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(slices.Sorted(slices.Values(api.Required)), slices.Sorted(slices.Values(js.Required))) {
		t.Errorf("required: openapi.yaml %v, schemas/live-message.json %v", api.Required, js.Required)
	}
	if a, j := slices.Sorted(maps.Keys(api.Properties)), slices.Sorted(maps.Keys(js.Properties)); !slices.Equal(a, j) {
		t.Errorf("fields: openapi.yaml %v, schemas/live-message.json %v", a, j)
	}
	for name, p := range js.Properties {
		if !slices.Equal(p.Enum, api.Properties[name].Enum) {
			t.Errorf("%s: openapi.yaml enum %v, schemas/live-message.json %v", name, api.Properties[name].Enum, p.Enum)
		}
		if !slices.Equal(p.Items.Enum, api.Properties[name].Items.Enum) {
			t.Errorf("%s items: openapi.yaml enum %v, schemas/live-message.json %v", name, api.Properties[name].Items.Enum, p.Items.Enum)
		}
	}
	if len(js.Properties["allowedActions"].Items.Enum) == 0 {
		t.Error("schemas/live-message.json's allowedActions lists no actions; has its shape changed?")
	}
}
