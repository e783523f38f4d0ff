package workflow

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bwc-project/bwc/internal/spell"
	"github.com/bwc-project/bwc/internal/srcpos"
)

// Pos is a position in a workflow file.
type Pos = srcpos.Pos

// Workflow is a parsed workflow definition.
type Workflow struct {
	File        string
	Version     string
	Description string
	Input       []Param // in order; Default is nil when the input is required
	Vars        []Param
	Output      []Param
	Tasks       map[string]*Task
	Order       []string // task names in file order
}

// Param is a named value: a workflow input (with its default), a var, an
// output or a published variable.
type Param struct {
	Name       string
	Value      any
	HasDefault bool
	Pos        Pos
}

// Task is one task of a workflow.
type Task struct {
	Name   string
	Pos    Pos
	Action string
	Input  map[string]any
	Next   []Transition
	Join   string // "", "all" or a count
	With   *With
	Retry  *Retry
	Delay  any // seconds: a number or an expression
}

// Transition is one entry of a task's next list.
type Transition struct {
	When    string // JSONata ("{% ... %}"), empty for always
	Publish []Param
	Do      []string
	Pos     Pos
}

// With is a task's with-items.
type With struct {
	Items       string // expression
	Concurrency any    // number or expression; nil for unlimited
	Pos         Pos
}

// Retry is a task's retry policy.
type Retry struct {
	When  string
	Count int
	Delay float64
	Pos   Pos
}

// Engine commands usable in `do` instead of a task name.
const (
	CmdFail     = "fail"
	CmdNoop     = "noop"
	CmdContinue = "continue"
)

// Error is a workflow error at a place in the file.
type Error struct {
	Pos  Pos
	Task string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if p := e.Pos.String(); p != "" {
		b.WriteString(p + ": ")
	}
	if e.Task != "" {
		b.WriteString("task " + e.Task + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every error found in a workflow.
type Errors = srcpos.Errors[*Error]

type parser struct {
	file string
	errs Errors
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line, Col: n.Column} }

func (p *parser) errorf(n *yaml.Node, task, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: p.pos(n), Task: task, Msg: fmt.Sprintf(format, args...)})
}

// Parse reads a workflow definition. file names it in errors. All errors
// are returned together as Errors.
func Parse(file string, src []byte) (*Workflow, error) {
	p := &parser{file: file}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		return nil, Errors{{Pos: Pos{File: file}, Msg: "invalid YAML: " + err.Error()}}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, Errors{{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "a workflow is a mapping with version, input, tasks..."}}
	}
	root := doc.Content[0]
	w := &Workflow{File: file, Tasks: map[string]*Task{}}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		seen[k.Value] = true
		switch k.Value {
		case "version":
			w.Version = v.Value
			if v.Value != "1.0" && v.Value != "1" {
				p.errorf(v, "", "version: found %q, expected 1.0", v.Value)
			}
		case "description":
			w.Description = v.Value
		case "input":
			w.Input = p.params(v, "input", true)
		case "vars":
			w.Vars = p.params(v, "vars", false)
		case "output":
			w.Output = p.params(v, "output", false)
		case "tasks":
			p.tasks(v, w)
		default:
			p.errorf(k, "", "unknown field %q%s: expected version, description, input, vars, output or tasks", k.Value, spell.Suggest(k.Value, []string{"version", "description", "input", "vars", "output", "tasks"}))
		}
	}
	if !seen["tasks"] {
		p.errorf(root, "", "tasks: missing: a workflow needs at least one task")
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return w, nil
}

// params reads a list of names or {name: value} maps (Orquesta's form), or a
// plain mapping.
func (p *parser) params(n *yaml.Node, field string, namesAllowed bool) []Param {
	var out []Param
	add := func(k, v *yaml.Node) {
		var val any
		if err := v.Decode(&val); err != nil {
			p.errorf(v, "", "%s.%s: %v", field, k.Value, err)
			return
		}
		out = append(out, Param{Name: k.Value, Value: normalizeYAML(val), HasDefault: true, Pos: p.pos(k)})
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, e := range n.Content {
			switch {
			case e.Kind == yaml.ScalarNode && namesAllowed:
				out = append(out, Param{Name: e.Value, Pos: p.pos(e)})
			case e.Kind == yaml.MappingNode && len(e.Content) == 2:
				add(e.Content[0], e.Content[1])
			default:
				p.errorf(e, "", "%s: each entry is a name or a single {name: value}", field)
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			add(n.Content[i], n.Content[i+1])
		}
	default:
		p.errorf(n, "", "%s: expected a list", field)
	}
	for _, prm := range out {
		if !isIdent(prm.Name) {
			p.errs = append(p.errs, &Error{Pos: prm.Pos, Msg: fmt.Sprintf("%s: %q is not a valid variable name (letters, digits and _, not starting with a digit)", field, prm.Name)})
		}
	}
	return out
}

var taskFields = []string{"action", "input", "next", "join", "with", "retry", "delay"}

func (p *parser) tasks(n *yaml.Node, w *Workflow) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "", "tasks: expected a mapping of task names to tasks")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if _, dup := w.Tasks[name]; dup {
			p.errorf(k, name, "defined twice")
			continue
		}
		if name == CmdFail || name == CmdNoop || name == CmdContinue {
			p.errorf(k, name, "%q is an engine command and cannot name a task", name)
			continue
		}
		t := &Task{Name: name, Pos: p.pos(k)}
		w.Tasks[name] = t
		w.Order = append(w.Order, name)
		if v.Kind != yaml.MappingNode {
			p.errorf(v, name, "expected a mapping with action, input, next...")
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			fk, fv := v.Content[j], v.Content[j+1]
			switch fk.Value {
			case "action":
				t.Action = fv.Value
			case "input":
				var m map[string]any
				if err := fv.Decode(&m); err != nil {
					p.errorf(fv, name, "input: expected a mapping of parameters: %v", err)
				}
				t.Input = normalizeMap(m)
			case "next":
				t.Next = p.transitions(fv, name)
			case "join":
				t.Join = fv.Value
				if fv.Value != "all" && !isPositiveInt(fv.Value) {
					p.errorf(fv, name, "join: found %q, expected all or a number of branches", fv.Value)
				}
			case "with":
				t.With = p.with(fv, name)
			case "retry":
				t.Retry = p.retry(fv, name)
			case "delay":
				var d any
				_ = fv.Decode(&d)
				t.Delay = normalizeYAML(d)
			default:
				p.errorf(fk, name, "unknown field %q%s: expected one of %s", fk.Value, spell.Suggest(fk.Value, taskFields), strings.Join(taskFields, ", "))
			}
		}
		if t.Action == "" {
			p.errorf(k, name, "action: missing: expected an action reference such as core.local")
		}
	}
}

func (p *parser) transitions(n *yaml.Node, task string) []Transition {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, task, "next: expected a list of {when, publish, do}")
		return nil
	}
	var out []Transition
	for _, e := range n.Content {
		if e.Kind != yaml.MappingNode {
			p.errorf(e, task, "next: each entry is a mapping with when, publish and do")
			continue
		}
		tr := Transition{Pos: p.pos(e)}
		for i := 0; i+1 < len(e.Content); i += 2 {
			k, v := e.Content[i], e.Content[i+1]
			switch k.Value {
			case "when":
				tr.When = v.Value
			case "publish":
				tr.Publish = p.params(v, "publish", false)
			case "do":
				switch v.Kind {
				case yaml.ScalarNode:
					for _, s := range strings.Split(v.Value, ",") {
						if s = strings.TrimSpace(s); s != "" {
							tr.Do = append(tr.Do, s)
						}
					}
				case yaml.SequenceNode:
					for _, s := range v.Content {
						tr.Do = append(tr.Do, s.Value)
					}
				default:
					p.errorf(v, task, "do: expected a task name or a list of task names")
				}
			default:
				p.errorf(k, task, "next: unknown field %q%s: expected when, publish or do", k.Value, spell.Suggest(k.Value, []string{"when", "publish", "do"}))
			}
		}
		out = append(out, tr)
	}
	return out
}

func (p *parser) with(n *yaml.Node, task string) *With {
	w := &With{Pos: p.pos(n)}
	switch n.Kind {
	case yaml.ScalarNode:
		w.Items = n.Value
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "items":
				w.Items = v.Value
			case "concurrency":
				var c any
				_ = v.Decode(&c)
				w.Concurrency = normalizeYAML(c)
			default:
				p.errorf(k, task, "with: unknown field %q: expected items or concurrency", k.Value)
			}
		}
	default:
		p.errorf(n, task, "with: expected {items, concurrency}")
	}
	if w.Items == "" {
		p.errorf(n, task, "with.items: missing: expected an expression giving the list to iterate, e.g. \"{%% $hosts %%}\"")
	}
	return w
}

func (p *parser) retry(n *yaml.Node, task string) *Retry {
	r := &Retry{Pos: p.pos(n), Count: 1}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, task, "retry: expected {when, count, delay}")
		return r
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "when":
			r.When = v.Value
		case "count":
			if err := v.Decode(&r.Count); err != nil || r.Count < 1 {
				p.errorf(v, task, "retry.count: found %q, expected a positive integer", v.Value)
			}
		case "delay":
			if err := v.Decode(&r.Delay); err != nil || r.Delay < 0 {
				p.errorf(v, task, "retry.delay: found %q, expected seconds (a non-negative number)", v.Value)
			}
		default:
			p.errorf(k, task, "retry: unknown field %q: expected when, count or delay", k.Value)
		}
	}
	return r
}

func isIdent(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !isIdentRune(c) {
			return false
		}
	}
	return true
}

func isIdentRune(c rune) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isPositiveInt(s string) bool {
	if s == "" || s == "0" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func normalizeYAML(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case []any:
		for i := range x {
			x[i] = normalizeYAML(x[i])
		}
		return x
	case map[string]any:
		return normalizeMap(x)
	}
	return v
}

func normalizeMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	for k, v := range m {
		m[k] = normalizeYAML(v)
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
