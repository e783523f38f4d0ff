package pack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bwc-project/bwc/internal/workflow"

	"github.com/bwc-project/bwc/internal/spell"
)

var actionFields = []string{"name", "pack", "description", "enabled", "runner_type", "entry_point", "parameters", "output_schema", "notify", "tags"}

// st2's parameter extras, and the JSON Schema keywords a parameter may use.
var paramKeywords = []string{
	"type", "description", "default", "required", "secret", "immutable", "position", "enum",
	"title", "const", "items", "additionalItems", "properties", "additionalProperties", "patternProperties",
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
	"pattern", "format", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
	"anyOf", "oneOf", "allOf", "not", "$ref", "definitions", "dependencies", "examples",
	"readOnly", "writeOnly", "contains", "propertyNames", "if", "then", "else", "$comment", "deprecated",
}

// overridable lists what an action may change in a runner parameter (st2).
var overridable = map[string]bool{"default": true, "description": true, "enum": true, "immutable": true, "required": true}

func (l *loader) loadActions(src source, dir string, p *Pack) {
	for _, rel := range l.metaFiles(src, path.Join(dir, "actions")) {
		f, root := l.readMeta(src, rel, "a mapping with name, runner_type, parameters...")
		if root == nil {
			continue
		}
		m := f.fields(root, "", actionFields)
		a := &Action{Pack: p.Ref, Pos: f.pos(root), Enabled: f.enabled(m, true)}
		a.Name = f.itemName(m, root, p, "name")
		if a.Name != "" {
			a.Ref = p.Ref + "." + a.Name
			if e, ok := m.get("name"); ok {
				a.Pos = f.pos(e.key)
			}
		}
		if e, ok := m.get("description"); ok {
			a.Description, _ = f.str(e, "description")
		}
		a.Tags = f.tags(m)
		var runner *Runner
		if e, ok := m.get("runner_type"); ok {
			if s, ok := f.str(e, "runner_type"); ok {
				a.RunnerType = s
				runner = l.runners[s]
				if runner == nil {
					if msg, known := unsupportedRunner(s); known {
						f.errorf(e.val, "runner_type", "action %s: %s", a.Ref, msg)
					} else {
						f.errorf(e.val, "runner_type", "unknown runner type %q%s: expected one of %s", s, spell.Suggest(s, RunnerNames()), strings.Join(RunnerNames(), ", "))
					}
				}
			}
		} else {
			f.errorf(root, "runner_type", "missing: expected one of %s", strings.Join(RunnerNames(), ", "))
		}

		actionsDir := path.Join(dir, "actions")
		e, hasEP := m.get("entry_point")
		switch {
		case runner == nil:
		case runner.EntryPoint == "" && hasEP:
			if s, ok := f.str(e, "entry_point"); ok && s != "" {
				f.errorf(e.val, "entry_point", "found %q, but runner %s takes no entry point: expected none", s, runner.Name)
			}
		case runner.EntryPoint != "" && !hasEP:
			f.errorf(root, "entry_point", "missing: runner %s needs an entry point: %s", runner.Name, runner.EntryPoint)
		case runner.EntryPoint != "":
			if s, ok := f.str(e, "entry_point"); ok && s == "" {
				f.errorf(e.val, "entry_point", "empty: runner %s needs an entry point: %s", runner.Name, runner.EntryPoint)
				break
			}
			rel, exists := l.entryPoint(f, src, dir, actionsDir, e, "entry_point")
			a.EntryPoint, _ = f.str(e, "entry_point")
			if rel != "" {
				a.EntryPointPath = src.display(rel)
			}
			if exists {
				l.checkEntryFile(f, src, rel, e, a, runner)
			}
		}

		var nodes map[string]*yaml.Node
		if e, ok := m.get("parameters"); ok {
			a.Parameters, nodes = f.params(e, "parameters")
		}
		f.checkPositions(a.Parameters, nodes)
		a.Effective = f.merge(a, runner, nodes)
		a.ParametersSchema = objectSchema(a.Effective)
		if e, ok := m.get("output_schema"); ok {
			if obj, ok := f.object(e, "output_schema"); ok && obj != nil {
				a.OutputSchema = obj
				if _, probs := compileSchema(obj); probs != nil {
					f.schemaProblems(e.val, "output_schema", "is not valid JSON Schema", probs)
				}
			}
		}
		if e, ok := m.get("notify"); ok {
			a.Notify = f.notify(e)
		}
		if a.Ref != "" {
			p.Actions = append(p.Actions, a)
		}
	}
}

// checkEntryFile checks what the entry point holds for runners that read it.
func (l *loader) checkEntryFile(f *file, src source, rel string, e entry, a *Action, r *Runner) {
	st, err := fs.Stat(src.fsys, rel)
	if err != nil {
		return
	}
	switch r.Name {
	case RunnerWorkflow:
		if st.IsDir() {
			f.errorf(e.val, "entry_point", "found the directory %s, expected a workflow definition file", src.display(rel))
			return
		}
		data, err := fs.ReadFile(src.fsys, rel)
		if err != nil {
			f.errorf(e.val, "entry_point", "cannot read %s: %v", src.display(rel), unwrapPath(err))
			return
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) == nil && len(doc.Content) > 0 {
			l.workflows[a] = &file{l: l, path: src.display(rel)}
			l.workflowNodes[a] = resolve(doc.Content[0])
		}
		w, err := workflow.Parse(src.display(rel), data)
		if err != nil {
			var werrs workflow.Errors
			if errors.As(err, &werrs) {
				for _, we := range werrs {
					field := ""
					if we.Task != "" {
						field = "tasks." + we.Task
					}
					l.diag(Pos{File: we.Pos.File, Line: we.Pos.Line, Col: we.Pos.Col}, field, "%s", we.Msg)
				}
			} else {
				f.errorf(e.val, "entry_point", "workflow %s: %v", src.display(rel), err)
			}
			return
		}
		a.Workflow = w
	case RunnerGo:
		if st.IsDir() {
			if _, err := fs.Stat(src.fsys, path.Join(rel, "main.go")); err != nil {
				f.errorf(e.val, "entry_point", "found the directory %s without a main.go: expected a Go main package", src.display(rel))
			}
		} else if path.Ext(rel) != ".go" {
			f.errorf(e.val, "entry_point", "found %s, expected a Go file (main.go) or its directory", src.display(rel))
		}
	default:
		if st.IsDir() {
			f.errorf(e.val, "entry_point", "found the directory %s, expected a file: %s", src.display(rel), r.EntryPoint)
		}
	}
}

// params reads st2 parameters: a mapping of names to JSON Schema properties
// with st2's extras. It returns them in file order, with their nodes.
func (f *file) params(e entry, field string) ([]*Parameter, map[string]*yaml.Node) {
	n := e.val
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		f.errorf(n, field, "found %s, expected a mapping of parameter names to their schemas", describe(n))
		return nil, nil
	}
	m := f.fields(n, field, nil)
	nodes := map[string]*yaml.Node{}
	var out []*Parameter
	for _, name := range m.order {
		pe := m.fields[name]
		pf := join(field, name)
		if !paramRE.MatchString(name) {
			f.errorf(pe.key, pf, "%q is not a valid parameter name: expected letters, digits, _ and -, not starting with a digit", name)
		}
		p := &Parameter{Name: name, Pos: f.pos(pe.key)}
		nodes[name] = pe.val
		if pe.val.Kind == yaml.ScalarNode && pe.val.ShortTag() == "!!null" {
			p.Schema = map[string]any{}
			out = append(out, p)
			continue
		}
		if pe.val.Kind != yaml.MappingNode {
			f.errorf(pe.val, pf, "found %s, expected a mapping such as {type: string, description: ..., required: true}", describe(pe.val))
			continue
		}
		pm := f.fields(pe.val, pf, paramKeywords)
		schema := map[string]any{}
		for _, k := range pm.order {
			ke := pm.fields[k]
			kf := pf + "." + k
			switch k {
			case "required":
				if ke.val.Kind == yaml.SequenceNode {
					schema[k] = f.value(ke.val, kf) // JSON Schema's required, of an object parameter
				} else if b, ok := f.boolean(ke, kf); ok {
					p.Required = b
				}
			case "secret":
				p.Secret, _ = f.boolean(ke, kf)
			case "immutable":
				p.Immutable, _ = f.boolean(ke, kf)
			case "position":
				if i, ok := f.integer(ke, kf); ok {
					if i < 0 {
						f.errorf(ke.val, kf, "found %d, expected a position of 0 or more", i)
					} else {
						p.Position = &i
					}
				}
			default:
				v := f.value(ke.val, kf)
				schema[k] = v
				switch k {
				case "type":
					switch t := v.(type) {
					case string:
						p.Type = t
					case []any:
						var ts []string
						for _, x := range t {
							ts = append(ts, fmt.Sprint(x))
						}
						p.Type = strings.Join(ts, "|")
					}
				case "description":
					if s, ok := v.(string); ok {
						p.Description = s
					} else {
						f.errorf(ke.val, kf, "found %s, expected a string", describe(ke.val))
					}
				case "default":
					p.Default, p.HasDefault = v, true
				case "enum":
					if list, ok := v.([]any); ok {
						p.Enum = list
					}
				}
			}
		}
		p.Schema = schema
		f.checkParamSchema(p, pe.val, pf)
		out = append(out, p)
	}
	return out, nodes
}

// checkParamSchema compiles a parameter's schema and checks its default.
func (f *file) checkParamSchema(p *Parameter, n *yaml.Node, field string) {
	sch, probs := compileSchema(p.Schema)
	if probs != nil {
		f.schemaProblems(n, field, "is not valid JSON Schema", probs)
		return
	}
	f.l.compiled[p] = sch
	if !p.HasDefault || hasTemplate(p.Default) {
		return
	}
	if probs := validateValue(sch, p.Default); probs != nil {
		dn := nodeAt(n, []string{"default"})
		for _, pr := range probs {
			at := ""
			if ptr := pr.pointer(); ptr != "" {
				at = " at " + ptr
			}
			f.errorf(nodeAt(dn, pr.Tokens), field+".default", "the default %s does not satisfy the parameter's own schema%s: %s", jsonText(p.Default), at, pr.Msg)
		}
	}
}

// schemaProblems reports JSON Schema errors located in the schema whose
// node is n.
func (f *file) schemaProblems(n *yaml.Node, field, what string, probs []problem) {
	for _, pr := range probs {
		at := nodeAt(n, pr.Tokens)
		fl := field
		if len(pr.Tokens) > 0 {
			fl = field + "." + strings.Join(pr.Tokens, ".")
		}
		f.errorf(at, fl, "%s: %s", what, pr.Msg)
	}
}

// checkPositions checks that positions are unique and contiguous from 0.
func (f *file) checkPositions(ps []*Parameter, nodes map[string]*yaml.Node) {
	byPos := map[int]string{}
	var positions []int
	for _, p := range ps {
		if p.Position == nil {
			continue
		}
		at := nodeAt(nodes[p.Name], []string{"position"})
		if other, dup := byPos[*p.Position]; dup {
			f.errorf(at, "parameters."+p.Name+".position", "position %d is also the position of %s: expected each position once", *p.Position, other)
			continue
		}
		byPos[*p.Position] = p.Name
		positions = append(positions, *p.Position)
	}
	sort.Ints(positions)
	for i, pos := range positions {
		if pos != i {
			name := byPos[pos]
			f.errorf(nodeAt(nodes[name], []string{"position"}), "parameters."+name+".position", "found position %d, expected %d: positions are contiguous from 0", pos, i)
			break
		}
	}
}

// merge builds an action's effective parameters from its runner's and its
// own, and reports overrides st2 forbids.
func (f *file) merge(a *Action, r *Runner, nodes map[string]*yaml.Node) []*Parameter {
	own := map[string]*Parameter{}
	for _, p := range a.Parameters {
		own[p.Name] = p
	}
	var out []*Parameter
	seen := map[string]bool{}
	if r != nil {
		for _, rp := range r.Parameters {
			ap := own[rp.Name]
			if ap == nil {
				out = append(out, rp)
				continue
			}
			seen[rp.Name] = true
			out = append(out, f.override(a, r, rp, ap, nodes[rp.Name]))
		}
	}
	for _, p := range a.Parameters {
		if !seen[p.Name] {
			out = append(out, p)
		}
	}
	return out
}

// override applies an action's parameter to a runner parameter.
func (f *file) override(a *Action, r *Runner, rp, ap *Parameter, n *yaml.Node) *Parameter {
	field := "parameters." + ap.Name
	written := map[string]bool{}
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			written[n.Content[i].Value] = true
		}
	}
	if rp.Immutable {
		for k := range written {
			if !sameAttr(rp, ap, k) {
				f.errorf(keyNode(n, k), field+"."+k, "runner parameter %s of %s is immutable: an action cannot override it (remove %s from the action)", rp.Name, r.Name, k)
			}
		}
		return rp
	}
	for _, k := range sortedKeys(written) {
		if overridable[k] || sameAttr(rp, ap, k) {
			continue
		}
		f.errorf(keyNode(n, k), field+"."+k, "found %s, but runner parameter %s of %s has %s: an action can override only default, description, enum, immutable and required", attrText(ap, k), rp.Name, r.Name, attrText(rp, k))
	}
	merged := *rp
	merged.Schema = map[string]any{}
	for k, v := range rp.Schema {
		merged.Schema[k] = v
	}
	if written["default"] {
		merged.Default, merged.HasDefault = ap.Default, true
		merged.Schema["default"] = ap.Default
	}
	if written["description"] {
		merged.Description = ap.Description
		merged.Schema["description"] = ap.Description
	}
	if written["enum"] {
		merged.Enum = ap.Enum
		merged.Schema["enum"] = ap.Schema["enum"]
	}
	if written["immutable"] {
		merged.Immutable = ap.Immutable
	}
	if written["required"] {
		merged.Required = ap.Required
	}
	merged.Pos = ap.Pos
	if sch, probs := compileSchema(merged.Schema); probs == nil {
		f.l.compiled[&merged] = sch
		if merged.HasDefault && !hasTemplate(merged.Default) {
			for _, pr := range validateValue(sch, merged.Default) {
				f.errorf(keyNode(n, "default"), field+".default", "the default %s does not satisfy runner parameter %s of %s: %s", jsonText(merged.Default), rp.Name, r.Name, pr.Msg)
			}
		}
	}
	return &merged
}

func sameAttr(rp, ap *Parameter, k string) bool {
	switch k {
	case "secret":
		return rp.Secret == ap.Secret
	case "immutable":
		return rp.Immutable == ap.Immutable
	case "required":
		return rp.Required == ap.Required
	case "position":
		return reflect.DeepEqual(rp.Position, ap.Position)
	}
	return reflect.DeepEqual(normalize(rp.Schema[k]), ap.Schema[k])
}

func attrText(p *Parameter, k string) string {
	switch k {
	case "secret":
		return fmt.Sprintf("secret: %v", p.Secret)
	case "immutable":
		return fmt.Sprintf("immutable: %v", p.Immutable)
	case "required":
		return fmt.Sprintf("required: %v", p.Required)
	case "position":
		if p.Position == nil {
			return "no position"
		}
		return fmt.Sprintf("position: %d", *p.Position)
	}
	v, ok := p.Schema[k]
	if !ok {
		return "no " + k
	}
	return k + ": " + jsonText(v)
}

// objectSchema is the JSON Schema of a set of parameters.
func objectSchema(ps []*Parameter) map[string]any {
	props := map[string]any{}
	var required []any
	for _, p := range ps {
		props[p.Name] = p.Schema
		if p.Required {
			required = append(required, p.Name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if required != nil {
		s["required"] = required
	}
	return s
}

var notifyFields = []string{"on-complete", "on-success", "on-failure"}

func (f *file) notify(e entry) map[string]any {
	if e.val.Kind != yaml.MappingNode {
		f.errorf(e.val, "notify", "found %s, expected a mapping with on-complete, on-success or on-failure", describe(e.val))
		return nil
	}
	m := f.fields(e.val, "notify", notifyFields)
	for _, k := range m.order {
		ke := m.fields[k]
		if ke.val.Kind != yaml.MappingNode {
			f.errorf(ke.val, "notify."+k, "found %s, expected a mapping with message, data and routes", describe(ke.val))
			continue
		}
		f.fields(ke.val, "notify."+k, []string{"message", "data", "routes", "channels"})
	}
	obj, _ := f.object(e, "notify")
	return obj
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(b), 80)
}
