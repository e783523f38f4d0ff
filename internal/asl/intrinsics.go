package asl

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/bwc-project/bwc/internal/jsonata"
)

// intrinsicCall is a parsed intrinsic function call, e.g.
// States.Format('{} {}', $.a, States.UUID()).
type intrinsicCall struct {
	Name string
	Args []intrinsicArg
}

type intrinsicArg struct {
	Literal any
	IsLit   bool
	Path    string
	Call    *intrinsicCall
	ref     pathRef // Path compiled
}

var intrinsicArity = map[string][2]int{ // min, max (-1: any)
	"States.Format": {1, -1}, "States.StringToJson": {1, 1}, "States.JsonToString": {1, 1},
	"States.Array": {0, -1}, "States.ArrayPartition": {2, 2}, "States.ArrayContains": {2, 2},
	"States.ArrayRange": {3, 3}, "States.ArrayGetItem": {2, 2}, "States.ArrayLength": {1, 1},
	"States.ArrayUnique": {1, 1}, "States.Base64Encode": {1, 1}, "States.Base64Decode": {1, 1},
	"States.Hash": {2, 2}, "States.JsonMerge": {3, 3}, "States.MathRandom": {2, 3},
	"States.MathAdd": {2, 2}, "States.StringSplit": {2, 2}, "States.UUID": {0, 0},
}

func parseIntrinsic(src string) (*intrinsicCall, error) {
	ip := &intrinsicParser{s: src}
	c, err := ip.call()
	if err != nil {
		return nil, err
	}
	ip.ws()
	if ip.i != len(ip.s) {
		return nil, fmt.Errorf("unexpected %q after the call", ip.s[ip.i:])
	}
	return c, nil
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *intrinsicParser) call() (*intrinsicCall, error) {
	p.ws()
	start := p.i
	for p.i < len(p.s) && (isIdentPart(rune(p.s[p.i])) || p.s[p.i] == '.') {
		p.i++
	}
	name := p.s[start:p.i]
	ar, ok := intrinsicArity[name]
	if !ok {
		return nil, fmt.Errorf("unknown function %q", name)
	}
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, fmt.Errorf("expected '(' after %s", name)
	}
	p.i++
	c := &intrinsicCall{Name: name}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.Args = append(c.Args, a)
			p.ws()
			if p.i >= len(p.s) {
				return nil, fmt.Errorf("missing ')' in %s", name)
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			return nil, fmt.Errorf("unexpected %q in the arguments of %s", p.s[p.i], name)
		}
	}
	if len(c.Args) < ar[0] || (ar[1] >= 0 && len(c.Args) > ar[1]) {
		return nil, fmt.Errorf("%s takes %s, found %d", name, arityText(ar), len(c.Args))
	}
	return c, nil
}

func arityText(ar [2]int) string {
	switch {
	case ar[1] < 0:
		return fmt.Sprintf("at least %d arguments", ar[0])
	case ar[0] == ar[1]:
		return fmt.Sprintf("%d arguments", ar[0])
	}
	return fmt.Sprintf("%d to %d arguments", ar[0], ar[1])
}

func (p *intrinsicParser) arg() (intrinsicArg, error) {
	p.ws()
	if p.i >= len(p.s) {
		return intrinsicArg{}, fmt.Errorf("missing argument")
	}
	c := p.s[p.i]
	switch {
	case c == '\'':
		p.i++
		var b strings.Builder
		for p.i < len(p.s) {
			ch := p.s[p.i]
			if ch == '\\' && p.i+1 < len(p.s) {
				b.WriteByte('\\')
				b.WriteByte(p.s[p.i+1])
				p.i += 2
				continue
			}
			if ch == '\'' {
				p.i++
				return intrinsicArg{Literal: b.String(), IsLit: true}, nil
			}
			b.WriteByte(ch)
			p.i++
		}
		return intrinsicArg{}, fmt.Errorf("unterminated string")
	case c == '$':
		start := p.i
		depth := 0
		var quote byte
		for p.i < len(p.s) {
			ch := p.s[p.i]
			if quote != 0 {
				if ch == quote {
					quote = 0
				}
				p.i++
				continue
			}
			if ch == '\'' || ch == '"' {
				if depth > 0 {
					quote = ch
				}
			}
			if ch == '[' || ch == '(' {
				depth++
			}
			if ch == ']' || ch == ')' {
				if depth == 0 {
					break
				}
				depth--
			}
			if ch == ',' && depth == 0 {
				break
			}
			p.i++
		}
		path := strings.TrimSpace(p.s[start:p.i])
		if _, err := parseJSONPath(path); err != nil {
			return intrinsicArg{}, err
		}
		return intrinsicArg{Path: path}, nil
	case strings.HasPrefix(p.s[p.i:], "States."):
		call, err := p.call()
		if err != nil {
			return intrinsicArg{}, err
		}
		return intrinsicArg{Call: call}, nil
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ')' {
		p.i++
	}
	lit := strings.TrimSpace(p.s[start:p.i])
	switch lit {
	case "true":
		return intrinsicArg{Literal: true, IsLit: true}, nil
	case "false":
		return intrinsicArg{Literal: false, IsLit: true}, nil
	case "null":
		return intrinsicArg{Literal: nil, IsLit: true}, nil
	}
	n, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return intrinsicArg{}, fmt.Errorf("invalid argument %q", lit)
	}
	return intrinsicArg{Literal: n, IsLit: true}, nil
}

// unescapeLiteral removes the escapes of a quoted intrinsic string argument.
func unescapeLiteral(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func intrinsicFailure(format string, args ...any) error {
	return &Failure{Name: ErrIntrinsicFailure, Cause: fmt.Sprintf(format, args...)}
}

// callIntrinsic evaluates an intrinsic call; resolve evaluates path arguments.
func (x *run) callIntrinsic(fr *frame, c *intrinsicCall, input any) (any, error) {
	args := make([]any, len(c.Args))
	raw := make([]string, len(c.Args)) // format strings keep their escapes
	for i, a := range c.Args {
		switch {
		case a.Call != nil:
			v, err := x.callIntrinsic(fr, a.Call, input)
			if err != nil {
				return nil, err
			}
			args[i] = v
		case a.Path != "":
			v, ok, err := x.argValue(fr, &a, input)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The JsonPath argument for the field '%s' could not be found in the input '%s'", a.Path, compactJSON(input))}
			}
			args[i] = v
		default:
			if s, ok := a.Literal.(string); ok {
				raw[i] = s
				args[i] = unescapeLiteral(s)
			} else {
				args[i] = a.Literal
			}
		}
	}
	switch c.Name {
	case "States.Format":
		tmpl, ok := args[0].(string)
		if !ok {
			return nil, intrinsicFailure("The first argument of States.Format must be a string")
		}
		if c.Args[0].IsLit {
			tmpl = raw[0]
		}
		var b strings.Builder
		next := 1
		for i := 0; i < len(tmpl); i++ {
			ch := tmpl[i]
			if ch == '\\' && i+1 < len(tmpl) {
				i++
				b.WriteByte(tmpl[i])
				continue
			}
			if ch == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}' {
				if next >= len(args) {
					return nil, intrinsicFailure("Number of arguments in States.Format does not match the number of placeholders")
				}
				b.WriteString(formatArg(args[next]))
				next++
				i++
				continue
			}
			b.WriteByte(ch)
		}
		if next != len(args) {
			return nil, intrinsicFailure("Number of arguments in States.Format does not match the number of placeholders")
		}
		return b.String(), nil
	case "States.StringToJson":
		s, ok := args[0].(string)
		if !ok {
			return nil, intrinsicFailure("The argument of States.StringToJson must be a string")
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, intrinsicFailure("The argument of States.StringToJson is not valid JSON: %v", err)
		}
		return v, nil
	case "States.JsonToString":
		return compactJSON(args[0]), nil
	case "States.Array":
		out := make([]any, len(args))
		copy(out, args)
		return out, nil
	case "States.ArrayPartition":
		a, ok := args[0].([]any)
		n, ok2 := args[1].(float64)
		if !ok || !ok2 || n < 1 || n != math.Trunc(n) {
			return nil, intrinsicFailure("States.ArrayPartition needs an array and a positive integer chunk size")
		}
		out := []any{}
		for i := 0; i < len(a); i += int(n) {
			end := min(i+int(n), len(a))
			out = append(out, append([]any{}, a[i:end]...))
		}
		return out, nil
	case "States.ArrayContains":
		a, ok := args[0].([]any)
		if !ok {
			return nil, intrinsicFailure("The first argument of States.ArrayContains must be an array")
		}
		for _, e := range a {
			if jsonEqual(e, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		var n [3]float64
		for i := range n {
			f, ok := args[i].(float64)
			if !ok || f != math.Trunc(f) {
				return nil, intrinsicFailure("The arguments of States.ArrayRange must be integers")
			}
			n[i] = f
		}
		if n[2] == 0 {
			return nil, intrinsicFailure("The step of States.ArrayRange must not be 0")
		}
		out := []any{}
		for v := n[0]; (n[2] > 0 && v <= n[1]) || (n[2] < 0 && v >= n[1]); v += n[2] {
			out = append(out, v)
			if len(out) > 1000 {
				return nil, intrinsicFailure("States.ArrayRange would return more than 1000 elements")
			}
		}
		return out, nil
	case "States.ArrayGetItem":
		a, ok := args[0].([]any)
		f, ok2 := args[1].(float64)
		if !ok || !ok2 || f != math.Trunc(f) {
			return nil, intrinsicFailure("States.ArrayGetItem needs an array and an integer index")
		}
		if f < 0 || int(f) >= len(a) {
			return nil, intrinsicFailure("The index %v is out of range for States.ArrayGetItem", f)
		}
		return a[int(f)], nil
	case "States.ArrayLength":
		a, ok := args[0].([]any)
		if !ok {
			return nil, intrinsicFailure("The argument of States.ArrayLength must be an array")
		}
		return float64(len(a)), nil
	case "States.ArrayUnique":
		a, ok := args[0].([]any)
		if !ok {
			return nil, intrinsicFailure("The argument of States.ArrayUnique must be an array")
		}
		out := []any{}
		for _, e := range a {
			dup := false
			for _, o := range out {
				if jsonEqual(e, o) {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, e)
			}
		}
		return out, nil
	case "States.Base64Encode":
		s, ok := args[0].(string)
		if !ok {
			return nil, intrinsicFailure("The argument of States.Base64Encode must be a string")
		}
		if len(s) > 10000 {
			return nil, intrinsicFailure("The input to States.Base64Encode is longer than 10000 characters")
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, ok := args[0].(string)
		if !ok {
			return nil, intrinsicFailure("The argument of States.Base64Decode must be a string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, intrinsicFailure("The argument of States.Base64Decode is not valid base64")
		}
		return string(b), nil
	case "States.Hash":
		alg, ok := args[1].(string)
		if !ok {
			return nil, intrinsicFailure("The algorithm of States.Hash must be a string")
		}
		h, ok := jsonata.NewHash(alg)
		if !ok {
			return nil, intrinsicFailure("Unsupported hashing algorithm %q: expected MD5, SHA-1, SHA-256, SHA-384 or SHA-512", alg)
		}
		data, ok := args[0].(string)
		if !ok {
			data = compactJSON(args[0])
		}
		h.Write([]byte(data))
		return hex.EncodeToString(h.Sum(nil)), nil
	case "States.JsonMerge":
		a, ok := args[0].(map[string]any)
		b, ok2 := args[1].(map[string]any)
		deep, ok3 := args[2].(bool)
		if !ok || !ok2 || !ok3 {
			return nil, intrinsicFailure("States.JsonMerge needs two objects and a boolean")
		}
		if deep {
			return nil, intrinsicFailure("States.JsonMerge: deep merging is not supported")
		}
		out := make(map[string]any, len(a)+len(b))
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out, nil
	case "States.MathRandom":
		lo, ok := args[0].(float64)
		hi, ok2 := args[1].(float64)
		if !ok || !ok2 {
			return nil, intrinsicFailure("The arguments of States.MathRandom must be numbers")
		}
		lo, hi = math.Floor(lo+0.5), math.Floor(hi+0.5)
		r := x.in.random
		if len(args) == 3 {
			seed, ok := args[2].(float64)
			if !ok {
				return nil, intrinsicFailure("The seed of States.MathRandom must be an integer")
			}
			src := rand.New(rand.NewPCG(uint64(int64(seed)), 0))
			r = src.Float64
		}
		if hi <= lo {
			return lo, nil
		}
		return lo + math.Floor(r()*(hi-lo)), nil
	case "States.MathAdd":
		a, ok := args[0].(float64)
		b, ok2 := args[1].(float64)
		if !ok || !ok2 {
			return nil, intrinsicFailure("The arguments of States.MathAdd must be numbers")
		}
		// Step Functions rounds each argument half up (Java's Math.round).
		return math.Floor(a+0.5) + math.Floor(b+0.5), nil
	case "States.StringSplit":
		s, ok := args[0].(string)
		sep, ok2 := args[1].(string)
		if !ok || !ok2 {
			return nil, intrinsicFailure("The arguments of States.StringSplit must be strings")
		}
		out := []any{}
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(sep, r) }) {
			out = append(out, part)
		}
		return out, nil
	case "States.UUID":
		return x.in.newUUID(), nil
	}
	return nil, intrinsicFailure("unknown intrinsic function %s", c.Name)
}

func formatArg(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case float64:
		return formatNumber(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return javaString(v)
}

// javaString renders objects and arrays as Step Functions' States.Format
// does (Java's Map/List toString): {a=1, b=[x, y]}.
func javaString(v any) string {
	switch x := v.(type) {
	case map[string]any:
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(javaString(x[k]))
		}
		b.WriteByte('}')
		return b.String()
	case []any:
		var b strings.Builder
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(javaString(e))
		}
		b.WriteByte(']')
		return b.String()
	}
	return formatArg(v)
}

func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// argValue evaluates a path argument.
func (x *run) argValue(fr *frame, a *intrinsicArg, input any) (any, bool, error) {
	if a.ref.jp != nil || a.ref.call != nil {
		return x.refValue(fr, &a.ref, input, nil)
	}
	return x.pathValue(fr, a.Path, input)
}
