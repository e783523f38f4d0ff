package pack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bwc-project/bwc/internal/spell"
)

// file is one YAML file being read: its path (as diagnostics show it) and
// the loader that collects diagnostics.
type file struct {
	l    *loader
	path string
}

func (f *file) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: f.path}
	}
	return Pos{File: f.path, Line: n.Line, Col: n.Column}
}

func (f *file) errorf(n *yaml.Node, field, format string, args ...any) {
	f.l.diags = append(f.l.diags, Diagnostic{Pos: f.pos(n), Field: field, Message: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse reads a YAML document that must be a mapping (what describes the
// file, for the message when it is not). It returns nil after reporting
// the problem when the file cannot be used.
func (f *file) parse(src []byte, what string) *yaml.Node {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			f.l.diags = append(f.l.diags, Diagnostic{Pos: Pos{File: f.path, Line: 1, Col: 1}, Message: "empty file: expected " + what})
			return nil
		}
		f.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		f.errorf(&extra, "", "a second YAML document (after ---): expected one document per file")
	} else if !errors.Is(err, io.EOF) {
		f.yamlError(err)
	}
	if len(doc.Content) == 0 {
		f.l.diags = append(f.l.diags, Diagnostic{Pos: Pos{File: f.path, Line: 1, Col: 1}, Message: "empty file: expected " + what})
		return nil
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		f.errorf(root, "", "found %s, expected %s", describe(root), what)
		return nil
	}
	return root
}

func (f *file) yamlError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	f.l.diags = append(f.l.diags, Diagnostic{Pos: Pos{File: f.path, Line: line, Col: 1}, Message: "invalid YAML: " + msg})
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// entry is one key and value of a mapping.
type entry struct {
	key, val *yaml.Node
}

// mapping is a YAML mapping read with known fields.
type mapping struct {
	node   *yaml.Node
	fields map[string]entry
	order  []string
}

func (m *mapping) get(name string) (entry, bool) {
	e, ok := m.fields[name]
	return e, ok
}

// fields reads a mapping: it reports duplicate keys and (when allowed is not
// nil) keys that are not allowed, with a suggestion for near misses. prefix
// is the dotted path of the mapping for diagnostics ("" at the top).
func (f *file) fields(n *yaml.Node, prefix string, allowed []string) *mapping {
	m := &mapping{node: n, fields: map[string]entry{}}
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return m
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		name := k.Value
		if k.Kind != yaml.ScalarNode {
			f.errorf(k, prefix, "found %s as a key, expected a name", describe(k))
			continue
		}
		if first, dup := m.fields[name]; dup {
			f.errorf(k, join(prefix, name), "defined twice (first at line %d): expected each key once", first.key.Line)
			continue
		}
		if allowed != nil && !ok[name] {
			f.errorf(k, join(prefix, name), "unknown field%s: expected one of %s", spell.Suggest(name, allowed), strings.Join(allowed, ", "))
			continue
		}
		m.fields[name] = entry{key: k, val: v}
		m.order = append(m.order, name)
	}
	return m
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// describe names a node's kind for "found X" messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean (" + n.Value + ")"
		case "!!int", "!!float":
			return "a number (" + n.Value + ")"
		case "!!str":
			return fmt.Sprintf("a string (%q)", truncate(n.Value, 40))
		}
		return fmt.Sprintf("%q", truncate(n.Value, 40))
	}
	return "an unexpected value"
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

// str reads a string field. It reports anything else; ok is false then.
func (f *file) str(e entry, field string) (string, bool) {
	if e.val.Kind == yaml.ScalarNode && e.val.ShortTag() == "!!str" {
		return e.val.Value, true
	}
	f.errorf(e.val, field, "found %s, expected a string", describe(e.val))
	return "", false
}

// scalarString reads a scalar as text (a version such as 1.0 is a number in
// YAML).
func (f *file) scalarString(e entry, field string) (string, bool) {
	if e.val.Kind == yaml.ScalarNode && e.val.ShortTag() != "!!null" {
		return e.val.Value, true
	}
	f.errorf(e.val, field, "found %s, expected a string", describe(e.val))
	return "", false
}

func (f *file) boolean(e entry, field string) (bool, bool) {
	if e.val.Kind == yaml.ScalarNode && e.val.ShortTag() == "!!bool" {
		var b bool
		if err := e.val.Decode(&b); err == nil {
			return b, true
		}
	}
	f.errorf(e.val, field, "found %s, expected true or false", describe(e.val))
	return false, false
}

func (f *file) integer(e entry, field string) (int, bool) {
	if e.val.Kind == yaml.ScalarNode && e.val.ShortTag() == "!!int" {
		var i int
		if err := e.val.Decode(&i); err == nil {
			return i, true
		}
	}
	f.errorf(e.val, field, "found %s, expected an integer", describe(e.val))
	return 0, false
}

func (f *file) stringList(e entry, field string) []string {
	n := e.val
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		f.errorf(n, field, "found %s, expected a list of strings", describe(n))
		return nil
	}
	var out []string
	for i, c := range n.Content {
		c = resolve(c)
		if c.Kind != yaml.ScalarNode || c.ShortTag() == "!!null" || c.ShortTag() == "!!bool" {
			f.errorf(c, fmt.Sprintf("%s[%d]", field, i), "found %s, expected a string", describe(c))
			continue
		}
		out = append(out, c.Value)
	}
	return out
}

// object reads a mapping as a JSON-compatible map.
func (f *file) object(e entry, field string) (map[string]any, bool) {
	n := e.val
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		f.errorf(n, field, "found %s, expected a mapping", describe(n))
		return nil, false
	}
	v, ok := f.value(n, field).(map[string]any)
	return v, ok
}

// value decodes any node into JSON-compatible values (map[string]any,
// []any, string, float64, bool, nil).
func (f *file) value(n *yaml.Node, field string) any {
	var v any
	if err := n.Decode(&v); err != nil {
		f.errorf(n, field, "cannot read the value: %v", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil
	}
	return normalize(v)
}

// normalize turns decoded YAML into JSON-compatible values.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint:
		return float64(x)
	case uint8:
		return float64(x)
	case uint16:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return normalize(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return x
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(normalize(k))] = normalize(e)
		}
		return out
	}
	return v
}

// nodeAt finds the node a JSON pointer's tokens lead to below n, as deep as
// the tokens match.
func nodeAt(n *yaml.Node, tokens []string) *yaml.Node {
	n = resolve(n)
	if n == nil {
		return nil
	}
	for _, t := range tokens {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == t {
					next = resolve(n.Content[i+1])
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(t); err == nil && i >= 0 && i < len(n.Content) {
				next = resolve(n.Content[i])
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// keyNode returns the key node of name in mapping n, or n.
func keyNode(n *yaml.Node, name string) *yaml.Node {
	n = resolve(n)
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				return n.Content[i]
			}
		}
	}
	return n
}
