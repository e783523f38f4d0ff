package asl

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// jsonPath is a compiled JSONPath (the Jayway dialect Step Functions uses):
// $ (or $$ for the context object, or $name for a variable), then .name,
// ['name'], [n], [*], .*, ..name, [a,b], [start:end], [?(@.x op v)] and a
// trailing .length().
type jsonPath struct {
	src      string
	root     string // "$", "$$" or a variable name
	steps    []pathStep
	definite bool
	length   bool
}

type pathStep struct {
	kind    byte // 'n' name, 'i' index, '*' wildcard, 'd' deep scan name, 'u' union of names, 'x' union of indexes, 's' slice, 'f' filter
	name    string
	names   []string
	index   int
	indexes []int
	from    *int
	to      *int
	filter  *filterExpr
	deepAny bool
}

type filterExpr struct {
	path  []pathStep // relative to @
	op    string     // "" for existence
	value any
	and   []*filterExpr
	or    []*filterExpr
}

var errPath = errors.New("invalid path")

func parseJSONPath(src string) (*jsonPath, error) {
	if !strings.HasPrefix(src, "$") {
		return nil, fmt.Errorf("%w: must start with $", errPath)
	}
	p := &jsonPath{src: src, definite: true}
	i := 1
	switch {
	case strings.HasPrefix(src, "$$"):
		p.root = "$$"
		i = 2
	case len(src) > 1 && isIdentStart(rune(src[1])):
		j := 1
		for j < len(src) && isIdentPart(rune(src[j])) {
			j++
		}
		p.root = src[1:j]
		i = j
	default:
		p.root = "$"
	}
	steps, end, err := parseSteps(src, i, false)
	if err != nil {
		return nil, err
	}
	if end != len(src) {
		return nil, fmt.Errorf("%w: unexpected %q at offset %d", errPath, src[end:], end)
	}
	if n := len(steps); n > 0 && steps[n-1].kind == 'n' && steps[n-1].name == "length()" {
		steps = steps[:n-1]
		p.length = true
	}
	p.steps = steps
	for _, s := range steps {
		if s.kind != 'n' && s.kind != 'i' {
			p.definite = false
		}
	}
	return p, nil
}

func isIdentStart(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || r >= '0' && r <= '9'
}

// parseSteps parses steps from src[i:], stopping at the end or (inFilter)
// at a character that cannot continue a path.
func parseSteps(src string, i int, inFilter bool) ([]pathStep, int, error) {
	var steps []pathStep
	for i < len(src) {
		c := src[i]
		switch {
		case c == '.' && i+1 < len(src) && src[i+1] == '.':
			i += 2
			if i < len(src) && src[i] == '*' {
				steps = append(steps, pathStep{kind: 'd', deepAny: true})
				i++
				continue
			}
			if i < len(src) && src[i] == '[' {
				steps = append(steps, pathStep{kind: 'd', deepAny: true})
				continue
			}
			name, j := readName(src, i)
			if name == "" {
				return nil, i, fmt.Errorf("%w: expected a name after '..' at offset %d", errPath, i)
			}
			steps = append(steps, pathStep{kind: 'd', name: name})
			i = j
		case c == '.':
			i++
			if i < len(src) && src[i] == '*' {
				steps = append(steps, pathStep{kind: '*'})
				i++
				continue
			}
			name, j := readName(src, i)
			if name == "" {
				return nil, i, fmt.Errorf("%w: expected a name after '.' at offset %d", errPath, i)
			}
			if strings.HasPrefix(src[j:], "()") {
				name += "()"
				j += 2
			}
			steps = append(steps, pathStep{kind: 'n', name: name})
			i = j
		case c == '[':
			st, j, err := parseBracket(src, i)
			if err != nil {
				return nil, i, err
			}
			steps = append(steps, st)
			i = j
		default:
			if inFilter {
				return steps, i, nil
			}
			return nil, i, fmt.Errorf("%w: unexpected %q at offset %d", errPath, c, i)
		}
	}
	return steps, i, nil
}

func readName(src string, i int) (string, int) {
	j := i
	for j < len(src) {
		c := src[j]
		if c == '.' || c == '[' || c == ' ' || c == ')' || c == '=' || c == '!' || c == '<' || c == '>' || c == '&' || c == '|' || c == '(' {
			break
		}
		j++
	}
	return src[i:j], j
}

func parseBracket(src string, i int) (pathStep, int, error) {
	end := matchingBracket(src, i)
	if end < 0 {
		return pathStep{}, i, fmt.Errorf("%w: unclosed '[' at offset %d", errPath, i)
	}
	body := strings.TrimSpace(src[i+1 : end])
	next := end + 1
	switch {
	case body == "*":
		return pathStep{kind: '*'}, next, nil
	case strings.HasPrefix(body, "?(") && strings.HasSuffix(body, ")"):
		f, err := parseFilter(strings.TrimSpace(body[2 : len(body)-1]))
		if err != nil {
			return pathStep{}, i, err
		}
		return pathStep{kind: 'f', filter: f}, next, nil
	case strings.HasPrefix(body, "'") || strings.HasPrefix(body, "\""):
		var names []string
		for _, part := range splitOp(body, ",") {
			part = strings.TrimSpace(part)
			if len(part) < 2 || (part[0] != '\'' && part[0] != '"') || part[len(part)-1] != part[0] {
				return pathStep{}, i, fmt.Errorf("%w: bad quoted name %s at offset %d", errPath, part, i)
			}
			names = append(names, part[1:len(part)-1])
		}
		if len(names) == 1 {
			return pathStep{kind: 'n', name: names[0]}, next, nil
		}
		return pathStep{kind: 'u', names: names}, next, nil
	case strings.Contains(body, ":"):
		parts := strings.SplitN(body, ":", 3)
		st := pathStep{kind: 's'}
		if s := strings.TrimSpace(parts[0]); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return pathStep{}, i, fmt.Errorf("%w: bad slice %q", errPath, body)
			}
			st.from = &n
		}
		if s := strings.TrimSpace(parts[1]); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return pathStep{}, i, fmt.Errorf("%w: bad slice %q", errPath, body)
			}
			st.to = &n
		}
		return st, next, nil
	default:
		var idx []int
		for _, part := range strings.Split(body, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return pathStep{}, i, fmt.Errorf("%w: bad index %q at offset %d", errPath, body, i)
			}
			idx = append(idx, n)
		}
		if len(idx) == 1 {
			return pathStep{kind: 'i', index: idx[0]}, next, nil
		}
		return pathStep{kind: 'x', indexes: idx}, next, nil
	}
}

func matchingBracket(src string, i int) int {
	depth := 0
	var quote byte
	for j := i; j < len(src); j++ {
		c := src[j]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

func parseFilter(s string) (*filterExpr, error) {
	if parts := splitOp(s, "||"); len(parts) > 1 {
		f := &filterExpr{}
		for _, p := range parts {
			sub, err := parseFilter(p)
			if err != nil {
				return nil, err
			}
			f.or = append(f.or, sub)
		}
		return f, nil
	}
	if parts := splitOp(s, "&&"); len(parts) > 1 {
		f := &filterExpr{}
		for _, p := range parts {
			sub, err := parseFilter(p)
			if err != nil {
				return nil, err
			}
			f.and = append(f.and, sub)
		}
		return f, nil
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		return parseFilter(s[1 : len(s)-1])
	}
	if !strings.HasPrefix(s, "@") {
		return nil, fmt.Errorf("%w: filter must start with @: %q", errPath, s)
	}
	steps, j, err := parseSteps(s, 1, true)
	if err != nil {
		return nil, err
	}
	f := &filterExpr{path: steps}
	rest := strings.TrimSpace(s[j:])
	if rest == "" {
		return f, nil
	}
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if strings.HasPrefix(rest, op) {
			f.op = op
			lit := strings.TrimSpace(rest[len(op):])
			switch {
			case strings.HasPrefix(lit, "'") && strings.HasSuffix(lit, "'") && len(lit) >= 2:
				f.value = lit[1 : len(lit)-1]
			case strings.HasPrefix(lit, "\"") && strings.HasSuffix(lit, "\"") && len(lit) >= 2:
				f.value = lit[1 : len(lit)-1]
			case lit == "true":
				f.value = true
			case lit == "false":
				f.value = false
			case lit == "null":
				f.value = nil
			default:
				n, err := strconv.ParseFloat(lit, 64)
				if err != nil {
					return nil, fmt.Errorf("%w: bad filter literal %q", errPath, lit)
				}
				f.value = n
			}
			return f, nil
		}
	}
	return nil, fmt.Errorf("%w: bad filter %q", errPath, s)
}

// splitOp splits s at every op outside quotes, parentheses and brackets.
func splitOp(s, op string) []string {
	var out []string
	var quote byte
	depth, start := 0, 0
	for j := 0; j+len(op) <= len(s); j++ {
		c := s[j]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		}
		if depth == 0 && s[j:j+len(op)] == op {
			out = append(out, s[start:j])
			start = j + len(op)
			j += len(op) - 1
		}
	}
	return append(out, s[start:])
}

// eval applies the path to root. For a definite path it returns the value
// and whether it exists; for an indefinite path, the array of matches.
func (p *jsonPath) eval(root any) (any, bool) {
	if p.definite {
		v, ok := walkDefinite(root, p.steps)
		if !ok {
			return nil, false
		}
		if p.length {
			if a, ok := v.([]any); ok {
				return float64(len(a)), true
			}
			if s, ok := v.(string); ok {
				return float64(len([]rune(s))), true
			}
			return nil, false
		}
		return v, true
	}
	res := applySteps([]any{root}, p.steps)
	if res == nil {
		res = []any{}
	}
	if p.length {
		return float64(len(res)), true
	}
	return res, true
}

func walkDefinite(v any, steps []pathStep) (any, bool) {
	for _, s := range steps {
		switch s.kind {
		case 'n':
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			v, ok = m[s.name]
			if !ok {
				return nil, false
			}
		case 'i':
			a, ok := v.([]any)
			if !ok {
				return nil, false
			}
			i := s.index
			if i < 0 {
				i += len(a)
			}
			if i < 0 || i >= len(a) {
				return nil, false
			}
			v = a[i]
		}
	}
	return v, true
}

func applySteps(cur []any, steps []pathStep) []any {
	for _, s := range steps {
		var next []any
		for _, v := range cur {
			switch s.kind {
			case 'n':
				if m, ok := v.(map[string]any); ok {
					if e, ok := m[s.name]; ok {
						next = append(next, e)
					}
				}
			case 'u':
				if m, ok := v.(map[string]any); ok {
					for _, n := range s.names {
						if e, ok := m[n]; ok {
							next = append(next, e)
						}
					}
				}
			case 'i', 'x':
				if a, ok := v.([]any); ok {
					idx := s.indexes
					if s.kind == 'i' {
						idx = []int{s.index}
					}
					for _, i := range idx {
						if i < 0 {
							i += len(a)
						}
						if i >= 0 && i < len(a) {
							next = append(next, a[i])
						}
					}
				}
			case '*':
				switch x := v.(type) {
				case []any:
					next = append(next, x...)
				case map[string]any:
					for _, k := range sortedKeys(x) {
						next = append(next, x[k])
					}
				}
			case 's':
				if a, ok := v.([]any); ok {
					from, to := 0, len(a)
					if s.from != nil {
						from = *s.from
						if from < 0 {
							from += len(a)
						}
					}
					if s.to != nil {
						to = *s.to
						if to < 0 {
							to += len(a)
						}
					}
					from = max(0, min(from, len(a)))
					to = max(from, min(to, len(a)))
					next = append(next, a[from:to]...)
				}
			case 'f':
				switch x := v.(type) {
				case []any:
					for _, e := range x {
						if s.filter.match(e) {
							next = append(next, e)
						}
					}
				case map[string]any:
					if s.filter.match(x) {
						next = append(next, x)
					}
				}
			case 'd':
				deepScan(v, s, &next)
			}
		}
		cur = next
	}
	return cur
}

func deepScan(v any, s pathStep, out *[]any) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if s.deepAny || k == s.name {
				*out = append(*out, x[k])
			}
		}
		for _, k := range sortedKeys(x) {
			deepScan(x[k], s, out)
		}
	case []any:
		for _, e := range x {
			if s.deepAny {
				*out = append(*out, e)
			}
			deepScan(e, s, out)
		}
	}
}

func (f *filterExpr) match(v any) bool {
	if f.and != nil {
		for _, s := range f.and {
			if !s.match(v) {
				return false
			}
		}
		return true
	}
	if f.or != nil {
		for _, s := range f.or {
			if s.match(v) {
				return true
			}
		}
		return false
	}
	got, ok := walkDefinite(v, f.path)
	if !ok {
		return false
	}
	if f.op == "" {
		return true
	}
	switch want := f.value.(type) {
	case float64:
		g, ok := got.(float64)
		if !ok {
			return false
		}
		switch f.op {
		case "==":
			return g == want
		case "!=":
			return g != want
		case "<":
			return g < want
		case ">":
			return g > want
		case "<=":
			return g <= want
		case ">=":
			return g >= want
		}
	case string:
		g, ok := got.(string)
		if !ok {
			return f.op == "!="
		}
		c := strings.Compare(g, want)
		return compareResult(map[string]string{"==": "Equals", "!=": "", "<": "LessThan", ">": "GreaterThan", "<=": "LessThanEquals", ">=": "GreaterThanEquals"}[f.op], "", c) || (f.op == "!=" && c != 0)
	default:
		eq := jsonEqual(got, want)
		return (f.op == "==" && eq) || (f.op == "!=" && !eq)
	}
	return false
}

// isReferencePath reports whether a path only names one node (usable as
// ResultPath).
func isReferencePath(s string) bool {
	p, err := parseJSONPath(s)
	return err == nil && p.definite && p.root == "$" && !p.length
}

// setPath returns a copy of root with value placed at the reference path
// (creating objects on the way), or an error when the path runs through a
// value that is not an object. It also returns by how much the JSON size
// (jsonSize) of the result differs from root's, counting only the values
// it replaces and inserts (sizes of values beyond limit are cut short, so
// that a result whose size exceeds limit still shows as such).
func setPath(root any, p *jsonPath, value any, limit int) (any, int, error) {
	if len(p.steps) == 0 {
		return value, jsonSize(value, limit) - jsonSize(root, limit), nil
	}
	return setSteps(root, p.steps, value, p.src, limit)
}

func setSteps(cur any, steps []pathStep, value any, src string, limit int) (any, int, error) {
	if len(steps) == 0 {
		return value, jsonSize(value, limit) - jsonSize(cur, limit), nil
	}
	s := steps[0]
	switch s.kind {
	case 'n':
		var m map[string]any
		delta := 0
		switch x := cur.(type) {
		case map[string]any:
			// values are never mutated once built: a shallow copy along
			// the path shares everything else with the input
			m = maps.Clone(x)
			if m == nil {
				m = map[string]any{}
			}
		case nil:
			m = map[string]any{}
			delta = 2 - 4 // {} instead of null
		default:
			return nil, 0, fmt.Errorf("cannot set field %q of a %s", s.name, jsonTypeName(cur))
		}
		old, had := m[s.name]
		child, d, err := setSteps(old, steps[1:], value, src, limit)
		if err != nil {
			return nil, 0, err
		}
		if !had {
			// a new member: a separator, the quoted name, a colon and
			// the child, whose size d counts from null
			delta += 1 + 3 + len(s.name) + 4
		}
		m[s.name] = child
		return m, delta + d, nil
	case 'i':
		a, ok := cur.([]any)
		i := s.index
		if i < 0 && ok {
			i += len(a)
		}
		if !ok || i < 0 || i >= len(a) {
			return nil, 0, fmt.Errorf("index %d out of range", s.index)
		}
		out := append([]any(nil), a...)
		child, d, err := setSteps(out[i], steps[1:], value, src, limit)
		if err != nil {
			return nil, 0, err
		}
		out[i] = child
		return out, d, nil
	}
	return nil, 0, fmt.Errorf("path %s is not a reference path", src)
}
