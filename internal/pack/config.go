package pack

import (
	"encoding/json"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// Configs returns every pack's configuration values, as both engines give
// them to $config(): the defaults of its config.schema.yaml, overridden by
// file when set, a YAML or JSON document {pack: {key: value}} (the
// deployment's values). A file naming a pack that is not in set is an
// error.
func Configs(set *Set, file string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	for _, p := range set.Packs {
		m := map[string]any{}
		for _, c := range p.Config {
			if c.HasDefault {
				m[c.Name] = c.Default
			}
		}
		out[p.Ref] = m
	}
	if file == "" {
		return out, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading pack configuration %s: %w", file, err)
	}
	var doc map[string]map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("reading pack configuration %s: expected {pack: {key: value}}: %w", file, err)
	}
	for ref, vals := range doc {
		if out[ref] == nil {
			return nil, fmt.Errorf("reading pack configuration %s: no pack %q is loaded", file, ref)
		}
		for k, v := range vals {
			out[ref][k] = jsonValue(v)
		}
	}
	return out, nil
}

// jsonValue converts a YAML-decoded value to its JSON form.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}
