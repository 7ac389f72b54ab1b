// Package cfntemplate reads template.yaml as YAML nodes, keeping CloudFormation's short-form tags
// (!Ref, !GetAtt, !Sub) so that the local stack and the tests can follow the template.
package cfntemplate

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed template.
type Template struct{ Root *yaml.Node }

// Load parses the template at path.
func Load(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return &Template{Root: doc.Content[0]}, nil
}

// Get follows mapping keys from n; nil when any is missing.
func Get(n *yaml.Node, path ...string) *yaml.Node {
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// Scalar renders a scalar, prefixed by its CloudFormation tag when it has one
// ("!GetAtt Table.Arn"); "" for nil.
func Scalar(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return n.Tag + " " + n.Value
	}
	return n.Value
}

// Scalars renders a scalar or a sequence of scalars.
func Scalars(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		out := make([]string, len(n.Content))
		for i, c := range n.Content {
			out[i] = Scalar(c)
		}
		return out
	}
	return []string{Scalar(n)}
}

// Resources returns the resources of type typ by logical id.
func (t *Template) Resources(typ string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	res := Get(t.Root, "Resources")
	if res == nil {
		return out
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		if Scalar(Get(res.Content[i+1], "Type")) == typ {
			out[res.Content[i].Value] = res.Content[i+1]
		}
	}
	return out
}

// SortedKeys returns m's keys in order.
func SortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// GetAttTarget returns the logical id an "!GetAtt X.Arn" names.
func GetAttTarget(n *yaml.Node) (string, bool) {
	s := Scalar(n)
	v, ok := strings.CutPrefix(s, "!GetAtt ")
	if !ok {
		return "", false
	}
	id, _, _ := strings.Cut(v, ".")
	return id, true
}

// AliasTarget returns the function whose alias "!Ref X.Alias" names: SAM's reference to
// the alias AutoPublishAlias publishes, which routes and rules call.
func AliasTarget(n *yaml.Node) (string, bool) {
	v, ok := strings.CutPrefix(Scalar(n), "!Ref ")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(v, ".Alias")
}
