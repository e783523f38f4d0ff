package rule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// lookupExpr returns a JSONata expression for the value at path below root,
// with StackStorm's lookup semantics: every step must be an object field (or
// an array index), and anything else yields undefined. Unlike a JSONata path,
// it never maps over arrays. rootIsObject skips the type check on the root
// (a trigger payload is always an object).
func lookupExpr(root string, segs []segment, rootIsObject bool) string {
	if len(segs) == 1 && !segs[0].IsIndex && rootIsObject {
		return "$lookup(" + root + ", " + lit(segs[0].Name) + ")"
	}
	var b strings.Builder
	b.WriteString("($x := ")
	b.WriteString(root)
	b.WriteString("; ")
	for i, s := range segs {
		check := "object"
		step := "$lookup($x, " + lit(s.Name) + ")"
		if s.IsIndex {
			check = "array"
			step = "$x[" + strconv.Itoa(s.Index) + "]"
		}
		if i == 0 && rootIsObject && !s.IsIndex {
			b.WriteString("$x := " + step + "; ")
			continue
		}
		fmt.Fprintf(&b, "$x := $type($x) = %q ? %s; ", check, step)
	}
	b.WriteString("$x)")
	return b.String()
}

// condition returns a JSONata boolean expression that is true exactly when
// StackStorm's operator op matches the value in variable v (undefined when
// the field is missing) against pattern p.
//
// StackStorm evaluates operators on Python values; an operator that raises
// (say, startswith on a number) does not match. BWC keeps JSON's types apart:
// booleans are not numbers (Python's True == 1 is not reproduced), lists and
// objects are not ordered by lessthan/greaterthan.
func condition(op string, p any, searchCond, v string) (string, error) {
	isStr := func(x string) string { return fmt.Sprintf("$type(%s) = \"string\"", x) }
	ps, pIsStr := p.(string)
	switch op {
	case OpEquals:
		if p == nil {
			return "false", nil
		}
		return eqExpr(v, p), nil
	case OpNEquals:
		if p == nil {
			return fmt.Sprintf("($exists(%s) and $type(%s) != \"null\")", v, v), nil
		}
		return "$not(" + eqExpr(v, p) + ")", nil
	case OpIEquals:
		if !pIsStr {
			return "false", nil
		}
		return fmt.Sprintf("(%s and $lowercase(%s) = $lowercase(%s))", isStr(v), v, lit(ps)), nil
	case OpContains, OpNContains:
		if p == nil {
			return "false", nil
		}
		neg := op == OpNContains
		var alts []string
		if pIsStr {
			alts = append(alts, fmt.Sprintf("(%s and %s)", isStr(v), maybeNot(neg, fmt.Sprintf("$contains(%s, %s)", v, lit(ps)))))
		}
		alts = append(alts, fmt.Sprintf("($type(%s) = \"array\" and %s)", v, maybeNot(neg, memberExpr(p, v))))
		switch {
		case pIsStr:
			alts = append(alts, fmt.Sprintf("($type(%s) = \"object\" and %s)", v, maybeNot(neg, fmt.Sprintf("%s in $keys(%s)", lit(ps), v))))
		case neg && scalarTypeOf(p) != "":
			// A number or boolean is never a key of a JSON object.
			alts = append(alts, fmt.Sprintf("$type(%s) = \"object\"", v))
		}
		return "(" + strings.Join(alts, " or ") + ")", nil
	case OpIContains, OpINContains:
		if !pIsStr {
			return "false", nil
		}
		return fmt.Sprintf("(%s and %s)", isStr(v), maybeNot(op == OpINContains, fmt.Sprintf("$contains($lowercase(%s), $lowercase(%s))", v, lit(ps)))), nil
	case OpStartsWith, OpIStartsWith, OpEndsWith, OpIEndsWith:
		if !pIsStr {
			return "false", nil
		}
		val, pat := v, lit(ps)
		if op == OpIStartsWith || op == OpIEndsWith {
			val, pat = "$lowercase("+v+")", "$lowercase("+lit(ps)+")"
		}
		if op == OpStartsWith || op == OpIStartsWith {
			return fmt.Sprintf("(%s and $substring(%s, 0, $length(%s)) = %s)", isStr(v), val, pat, pat), nil
		}
		return fmt.Sprintf("(%s and $length(%s) >= $length(%s) and $substring(%s, $length(%s) - $length(%s)) = %s)",
			isStr(v), val, pat, val, val, pat, pat), nil
	case OpLessThan, OpGreaterThan:
		sym := "<"
		if op == OpGreaterThan {
			sym = ">"
		}
		switch t := scalarTypeOf(p); t {
		case "number", "string":
			return fmt.Sprintf("($type(%s) = %q and %s %s %s)", v, t, v, sym, lit(p)), nil
		}
		return "false", nil
	case OpWildcard:
		if !pIsStr {
			return "false", nil
		}
		return fmt.Sprintf("(%s and $contains(%s, %s))", isStr(v), v, regexLiteral(fnmatchRegex(ps), "")), nil
	case OpRegex, OpIRegex, OpMatchRegex:
		if !pIsStr {
			return "false", nil
		}
		if ps == "" {
			// An empty expression matches every string.
			return isStr(v), nil
		}
		re, flags, err := pythonRegex(ps, op == OpMatchRegex)
		if err != nil {
			return "", err
		}
		if op == OpIRegex && !strings.Contains(flags, "i") {
			flags += "i"
		}
		return fmt.Sprintf("(%s and $contains(%s, %s))", isStr(v), v, regexLiteral(re, flags)), nil
	case OpTimediffLT, OpTimediffGT:
		n, ok := p.(float64)
		if !ok {
			return "false", nil
		}
		sym := "<"
		if op == OpTimediffGT {
			sym = ">"
		}
		return fmt.Sprintf("(%s and ($millis() - $toMillis(%s)) / 1000 %s %s)", isStr(v), v, sym, lit(n)), nil
	case OpExists:
		return fmt.Sprintf("($exists(%s) and $type(%s) != \"null\")", v, v), nil
	case OpNExists:
		return fmt.Sprintf("($not($exists(%s)) or $type(%s) = \"null\")", v, v), nil
	case OpInside, OpNInside:
		if p == nil {
			return "false", nil
		}
		neg := op == OpNInside
		switch x := p.(type) {
		case []any:
			// Python: v in list — a missing field is None, which is in the
			// list only if the list holds null.
			has := listHasNull(x)
			present := fmt.Sprintf("(%s in %s)", v, lit(x))
			if !allScalar(x) || !isScalarExprSafe(x) {
				present = fmt.Sprintf("($count($filter(%s, function($e) { %s })) > 0)", lit(x), eqExpr("$e", nil, v))
			}
			missing := "false"
			if has {
				missing = "true"
			}
			expr := fmt.Sprintf("($exists(%s) and $type(%s) != \"null\" ? %s : %s)", v, v, present, missing)
			return maybeNot(neg, expr), nil
		case string:
			return fmt.Sprintf("(%s and %s)", isStr(v), maybeNot(neg, fmt.Sprintf("$contains(%s, %s)", lit(x), v))), nil
		case map[string]any:
			keys := sortedKeys(x)
			keyList := make([]any, len(keys))
			for i, k := range keys {
				keyList[i] = k
			}
			if neg {
				// Hashable values that are not keys: numbers, booleans,
				// null, missing and non-key strings. Lists and objects
				// raise in Python.
				return fmt.Sprintf("($not($type(%s) in [\"array\", \"object\"]) and $not(%s in %s))", v, v, lit(keyList)), nil
			}
			return fmt.Sprintf("(%s and %s in %s)", isStr(v), v, lit(keyList)), nil
		}
		return "false", nil
	case OpSearch:
		return searchCondition(p, searchCond, v)
	}
	return "", fmt.Errorf("operator %q is not supported", op)
}

func maybeNot(neg bool, expr string) string {
	if neg {
		return "$not(" + expr + ")"
	}
	return expr
}

// eqExpr is Python equality between the value in v and the literal p. When
// p is nil and other is given, it compares two variables.
func eqExpr(v string, p any, other ...string) string {
	rhs := lit(p)
	if len(other) == 1 {
		rhs = other[0]
	}
	// JSONata's = compares arrays and objects deeply; a missing value is
	// never equal to anything.
	return fmt.Sprintf("(%s = %s)", v, rhs)
}

// memberExpr is Python's `p in list` for the array in v.
func memberExpr(p any, v string) string {
	if scalarTypeOf(p) != "" {
		return fmt.Sprintf("(%s in %s)", lit(p), v)
	}
	return fmt.Sprintf("($count($filter(%s, function($e) { $e = %s })) > 0)", v, lit(p))
}

func listHasNull(l []any) bool {
	for _, e := range l {
		if e == nil {
			return true
		}
	}
	return false
}

func allScalar(l []any) bool {
	for _, e := range l {
		if e != nil && scalarTypeOf(e) == "" {
			return false
		}
	}
	return true
}

// isScalarExprSafe reports whether JSONata's `in` (which compares with
// strict equality) is exact for the list: true for scalars.
func isScalarExprSafe(l []any) bool { return allScalar(l) }

// searchCondition compiles st2's search operator: criteria over the items of
// a list.
func searchCondition(p any, cond, v string) (string, error) {
	children, ok := p.(map[string]any)
	if !ok || len(children) == 0 {
		return "", fmt.Errorf("search: pattern must be a map of item criteria such as {item.name: {type: equals, pattern: x}}")
	}
	var parts []string
	for _, key := range sortedKeys(children) {
		spec, ok := children[key].(map[string]any)
		if !ok {
			return "", fmt.Errorf("search: criterion %s must be a map with type and pattern", key)
		}
		opName, _ := spec["type"].(string)
		op, ok := CanonicalOp(opName)
		if !ok {
			return "", fmt.Errorf("search: criterion %s: unknown operator %q", key, opName)
		}
		segs, err := parseKey(key, "item")
		if err != nil {
			return "", fmt.Errorf("search: %w", err)
		}
		childCond, _ := spec["condition"].(string)
		c, err := condition(op, normalize(spec["pattern"]), childCond, "$w")
		if err != nil {
			return "", fmt.Errorf("search: criterion %s: %w", key, err)
		}
		parts = append(parts, "($w := "+lookupExpr("$item", segs, false)+"; "+c+")")
	}
	var itemAll, itemAny string
	if len(parts) == 1 {
		itemAll, itemAny = parts[0], parts[0]
	} else {
		itemAll = strings.Join(parts, " and ")
		itemAny = strings.Join(parts, " or ")
	}
	count := func(body string) string {
		return fmt.Sprintf("$count($filter(%s, function($item) { %s }))", v, body)
	}
	isList := fmt.Sprintf("$type(%s) = \"array\"", v)
	switch cond {
	case SearchAny:
		return fmt.Sprintf("(%s and %s > 0)", isList, count(itemAll)), nil
	case SearchAll:
		return fmt.Sprintf("(%s and %s = $count(%s))", isList, count(itemAll), v), nil
	case SearchAny2Any:
		return fmt.Sprintf("(%s and %s > 0)", isList, count(itemAny)), nil
	case SearchAll2Any:
		return fmt.Sprintf("(%s and %s = $count(%s))", isList, count(itemAny), v), nil
	case "":
		return "", fmt.Errorf("search: condition is missing: expected one of any, all, any2any, all2any")
	}
	return "", fmt.Errorf("search: condition %q is not one of any, all, any2any, all2any", cond)
}

// regexLiteral writes a JSONata regular expression literal.
func regexLiteral(re, flags string) string {
	var b strings.Builder
	b.WriteByte('/')
	escaped := false
	for _, r := range re {
		if r == '/' && !escaped {
			b.WriteString(`\/`)
			continue
		}
		escaped = r == '\\' && !escaped
		b.WriteRune(r)
	}
	b.WriteByte('/')
	b.WriteString(flags)
	return b.String()
}

// fnmatchRegex translates a Python fnmatch pattern (a full, case-sensitive
// match where `*` and `?` also match newlines) to a regular expression.
func fnmatchRegex(p string) string {
	var b strings.Builder
	b.WriteString("^(?:")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '*':
			b.WriteString(`[\s\S]*`)
		case '?':
			b.WriteString(`[\s\S]`)
		case '[':
			end := classEnd(p, i)
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			body := p[i+1 : end]
			b.WriteByte('[')
			if strings.HasPrefix(body, "!") {
				b.WriteByte('^')
				body = body[1:]
			}
			for j := 0; j < len(body); j++ {
				switch body[j] {
				case '\\':
					// \x5c rather than an escaped backslash: JSONata's
					// lexer balances brackets and does not see `\\[` as
					// an escaped backslash before a bracket.
					b.WriteString(`\x5c`)
					continue
				case ']', '[', '^':
					b.WriteByte('\\')
				}
				b.WriteByte(body[j])
			}
			b.WriteByte(']')
			i = end
		case '\\':
			b.WriteString(`\x5c`)
		default:
			if strings.IndexByte(`.+()|{}^$]`, c) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	b.WriteString(")$")
	return b.String()
}

// pythonRegex rewrites a Python regular expression into the JavaScript
// syntax JSONata uses, with its flags. anchored makes it match only at the
// start of the string with `.` matching newlines (st2's matchregex: re.match
// with DOTALL). Leading inline flags (?imsx) become JavaScript flags or, for
// s, the equivalent character class.
func pythonRegex(p string, anchored bool) (string, string, error) {
	var b strings.Builder
	inClass := false
	dotAll := anchored
	flags := ""
	if m := inlineFlags.FindStringSubmatch(p); m != nil {
		for _, f := range m[1] {
			switch f {
			case 'i', 'm':
				if !strings.ContainsRune(flags, f) {
					flags += string(f)
				}
			case 's':
				dotAll = true
			default:
				return "", "", fmt.Errorf("regular expression %q: inline flag %q is not supported", p, string(f))
			}
		}
		p = p[len(m[0]):]
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			next := p[i+1]
			switch {
			case next == 'Z' && !inClass:
				b.WriteString("$")
			case next == 'A' && !inClass:
				b.WriteString("^")
			case next == '\\':
				b.WriteString(`\x5c`)
			default:
				b.WriteByte(c)
				b.WriteByte(next)
			}
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case c == '(' && strings.HasPrefix(p[i:], "(?P<"):
			b.WriteString("(?<")
			i += 3
		case c == '(' && strings.HasPrefix(p[i:], "(?P="):
			return "", "", fmt.Errorf("regular expression %q: named back-references (?P=name) are not supported", p)
		case c == '(' && strings.HasPrefix(p[i:], "(?#"):
			end := strings.IndexByte(p[i:], ')')
			if end < 0 {
				return "", "", fmt.Errorf("regular expression %q: unterminated comment", p)
			}
			i += end
		case c == '.' && dotAll:
			b.WriteString(`[\s\S]`)
		default:
			b.WriteByte(c)
		}
	}
	re := b.String()
	// Validate with Go's syntax, which matches Python's for everything BWC
	// accepts; st2 would never match an expression Python cannot compile.
	check := re
	if strings.Contains(flags, "i") {
		check = "(?i)" + check
	}
	if _, err := regexp.Compile(check); err != nil {
		return "", "", fmt.Errorf("invalid regular expression %q: %v", p, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	if anchored {
		re = "^(?:" + re + ")"
	}
	return re, flags, nil
}

var inlineFlags = regexp.MustCompile(`^\(\?([a-zA-Z]+)\)`)
