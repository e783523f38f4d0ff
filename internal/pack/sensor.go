package pack

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bwc-project/bwc/internal/spell"
)

var (
	sensorFields      = []string{"class_name", "name", "pack", "description", "enabled", "entry_point", "poll_interval", "trigger_types"}
	triggerTypeFields = []string{"name", "pack", "description", "parameters_schema", "payload_schema", "tags"}
	policyFields      = []string{"name", "pack", "description", "enabled", "resource_ref", "policy_type", "parameters"}
)

func (l *loader) loadSensors(src source, dir string, p *Pack) {
	sensorsDir := path.Join(dir, "sensors")
	for _, rel := range l.metaFiles(src, sensorsDir) {
		f, root := l.readMeta(src, rel, "a mapping with class_name, entry_point and trigger_types")
		if root == nil {
			continue
		}
		m := f.fields(root, "", sensorFields)
		s := &Sensor{Pack: p.Ref, Pos: f.pos(root), Enabled: f.enabled(m, true)}
		nameField := "class_name"
		if _, ok := m.get("class_name"); !ok {
			if _, ok := m.get("name"); ok {
				nameField = "name"
			}
		} else if e, ok := m.get("name"); ok {
			f.errorf(e.key, "name", "found both class_name and name: expected one of them")
		}
		s.Name = f.itemName(m, root, p, nameField)
		if s.Name != "" {
			s.Ref = p.Ref + "." + s.Name
		}
		if e, ok := m.get("description"); ok {
			s.Description, _ = f.str(e, "description")
		}
		if e, ok := m.get("entry_point"); ok {
			if ep, ok := f.str(e, "entry_point"); ok && ep != "" {
				s.EntryPoint = ep
				if path.Ext(ep) == ".py" {
					f.errorf(e.val, "entry_point", "found the Python sensor %q: Python sensors are not supported by BWC; write the sensor in Go (sensors/%s/main.go)", ep, strings.ToLower(s.Name))
				} else if rel, _ := l.entryPoint(f, src, dir, sensorsDir, e, "entry_point"); rel != "" {
					s.EntryPointPath = src.display(rel)
				}
			}
		}
		if e, ok := m.get("poll_interval"); ok {
			if i, ok := f.integer(e, "poll_interval"); ok {
				if i < 1 {
					f.errorf(e.val, "poll_interval", "found %d, expected seconds (1 or more)", i)
				}
				s.PollInterval = i
			}
		}
		if e, ok := m.get("trigger_types"); ok {
			s.TriggerTypes = l.triggerTypes(f, e, p, s)
		} else {
			f.errorf(root, "trigger_types", "missing: a sensor declares the trigger types it emits")
		}
		if s.Ref != "" {
			p.Sensors = append(p.Sensors, s)
		}
	}
}

func (l *loader) triggerTypes(f *file, e entry, p *Pack, s *Sensor) []string {
	if e.val.Kind != yaml.SequenceNode {
		f.errorf(e.val, "trigger_types", "found %s, expected a list of {name, description, parameters_schema, payload_schema}", describe(e.val))
		return nil
	}
	var refs []string
	for i, c := range e.val.Content {
		c = resolve(c)
		field := fmt.Sprintf("trigger_types[%d]", i)
		if c.Kind != yaml.MappingNode {
			f.errorf(c, field, "found %s, expected {name, description, parameters_schema, payload_schema}", describe(c))
			continue
		}
		m := f.fields(c, field, triggerTypeFields)
		t := &TriggerType{Pack: p.Ref, Sensor: s.Ref, Pos: f.pos(c)}
		if ne, ok := m.get("name"); ok {
			if name, ok := f.str(ne, field+".name"); ok {
				t.Name = name
				if !nameRE.MatchString(name) {
					f.errorf(ne.val, field+".name", "found %q, expected a name of letters, digits, _ and - (a reference is <pack>.<name>)", name)
				}
			}
		} else {
			f.errorf(c, field+".name", "missing: expected the trigger type's name")
		}
		if pe, ok := m.get("pack"); ok {
			if ps, ok := f.str(pe, field+".pack"); ok && ps != p.Ref {
				f.errorf(pe.val, field+".pack", "found %q, expected %q (the pack this file is in) or no pack field", ps, p.Ref)
			}
		}
		if de, ok := m.get("description"); ok {
			t.Description, _ = f.str(de, field+".description")
		}
		t.Tags = f.tags(m)
		for _, k := range []string{"parameters_schema", "payload_schema"} {
			se, ok := m.get(k)
			if !ok {
				continue
			}
			obj, ok := f.object(se, field+"."+k)
			if !ok || obj == nil {
				continue
			}
			if _, probs := compileSchema(obj); probs != nil {
				f.schemaProblems(se.val, field+"."+k, "is not valid JSON Schema", probs)
			}
			if k == "parameters_schema" {
				t.ParametersSchema = obj
			} else {
				t.PayloadSchema = obj
			}
		}
		if t.Name != "" {
			t.Ref = p.Ref + "." + t.Name
			refs = append(refs, t.Ref)
			p.TriggerTypes = append(p.TriggerTypes, t)
		}
	}
	return refs
}

// Policy types BWC applies, with the JSON Schema of their parameters.
func policyTypes() map[string]map[string]any {
	integer := func(minimum float64) map[string]any { return map[string]any{"type": "integer", "minimum": minimum} }
	concurrency := map[string]any{
		"threshold": integer(0),
		"action":    map[string]any{"enum": []any{"delay", "cancel"}},
	}
	obj := func(props map[string]any, required ...any) map[string]any {
		return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
	}
	withAttrs := map[string]any{"attributes": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1}}
	for k, v := range concurrency {
		withAttrs[k] = v
	}
	return map[string]map[string]any{
		"action.concurrency":      obj(concurrency, "threshold"),
		"action.concurrency.attr": obj(withAttrs, "threshold", "attributes"),
		"action.retry": obj(map[string]any{
			"retry_on":        map[string]any{"enum": []any{"failure", "timeout"}},
			"max_retry_count": integer(0),
			"delay":           integer(0),
		}, "retry_on", "max_retry_count"),
	}
}

func (l *loader) loadPolicies(src source, dir string, p *Pack) {
	types := policyTypes()
	for _, rel := range l.metaFiles(src, path.Join(dir, "policies")) {
		f, root := l.readMeta(src, rel, "a mapping with name, resource_ref, policy_type and parameters")
		if root == nil {
			continue
		}
		m := f.fields(root, "", policyFields)
		pol := &Policy{Pack: p.Ref, Pos: f.pos(root), Enabled: f.enabled(m, true)}
		pol.Name = f.itemName(m, root, p, "name")
		if pol.Name != "" {
			pol.Ref = p.Ref + "." + pol.Name
		}
		if e, ok := m.get("description"); ok {
			pol.Description, _ = f.str(e, "description")
		}
		if e, ok := m.get("resource_ref"); ok {
			pol.ResourceRef, _ = f.str(e, "resource_ref")
		} else {
			f.errorf(root, "resource_ref", "missing: expected the reference of the action the policy applies to")
		}
		var schema map[string]any
		if e, ok := m.get("policy_type"); ok {
			if s, ok := f.str(e, "policy_type"); ok {
				pol.PolicyType = s
				schema = types[s]
				if schema == nil {
					names := sortedKeys(types)
					f.errorf(e.val, "policy_type", "unknown policy type %q%s: expected one of %s", s, spell.Suggest(s, names), strings.Join(names, ", "))
				}
			}
		} else {
			f.errorf(root, "policy_type", "missing: expected one of %s", strings.Join(sortedKeys(types), ", "))
		}
		pe, hasParams := m.get("parameters")
		if hasParams {
			pol.Parameters, _ = f.object(pe, "parameters")
		}
		if schema != nil {
			sch, probs := compileSchema(schema)
			if probs == nil {
				at := root
				if hasParams {
					at = pe.val
				}
				v := any(pol.Parameters)
				if pol.Parameters == nil {
					v = map[string]any{}
				}
				for _, pr := range validateValue(sch, v) {
					field := "parameters"
					if len(pr.Tokens) > 0 {
						field += "." + strings.Join(pr.Tokens, ".")
					}
					f.errorf(nodeAt(at, pr.Tokens), field, "%s (policy type %s)", pr.Msg, pol.PolicyType)
				}
			}
		}
		if pol.Ref != "" {
			p.Policies = append(p.Policies, pol)
		}
	}
}

func (l *loader) loadConfigSchema(src source, dir string, p *Pack) {
	rel := path.Join(dir, "config.schema.yaml")
	if _, err := fs.Stat(src.fsys, rel); err != nil {
		return
	}
	f, root := l.readMeta(src, rel, "a mapping of configuration keys to their schemas")
	if root == nil {
		return
	}
	p.Config, _ = f.params(entry{key: root, val: root}, "")
	p.ConfigSchema = objectSchema(p.Config)
}
