package pattern

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error Parse returns for a pattern that
// EventBridge would reject (InvalidEventPatternException).
var ErrInvalid = errors.New("invalid event pattern")

// maxClauses bounds the expansion of nested $or into alternatives.
const maxClauses = 1024

// wildcardComplexityLimit is the largest number of wildcard matcher states one
// field's wildcard patterns may keep active at once for some input; above it
// the pattern is rejected as too complex, as EventBridge does.
const wildcardComplexityLimit = 10

// Pattern is a parsed, validated event pattern. It is immutable.
type Pattern struct {
	// clauses is the pattern in disjunctive form: it matches an event when
	// any clause does; a clause matches when all its fields do.
	clauses []clause
}

// clause is one $or alternative: a conjunction of fields sorted by path.
type clause []field

// field is one pattern leaf: the event path and the conditions, any one of
// which satisfies the field.
type field struct {
	path  string
	conds []cond
	// absent is true when the field has {"exists": false}: it is also
	// satisfied when the event has no leaf at path.
	absent bool
	// key is a canonical text of conds and absent: fields with equal keys
	// share automaton states.
	key string
}

// condKind is the kind of one condition.
type condKind uint8

const (
	condString      condKind = iota // exact string
	condNumber                      // exact number (also numeric "=")
	condTrue                        // exact true
	condFalse                       // exact false
	condNull                        // exact null
	condPrefix                      // prefix (fold: equals-ignore-case)
	condSuffix                      // suffix (fold: equals-ignore-case)
	condEqualsFold                  // equals-ignore-case
	condWildcard                    // wildcard
	condNumeric                     // numeric range
	condCIDR                        // cidr
	condExists                      // exists: true
	condAnyValue                    // anything-but value(s): strs / nums
	condAnyPrefix                   // anything-but prefix(es)
	condAnySuffix                   // anything-but suffix(es)
	condAnyFold                     // anything-but equals-ignore-case (strs lower-cased)
	condAnyWildcard                 // anything-but wildcard(s)
)

// cond is one condition on a leaf value.
type cond struct {
	kind condKind
	fold bool      // prefix / suffix with equals-ignore-case
	str  string    // string operand (lower-cased when folded)
	num  float64   // number operand
	strs []string  // anything-but strings / prefixes / suffixes
	nums []float64 // anything-but numbers
	wild []wildcard
	rng  numRange
	cidr netip.Prefix
}

type numRange struct {
	lo, hi         float64
	loIncl, hiIncl bool
}

func (r numRange) contains(x float64) bool {
	if x < r.lo || (x == r.lo && !r.loIncl) {
		return false
	}
	if x > r.hi || (x == r.hi && !r.hiIncl) {
		return false
	}
	return true
}

// key is a canonical text for the condition, used to share automaton states.
func (c *cond) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%t/%q/%v/%q/%v/%v/%s", c.kind, c.fold, c.str, c.num, c.strs, c.nums, c.rng, c.cidr)
	for _, w := range c.wild {
		fmt.Fprintf(&b, "/%q", w.src)
	}
	return b.String()
}

// reserved lists the operator names; an object in a "$or" list that uses one
// of them as a key means "$or" is an ordinary field name there.
var reserved = [...]string{"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr"}

// Parse parses and validates an EventBridge event pattern. Errors wrap
// ErrInvalid and name the field path and the reason.
func Parse(src []byte) (*Pattern, error) {
	root, err := parseJSON(src)
	if err != nil {
		return nil, fmt.Errorf("%w: not valid JSON: %w", ErrInvalid, err)
	}
	if root.kind != kindObject {
		return nil, fmt.Errorf("%w: the pattern must be a JSON object, found %s", ErrInvalid, root.kind)
	}
	clauses, err := compileObject(root, "", true)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for _, c := range clauses {
		if err := checkWildcardComplexity(c); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	return &Pattern{clauses: clauses}, nil
}

// joinPath is the path of member key of the object at prefix; top is true
// for the members of the outermost object. Keys join with ".", so
// {"a": {"b": ...}} and {"a.b": ...} name the same path, as in EventBridge.
func joinPath(prefix, key string, top bool) string {
	if top {
		return key
	}
	return prefix + "." + key
}

// isOr reports whether member m is the $or primitive (as opposed to an
// ordinary field named "$or"): an array of two or more objects none of which
// uses an operator name as a key.
func isOr(m jmember) bool {
	if m.key != "$or" || m.value.kind != kindArray || len(m.value.items) < 2 {
		return false
	}
	for _, it := range m.value.items {
		if it.kind != kindObject {
			return false
		}
		for _, mm := range it.members {
			if slices.Contains(reserved[:], mm.key) {
				return false
			}
		}
	}
	return true
}

// compileObject compiles the members of a pattern object at path prefix into
// clauses (the cross product of its $or alternatives).
func compileObject(obj *jvalue, prefix string, top bool) ([]clause, error) {
	// A repeated key keeps its last value, as EventBridge's JSON reader does.
	last := map[string]int{}
	for i, m := range obj.members {
		last[m.key] = i
	}
	result := []clause{{}}
	for i, m := range obj.members {
		if last[m.key] != i && m.key != "$or" {
			continue
		}
		var alts []clause
		switch {
		case isOr(m):
			for j, it := range m.value.items {
				sub, err := compileObject(it, prefix, top)
				if err != nil {
					return nil, err
				}
				if len(sub) == 1 && len(sub[0]) == 0 {
					return nil, fmt.Errorf("%s[%d]: an alternative of $or has no fields", joinPath(prefix, "$or", top), j)
				}
				alts = append(alts, sub...)
			}
		case m.value.kind == kindObject:
			sub, err := compileObject(m.value, joinPath(prefix, m.key, top), false)
			if err != nil {
				return nil, err
			}
			alts = sub
		case m.value.kind == kindArray:
			f, err := compileField(joinPath(prefix, m.key, top), m.value)
			if err != nil {
				return nil, err
			}
			alts = []clause{{f}}
		default:
			return nil, fmt.Errorf("%s: found %s %s, expected an object or an array of match values", joinPath(prefix, m.key, top), m.value.kind, show(m.value))
		}
		if len(result)*len(alts) > maxClauses {
			return nil, fmt.Errorf("%s: $or expands to more than %d alternatives", joinPath(prefix, m.key, top), maxClauses)
		}
		next := make([]clause, 0, len(result)*len(alts))
		for _, r := range result {
			for _, a := range alts {
				c := make(clause, 0, len(r)+len(a))
				c = append(c, r...)
				c = append(c, a...)
				next = append(next, c)
			}
		}
		result = next
	}
	for _, c := range result {
		slices.SortStableFunc(c, func(a, b field) int { return strings.Compare(a.path, b.path) })
	}
	return result, nil
}

// show renders a small JSON value for an error message.
func show(v *jvalue) string {
	switch v.kind {
	case kindString:
		return strconv.Quote(v.str)
	case kindNumber:
		return v.str
	case kindTrue:
		return "true"
	case kindFalse:
		return "false"
	case kindNull:
		return "null"
	case kindArray:
		return "[...]"
	default:
		return "{...}"
	}
}

func compileField(path string, arr *jvalue) (field, error) {
	f := field{path: path}
	if len(arr.items) == 0 {
		return f, fmt.Errorf("%s: empty arrays are not allowed, expected at least one match value", path)
	}
	for i, it := range arr.items {
		where := fmt.Sprintf("%s[%d]", path, i)
		switch it.kind {
		case kindString:
			f.conds = append(f.conds, cond{kind: condString, str: it.str})
		case kindNumber:
			n, err := parseNumber(where, it.str)
			if err != nil {
				return f, err
			}
			f.conds = append(f.conds, cond{kind: condNumber, num: n})
		case kindTrue:
			f.conds = append(f.conds, cond{kind: condTrue})
		case kindFalse:
			f.conds = append(f.conds, cond{kind: condFalse})
		case kindNull:
			f.conds = append(f.conds, cond{kind: condNull})
		case kindArray:
			return f, fmt.Errorf("%s: found an array, expected a string, number, true, false, null or an operator object", where)
		case kindObject:
			if len(it.members) != 1 {
				return f, fmt.Errorf("%s: an operator object must have exactly one key, found %d", where, len(it.members))
			}
			c, absent, err := compileOperator(where, it.members[0])
			if err != nil {
				return f, err
			}
			if absent {
				f.absent = true
				continue
			}
			f.conds = append(f.conds, c)
		}
	}
	f.key = fieldKey(&f)
	return f, nil
}

func parseNumber(where, lit string) (float64, error) {
	n, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(n, 0) {
		return 0, fmt.Errorf("%s: number %s is out of range", where, lit)
	}
	if n == 0 {
		n = 0 // -0 equals 0
	}
	return n, nil
}

// compileOperator compiles {"op": value}. absent reports {"exists": false}.
func compileOperator(where string, m jmember) (c cond, absent bool, err error) {
	v := m.value
	where = where + "." + m.key
	switch m.key {
	case "prefix", "suffix":
		kind := condPrefix
		if m.key == "suffix" {
			kind = condSuffix
		}
		switch {
		case v.kind == kindString:
			return cond{kind: kind, str: v.str}, false, nil
		case v.kind == kindObject && len(v.members) == 1 && v.members[0].key == "equals-ignore-case":
			s := v.members[0].value
			if s.kind != kindString {
				return c, false, fmt.Errorf("%s.equals-ignore-case: found %s, expected a string", where, s.kind)
			}
			return cond{kind: kind, fold: true, str: strings.ToLower(s.str)}, false, nil
		default:
			return c, false, fmt.Errorf("%s: found %s, expected a string (or {\"equals-ignore-case\": string})", where, v.kind)
		}
	case "equals-ignore-case":
		if v.kind != kindString {
			return c, false, fmt.Errorf("%s: found %s, expected a string", where, v.kind)
		}
		return cond{kind: condEqualsFold, str: strings.ToLower(v.str)}, false, nil
	case "wildcard":
		if v.kind != kindString {
			return c, false, fmt.Errorf("%s: found %s, expected a string", where, v.kind)
		}
		w, err := parseWildcard(where, v.str)
		if err != nil {
			return c, false, err
		}
		return cond{kind: condWildcard, wild: []wildcard{w}}, false, nil
	case "exists":
		switch v.kind {
		case kindTrue:
			return cond{kind: condExists}, false, nil
		case kindFalse:
			return c, true, nil
		default:
			return c, false, fmt.Errorf("%s: found %s, expected true or false", where, v.kind)
		}
	case "numeric":
		r, err := parseNumeric(where, v)
		if err != nil {
			return c, false, err
		}
		if r.lo == r.hi && r.loIncl && r.hiIncl {
			return cond{kind: condNumber, num: r.lo}, false, nil
		}
		return cond{kind: condNumeric, rng: r}, false, nil
	case "cidr":
		if v.kind != kindString {
			return c, false, fmt.Errorf("%s: found %s, expected a CIDR block string such as \"10.0.0.0/24\"", where, v.kind)
		}
		p, err := parseCIDR(where, v.str)
		if err != nil {
			return c, false, err
		}
		return cond{kind: condCIDR, cidr: p}, false, nil
	case "anything-but":
		c, err := compileAnythingBut(where, v)
		return c, false, err
	default:
		return c, false, fmt.Errorf("%s: unrecognized match type %q, expected one of %s", where, m.key, strings.Join(reserved[:], ", "))
	}
}

func compileAnythingBut(where string, v *jvalue) (cond, error) {
	switch v.kind {
	case kindString:
		return cond{kind: condAnyValue, strs: []string{v.str}}, nil
	case kindNumber:
		n, err := parseNumber(where, v.str)
		if err != nil {
			return cond{}, err
		}
		return cond{kind: condAnyValue, nums: []float64{n}}, nil
	case kindArray:
		if len(v.items) == 0 {
			return cond{}, fmt.Errorf("%s: empty arrays are not allowed", where)
		}
		c := cond{kind: condAnyValue}
		for i, it := range v.items {
			switch it.kind {
			case kindString:
				c.strs = append(c.strs, it.str)
			case kindNumber:
				n, err := parseNumber(fmt.Sprintf("%s[%d]", where, i), it.str)
				if err != nil {
					return cond{}, err
				}
				c.nums = append(c.nums, n)
			default:
				return cond{}, fmt.Errorf("%s[%d]: found %s, expected a string or a number (null, booleans and objects are not supported inside an anything-but list)", where, i, it.kind)
			}
		}
		if len(c.strs) > 0 && len(c.nums) > 0 {
			return cond{}, fmt.Errorf("%s: mixes strings and numbers, expected all strings or all numbers", where)
		}
		return c, nil
	case kindObject:
		if len(v.members) != 1 {
			return cond{}, fmt.Errorf("%s: found an object with %d keys, expected one of prefix, suffix, equals-ignore-case, wildcard", where, len(v.members))
		}
		m := v.members[0]
		inner := where + "." + m.key
		switch m.key {
		case "prefix", "suffix", "equals-ignore-case", "wildcard":
		default:
			return cond{}, fmt.Errorf("%s: unsupported inside anything-but, expected prefix, suffix, equals-ignore-case or wildcard", inner)
		}
		strs, err := stringOrList(inner, m.value)
		if err != nil {
			return cond{}, err
		}
		switch m.key {
		case "prefix", "suffix":
			for _, s := range strs {
				if s == "" {
					return cond{}, fmt.Errorf("%s: empty prefix/suffix not allowed", inner)
				}
			}
			if m.key == "prefix" {
				return cond{kind: condAnyPrefix, strs: strs}, nil
			}
			return cond{kind: condAnySuffix, strs: strs}, nil
		case "equals-ignore-case":
			for i := range strs {
				strs[i] = strings.ToLower(strs[i])
			}
			return cond{kind: condAnyFold, strs: strs}, nil
		case "wildcard":
			c := cond{kind: condAnyWildcard}
			for _, s := range strs {
				w, err := parseWildcard(inner, s)
				if err != nil {
					return cond{}, err
				}
				c.wild = append(c.wild, w)
			}
			return c, nil
		default:
			return cond{}, fmt.Errorf("%s: unsupported inside anything-but, expected prefix, suffix, equals-ignore-case or wildcard", inner)
		}
	default:
		return cond{}, fmt.Errorf("%s: found %s, expected a string, a number, a non-empty list of them, or an operator object", where, v.kind)
	}
}

// stringOrList accepts a string or a non-empty array of strings.
func stringOrList(where string, v *jvalue) ([]string, error) {
	switch v.kind {
	case kindString:
		return []string{v.str}, nil
	case kindArray:
		if len(v.items) == 0 {
			return nil, fmt.Errorf("%s: empty arrays are not allowed", where)
		}
		out := make([]string, 0, len(v.items))
		for i, it := range v.items {
			if it.kind != kindString {
				return nil, fmt.Errorf("%s[%d]: found %s, expected a string", where, i, it.kind)
			}
			out = append(out, it.str)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s: found %s, expected a string or a list of strings", where, v.kind)
	}
}

func parseNumeric(where string, v *jvalue) (numRange, error) {
	r := numRange{lo: math.Inf(-1), hi: math.Inf(1), loIncl: true, hiIncl: true}
	if v.kind != kindArray {
		return r, fmt.Errorf("%s: found %s, expected an array such as [\">\", 0, \"<=\", 5]", where, v.kind)
	}
	if len(v.items) == 0 {
		return r, fmt.Errorf("%s: empty arrays are not allowed", where)
	}
	var haveLo, haveHi, haveEq bool
	for i := 0; i < len(v.items); i += 2 {
		opv := v.items[i]
		if opv.kind != kindString {
			return r, fmt.Errorf("%s[%d]: found %s, expected a comparison operator (<, <=, =, >, >=)", where, i, opv.kind)
		}
		op := opv.str
		if i+1 >= len(v.items) || v.items[i+1].kind != kindNumber {
			return r, fmt.Errorf("%s[%d]: the value after %q must be a number", where, i+1, op)
		}
		n, err := parseNumber(fmt.Sprintf("%s[%d]", where, i+1), v.items[i+1].str)
		if err != nil {
			return r, err
		}
		switch op {
		case "=":
			if len(v.items) != 2 {
				return r, fmt.Errorf("%s: \"=\" cannot be combined with other comparisons", where)
			}
			haveEq = true
			r.lo, r.hi = n, n
		case ">", ">=":
			if haveLo {
				return r, fmt.Errorf("%s[%d]: bad numeric range operator %q: a lower bound is already given", where, i, op)
			}
			haveLo = true
			r.lo, r.loIncl = n, op == ">="
		case "<", "<=":
			if haveHi {
				return r, fmt.Errorf("%s[%d]: bad numeric range operator %q: an upper bound is already given", where, i, op)
			}
			haveHi = true
			r.hi, r.hiIncl = n, op == "<="
		default:
			return r, fmt.Errorf("%s[%d]: unrecognized numeric operator %q, expected <, <=, =, > or >=", where, i, op)
		}
	}
	if !haveEq && haveLo && haveHi && r.lo > r.hi {
		return r, fmt.Errorf("%s: bad numeric range: lower bound %v is above upper bound %v", where, r.lo, r.hi)
	}
	return r, nil
}

func parseCIDR(where, s string) (netip.Prefix, error) {
	if strings.Count(s, "/") != 1 {
		return netip.Prefix{}, fmt.Errorf("%s: malformed CIDR %q, exactly one '/' required", where, s)
	}
	addrText, bitsText, _ := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(addrText)
	if err != nil || addr.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%s: nonstandard IP address %q", where, addrText)
	}
	bits, err := strconv.Atoi(bitsText)
	if err != nil || bits < 0 || bits > addr.BitLen() || bitsText != strconv.Itoa(bits) {
		return netip.Prefix{}, fmt.Errorf("%s: malformed CIDR %q, prefix length must be 0 to %d", where, s, addr.BitLen())
	}
	return netip.PrefixFrom(addr, bits).Masked(), nil
}
