package jsonata

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

type fnDef struct {
	name  string
	sig   string
	arity int
	fn    func(c call, args []any) (any, error)
}

// library builds the standard function library (jsonata-js 2.0.6 with Step
// Functions' changes).
func library() []fnDef {
	return []fnDef{
		{"sum", "<a<n>:n>", 1, fnSum},
		{"count", "<a:n>", 1, fnCount},
		{"max", "<a<n>:n>", 1, fnMax},
		{"min", "<a<n>:n>", 1, fnMin},
		{"average", "<a<n>:n>", 1, fnAverage},
		{"string", "<x-b?:s>", 1, fnString},
		{"substring", "<s-nn?:s>", 3, fnSubstring},
		{"substringBefore", "<s-s:s>", 2, fnSubstringBefore},
		{"substringAfter", "<s-s:s>", 2, fnSubstringAfter},
		{"lowercase", "<s-:s>", 1, fnLowercase},
		{"uppercase", "<s-:s>", 1, fnUppercase},
		{"length", "<s-:n>", 1, fnLength},
		{"trim", "<s-:s>", 1, fnTrim},
		{"pad", "<s-ns?:s>", 3, fnPad},
		{"match", "<s-f<s:o>n?:a<o>>", 3, fnMatch},
		{"contains", "<s-(sf):b>", 2, fnContains},
		{"replace", "<s-(sf)(sf)n?:s>", 4, fnReplace},
		{"split", "<s-(sf)n?:a<s>>", 3, fnSplit},
		{"join", "<a<s>s?:s>", 2, fnJoin},
		{"number", "<(nsb)-:n>", 1, fnNumber},
		{"floor", "<n-:n>", 1, mathFn(math.Floor)},
		{"ceil", "<n-:n>", 1, mathFn(math.Ceil)},
		{"round", "<n-n?:n>", 2, fnRound},
		{"abs", "<n-:n>", 1, mathFn(math.Abs)},
		{"sqrt", "<n-:n>", 1, fnSqrt},
		{"power", "<n-n:n>", 2, fnPower},
		{"random", "<n?:n>", 0, fnRandom},
		{"boolean", "<x-:b>", 1, fnBoolean},
		{"not", "<x-:b>", 1, fnNot},
		{"map", "<af>", 2, fnMap},
		{"zip", "<a+>", 0, fnZip},
		{"filter", "<af>", 2, fnFilter},
		{"single", "<af?>", 2, fnSingle},
		{"reduce", "<afj?:j>", 3, fnReduce},
		{"sift", "<o-f?:o>", 2, fnSift},
		{"keys", "<x-:a<s>>", 1, fnKeys},
		{"lookup", "<x-s:x>", 2, fnLookup},
		{"append", "<xx:a>", 2, fnAppend},
		{"exists", "<x:b>", 1, fnExists},
		{"spread", "<x-:a<o>>", 1, fnSpread},
		{"merge", "<a<o>:o>", 1, fnMerge},
		{"reverse", "<a:a>", 1, fnReverse},
		{"each", "<o-f:a>", 2, fnEach},
		{"error", "<s?:x>", 1, fnError},
		{"assert", "<bs?:x>", 2, fnAssert},
		{"type", "<x:s>", 1, fnType},
		{"sort", "<af?:a>", 2, fnSort},
		{"shuffle", "<a:a>", 1, fnShuffle},
		{"distinct", "<x:x>", 1, fnDistinct},
		{"base64encode", "<s-:s>", 1, fnBase64Encode},
		{"base64decode", "<s-:s>", 1, fnBase64Decode},
		{"encodeUrlComponent", "<s-:s>", 1, fnEncodeURL(true)},
		{"encodeUrl", "<s-:s>", 1, fnEncodeURL(false)},
		{"decodeUrlComponent", "<s-:s>", 1, fnDecodeURL(true)},
		{"decodeUrl", "<s-:s>", 1, fnDecodeURL(false)},
		{"clone", "<(oa)-:o>", 1, fnClone},
		{"millis", "<:n>", 0, fnMillis},
		// Step Functions
		{"partition", "<an:a>", 2, fnPartition},
		{"range", "<nnn?:a<n>>", 3, fnRange},
		{"hash", "<s-s?:s>", 2, fnHash},
		{"uuid", "<:s>", 0, fnUUID},
		{"parse", "<s-:x>", 1, fnParse},
	}
}

func num(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

func items(v any) []any {
	if a, ok := v.(*array); ok {
		return a.items
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func fnSum(_ call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	t := 0.0
	for _, v := range items(args[0]) {
		f, _ := num(v)
		t += f
	}
	return t, nil
}

func fnCount(_ call, args []any) (any, error) {
	if args[0] == nil {
		return 0.0, nil
	}
	return float64(len(items(args[0]))), nil
}

func fnMax(_ call, args []any) (any, error) {
	xs := items(args[0])
	if len(xs) == 0 {
		return nil, nil
	}
	m := math.Inf(-1)
	for _, v := range xs {
		f, _ := num(v)
		m = math.Max(m, f)
	}
	return m, nil
}

func fnMin(_ call, args []any) (any, error) {
	xs := items(args[0])
	if len(xs) == 0 {
		return nil, nil
	}
	m := math.Inf(1)
	for _, v := range xs {
		f, _ := num(v)
		m = math.Min(m, f)
	}
	return m, nil
}

func fnAverage(_ call, args []any) (any, error) {
	xs := items(args[0])
	if len(xs) == 0 {
		return nil, nil
	}
	t := 0.0
	for _, v := range xs {
		f, _ := num(v)
		t += f
	}
	return t / float64(len(xs)), nil
}

// toStringValue is $string without prettify.
func toStringValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case *lambda, *builtin, *partial, *regexValue:
		return "", nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", newError("D3001", 0, "", x)
		}
		return formatNumberJS(precision15(x)), nil
	}
	return stringify(v, false)
}

func fnString(_ call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	pretty, _ := args[1].(bool)
	if pretty {
		switch args[0].(type) {
		case *array, *object, map[string]any:
			if a, ok := args[0].(*array); ok && a.outer && len(a.items) > 0 {
				return stringify(a.items[0], true)
			}
			return stringify(args[0], true)
		}
	}
	return toStringValue(args[0])
}

// jsSlice implements Array.prototype.slice index normalisation.
func jsSlice(n int, start, end float64) (int, int) {
	norm := func(x float64) int {
		if math.IsNaN(x) {
			return 0
		}
		x = math.Trunc(x)
		if x < 0 {
			x += float64(n)
			if x < 0 {
				x = 0
			}
		} else if x > float64(n) {
			x = float64(n)
		}
		return int(x)
	}
	s, e := norm(start), norm(end)
	if e < s {
		e = s
	}
	return s, e
}

func fnSubstring(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	rs := []rune(s)
	n := float64(len(rs))
	start, _ := num(args[1])
	if n+start < 0 {
		start = 0
	}
	if args[2] != nil {
		length, _ := num(args[2])
		if length <= 0 {
			return "", nil
		}
		var end float64
		if start >= 0 {
			end = start + length
		} else {
			end = n + start + length
		}
		a, b := jsSlice(len(rs), start, end)
		return string(rs[a:b]), nil
	}
	a, b := jsSlice(len(rs), start, n)
	return string(rs[a:b]), nil
}

func fnSubstringBefore(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	chars, _ := args[1].(string)
	if i := strings.Index(s, chars); i >= 0 {
		return s[:i], nil
	}
	return s, nil
}

func fnSubstringAfter(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	chars, _ := args[1].(string)
	if i := strings.Index(s, chars); i >= 0 {
		return s[i+len(chars):], nil
	}
	return s, nil
}

func fnLowercase(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	return jsLower(s), nil
}

func fnUppercase(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	return jsUpper(s), nil
}

// jsUpper is String.prototype.toUpperCase: Unicode full case mapping for
// the characters whose upper case is longer than one character.
func jsUpper(s string) string {
	simple := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		return strings.ToUpper(s)
	}
	var b strings.Builder
	for _, r := range s {
		if x := specialUpper(r); x != "" {
			b.WriteString(x)
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// specialUpper returns the multi-character upper case of r, or "".
func specialUpper(r rune) string {
	switch r {
	case 'ß':
		return "SS"
	case 'ﬀ':
		return "FF"
	case 'ﬁ':
		return "FI"
	case 'ﬂ':
		return "FL"
	case 'ﬃ':
		return "FFI"
	case 'ﬄ':
		return "FFL"
	case 'ﬅ', 'ﬆ':
		return "ST"
	case 'ŉ':
		return "ʼN"
	case 'ǰ':
		return "J̌"
	case 'ΐ':
		return "Ϊ́"
	case 'ΰ':
		return "Ϋ́"
	case 'և':
		return "ԵՒ"
	}
	return ""
}

// jsLower is String.prototype.toLowerCase, including final sigma and
// dotted capital I.
func jsLower(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
			continue
		case 'Σ':
			prevLetter := i > 0 && unicode.IsLetter(rs[i-1])
			nextLetter := i+1 < len(rs) && unicode.IsLetter(rs[i+1])
			if prevLetter && !nextLetter {
				b.WriteRune('ς')
				continue
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func fnLength(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	return float64(utf8.RuneCountInString(s)), nil
}

func fnTrim(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	var b strings.Builder
	inWS := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			if !inWS {
				b.WriteByte(' ')
			}
			inWS = true
			continue
		}
		inWS = false
		b.WriteRune(r)
	}
	out := b.String()
	out = strings.TrimPrefix(out, " ")
	out = strings.TrimSuffix(out, " ")
	return out, nil
}

func fnPad(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	ch, _ := args[2].(string)
	if ch == "" {
		ch = " "
	}
	wf, _ := num(args[1])
	width := int(math.Trunc(wf))
	aw := width
	if aw < 0 {
		aw = -aw
	}
	padLen := aw - utf8.RuneCountInString(s)
	if padLen <= 0 {
		return s, nil
	}
	if padLen > maxStringLength {
		return nil, &Error{Code: "D1001", Value: float64(padLen), Message: "string too long: $pad width exceeds 2^29"}
	}
	padding := []rune(strings.Repeat(ch, padLen))
	padding = padding[:padLen]
	if width > 0 {
		return s + string(padding), nil
	}
	return string(padding) + s, nil
}

func limitArg(v any) (int, bool) {
	f, ok := num(v)
	if !ok {
		return -1, false
	}
	return int(math.Floor(f)), true
}

func fnMatch(c call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	limit := -1
	if l, ok := limitArg(args[2]); ok {
		if args[2].(float64) < 0 {
			return nil, newError("D3040", 0, "", args[2])
		}
		limit = l
	}
	res := &array{seq: true}
	if limit == 0 {
		return res, nil
	}
	// as jsonata-js: next() is called after every match, even the last one
	// the limit allows (so an empty next match is D1004 there too)
	it := newMatchIter(c, args[1], s)
	m, err := it.first()
	for err == nil && m != nil && (limit < 0 || len(res.items) < limit) {
		o := newObject(3)
		o.set("match", m.match)
		o.set("index", float64(m.start))
		o.set("groups", &array{items: m.groups})
		res.items = append(res.items, o)
		m, err = it.following()
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

func fnContains(c call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	if t, ok := args[1].(string); ok {
		return strings.Contains(s, t), nil
	}
	// only the first match counts: no next(), so no D1004
	m, err := newMatchIter(c, args[1], s).first()
	if err != nil {
		return nil, err
	}
	return m != nil, nil
}

func expandReplacement(repl string, m regexMatch) string {
	var b strings.Builder
	pos := 0
	for {
		i := strings.IndexByte(repl[pos:], '$')
		if i < 0 || pos >= len(repl) {
			break
		}
		i += pos
		b.WriteString(repl[pos:i])
		pos = i + 1
		if pos >= len(repl) {
			b.WriteByte('$')
			break
		}
		d := repl[pos]
		if d == '$' {
			b.WriteByte('$')
			pos++
			continue
		}
		if d == '0' {
			b.WriteString(m.match)
			pos++
			continue
		}
		maxDigits := 1
		if len(m.groups) > 0 {
			maxDigits = int(math.Floor(math.Log10(float64(len(m.groups))))) + 1
		}
		idx, n := parseLeadingInt(repl[pos:min(len(repl), pos+maxDigits)])
		if maxDigits > 1 && idx > len(m.groups) {
			idx, n = parseLeadingInt(repl[pos:min(len(repl), pos+maxDigits-1)])
		}
		if n > 0 {
			if len(m.groups) > 0 && idx >= 1 && idx <= len(m.groups) {
				if g, ok := m.groups[idx-1].(string); ok {
					b.WriteString(g)
				}
			}
			pos += len(strconv.Itoa(idx))
		} else {
			b.WriteByte('$')
		}
	}
	if pos < len(repl) {
		b.WriteString(repl[pos:])
	}
	return b.String()
}

func parseLeadingInt(s string) (int, int) {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 {
		return 0, 0
	}
	v, _ := strconv.Atoi(s[:n])
	return v, n
}

func fnReplace(c call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	if p, ok := args[1].(string); ok && p == "" {
		return nil, newError("D3010", 0, "", p)
	}
	limit := -1
	if l, ok := limitArg(args[3]); ok {
		if args[3].(float64) < 0 {
			return nil, newError("D3011", 0, "", args[3])
		}
		limit = l
	}
	if limit == 0 {
		return s, nil
	}
	if p, ok := args[1].(string); ok {
		repl, _ := args[2].(string)
		if limit < 0 {
			return strings.ReplaceAll(s, p, repl), nil
		}
		return strings.Replace(s, p, repl, limit), nil
	}
	it := newMatchIter(c, args[1], s)
	m, err := it.first()
	if err != nil {
		return nil, err
	}
	if m == nil {
		return s, nil
	}
	var b strings.Builder
	pos, count := 0, 0
	for m != nil && (limit < 0 || count < limit) {
		b.WriteString(s[min(pos, m.bstart):m.bstart])
		switch r := args[2].(type) {
		case string:
			b.WriteString(expandReplacement(r, *m))
		default:
			mo := newObject(4)
			mo.set("match", m.match)
			mo.set("start", float64(m.start))
			mo.set("end", float64(m.end))
			mo.set("groups", &array{items: m.groups})
			v, err := c.st.apply(r, []any{mo}, nil, c.env)
			if err != nil {
				return nil, err
			}
			sv, ok := v.(string)
			if !ok {
				return nil, newError("D3012", 0, "", v)
			}
			b.WriteString(sv)
		}
		if b.Len() > maxStringLength {
			return nil, &Error{Code: "D1001", Value: float64(b.Len()), Message: "string too long: the result of $replace exceeds 2^29 bytes"}
		}
		pos = min(len(s), m.bstart+len(m.match))
		count++
		if m, err = it.following(); err != nil {
			return nil, err
		}
	}
	b.WriteString(s[min(pos, len(s)):])
	return b.String(), nil
}

func fnSplit(c call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	limit := -1
	if l, ok := limitArg(args[2]); ok {
		if args[2].(float64) < 0 {
			return nil, newError("D3020", 0, "", args[2])
		}
		limit = l
	}
	res := &array{}
	if limit == 0 {
		return res, nil
	}
	if sep, ok := args[1].(string); ok {
		var parts []string
		if sep == "" {
			for _, r := range s {
				parts = append(parts, string(r))
			}
		} else {
			parts = strings.Split(s, sep)
		}
		for _, p := range parts {
			if limit >= 0 && len(res.items) >= limit {
				break
			}
			res.items = append(res.items, p)
		}
		return res, nil
	}
	it := newMatchIter(c, args[1], s)
	m, err := it.first()
	if err != nil {
		return nil, err
	}
	if m == nil {
		res.items = append(res.items, s)
		return res, nil
	}
	start, count := 0, 0
	for m != nil && (limit < 0 || count < limit) {
		res.items = append(res.items, s[min(start, m.bstart):m.bstart])
		start = m.bend
		if m, err = it.following(); err != nil {
			return nil, err
		}
		count++
	}
	if limit < 0 || count < limit {
		res.items = append(res.items, s[min(start, len(s)):])
	}
	return res, nil
}

func fnJoin(_ call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	sep, _ := args[1].(string)
	xs := items(args[0])
	parts := make([]string, len(xs))
	for i, v := range xs {
		parts[i], _ = v.(string)
	}
	return strings.Join(parts, sep), nil
}

// isDecimalNumber matches -?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?, the
// strings $number accepts as decimal numbers.
func isDecimalNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func fnNumber(_ call, args []any) (any, error) {
	switch x := args[0].(type) {
	case nil:
		return nil, nil
	case float64:
		return x, nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case string:
		if isDecimalNumber(x) {
			f, err := strconv.ParseFloat(x, 64)
			if err == nil && !math.IsInf(f, 0) {
				return f, nil
			}
		}
		if len(x) > 2 && x[0] == '0' {
			base := 0
			switch x[1] {
			case 'x', 'X':
				base = 16
			case 'o', 'O':
				base = 8
			case 'b', 'B':
				base = 2
			}
			if base != 0 {
				if v, err := strconv.ParseUint(x[2:], base, 64); err == nil {
					return float64(v), nil
				}
			}
		}
	}
	return nil, newError("D3030", 0, "", args[0])
}

func mathFn(f func(float64) float64) func(call, []any) (any, error) {
	return func(_ call, args []any) (any, error) {
		x, ok := num(args[0])
		if !ok {
			return nil, nil
		}
		r := f(x)
		if r == 0 {
			r = 0 // no negative zero
		}
		return r, nil
	}
}

// jsRound is JavaScript's Math.round.
func jsRound(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	r := math.Floor(x)
	if x-r >= 0.5 {
		r++
	}
	return r
}

// shiftDecimal multiplies x by 10^n through its decimal text, as jsonata-js
// does to avoid binary rounding errors.
func shiftDecimal(x float64, n int) float64 {
	s := formatNumberJS(x)
	mant, exp, found := strings.Cut(s, "e")
	e := 0
	if found {
		e, _ = strconv.Atoi(exp)
	}
	f, err := strconv.ParseFloat(mant+"e"+strconv.Itoa(e+n), 64)
	if err != nil {
		return x
	}
	return f
}

func fnRound(_ call, args []any) (any, error) {
	x, ok := num(args[0])
	if !ok {
		return nil, nil
	}
	prec := 0
	if p, ok := num(args[1]); ok {
		prec = int(p)
	}
	return roundHalfEven(x, prec), nil
}

// roundHalfEven is jsonata-js's $round: to prec decimal places, ties to
// even, shifting the decimal point through the number's text.
func roundHalfEven(x float64, prec int) float64 {
	if prec != 0 {
		x = shiftDecimal(x, prec)
	}
	r := jsRound(x)
	if math.Abs(r-x) == 0.5 && math.Abs(math.Mod(r, 2)) == 1 {
		r--
	}
	if prec != 0 {
		r = shiftDecimal(r, -prec)
	}
	if r == 0 {
		r = 0
	}
	return r
}

func fnSqrt(_ call, args []any) (any, error) {
	x, ok := num(args[0])
	if !ok {
		return nil, nil
	}
	if x < 0 {
		return nil, newError("D3060", 0, "", x)
	}
	return math.Sqrt(x), nil
}

func fnPower(_ call, args []any) (any, error) {
	x, ok := num(args[0])
	if !ok {
		return nil, nil
	}
	y, _ := num(args[1])
	r := math.Pow(x, y)
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return nil, &Error{Code: "D3061", Value: x, extra: formatNumberJS(y)}
	}
	return r, nil
}

func fnRandom(c call, args []any) (any, error) {
	if seed, ok := num(args[0]); ok {
		s := uint64(int64(math.Floor(seed)))
		r := mrand.New(mrand.NewPCG(s, s^0x9E3779B97F4A7C15))
		return r.Float64(), nil
	}
	return c.st.rand(), nil
}

func fnBoolean(_ call, args []any) (any, error) {
	b, ok := booleanOf(args[0])
	if !ok {
		return nil, nil
	}
	return b, nil
}

func fnNot(_ call, args []any) (any, error) {
	b, ok := booleanOf(args[0])
	if !ok {
		return nil, nil
	}
	return !b, nil
}

func fnMap(c call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	xs := items(args[0])
	res := &array{seq: true, items: make([]any, 0, len(xs))}
	for i, v := range xs {
		r, err := c.st.apply(args[1], hofArgs(args[1], v, float64(i), args[0]), nil, c.env)
		if err != nil {
			return nil, err
		}
		if r != nil {
			res.items = append(res.items, r)
		}
	}
	return res, nil
}

func fnFilter(c call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	xs := items(args[0])
	res := &array{seq: true}
	for i, v := range xs {
		r, err := c.st.apply(args[1], hofArgs(args[1], v, float64(i), args[0]), nil, c.env)
		if err != nil {
			return nil, err
		}
		if toBoolean(r) {
			res.items = append(res.items, v)
		}
	}
	return res, nil
}

func fnSingle(c call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	xs := items(args[0])
	found := false
	var result any
	for i, v := range xs {
		ok := true
		if args[1] != nil {
			r, err := c.st.apply(args[1], hofArgs(args[1], v, float64(i), args[0]), nil, c.env)
			if err != nil {
				return nil, err
			}
			ok = toBoolean(r)
		}
		if ok {
			if found {
				return nil, newError("D3138", 0, "", nil)
			}
			result, found = v, true
		}
	}
	if !found {
		return nil, newError("D3139", 0, "", nil)
	}
	return result, nil
}

func fnReduce(c call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	xs := items(args[0])
	arity := arityOf(args[1])
	if arity < 2 {
		return nil, newError("D3050", 0, "", nil)
	}
	var result any
	i := 0
	if args[2] == nil && len(xs) > 0 {
		result, i = xs[0], 1
	} else {
		result = args[2]
	}
	for ; i < len(xs); i++ {
		a := []any{result, xs[i]}
		if arity >= 3 {
			a = append(a, float64(i))
		}
		if arity >= 4 {
			a = append(a, args[0])
		}
		r, err := c.st.apply(args[1], a, nil, c.env)
		if err != nil {
			return nil, err
		}
		result = r
	}
	return result, nil
}

func fnSift(c call, args []any) (any, error) {
	o, ok := asObject(args[0])
	if !ok {
		return nil, nil
	}
	res := newObject(0)
	for _, k := range o.orderedKeys() {
		v := o.get(k)
		r, err := c.st.apply(args[1], hofArgs(args[1], v, k, o), nil, c.env)
		if err != nil {
			return nil, err
		}
		if toBoolean(r) {
			res.set(k, v)
		}
	}
	if res.size() == 0 {
		return nil, nil
	}
	return res, nil
}

func keysOf(v any, seen map[string]bool, out *array) {
	switch x := obj(v).(type) {
	case *array:
		for _, it := range x.items {
			keysOf(it, seen, out)
		}
	case *object:
		for _, k := range x.orderedKeys() {
			if !seen[k] {
				seen[k] = true
				out.items = append(out.items, k)
			}
		}
	}
}

func fnKeys(_ call, args []any) (any, error) {
	res := &array{seq: true}
	keysOf(args[0], map[string]bool{}, res)
	return res, nil
}

func fnLookup(_ call, args []any) (any, error) {
	k, _ := args[1].(string)
	return lookupField(args[0], k), nil
}

func fnAppend(_ call, args []any) (any, error) {
	return appendValues(args[0], args[1]), nil
}

func fnExists(_ call, args []any) (any, error) {
	return args[0] != nil, nil
}

func spread(v any) any {
	switch x := obj(v).(type) {
	case *array:
		// appends each item's spread, as appendValues would, without
		// copying the result for every item
		res := &array{seq: true}
		for _, it := range x.items {
			sp := spread(it)
			if sp == nil {
				continue
			}
			res.seq = false
			if a, ok := sp.(*array); ok {
				res.items = append(res.items, a.items...)
			} else {
				res.items = append(res.items, sp)
			}
		}
		return res
	case *object:
		res := &array{seq: true}
		for _, k := range x.orderedKeys() {
			o := newObject(1)
			o.set(k, x.get(k))
			res.items = append(res.items, o)
		}
		return res
	}
	return v
}

func fnSpread(_ call, args []any) (any, error) {
	return spread(args[0]), nil
}

func fnMerge(_ call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	res := newObject(0)
	for _, it := range items(args[0]) {
		if o, ok := asObject(it); ok {
			for _, k := range o.orderedKeys() {
				res.set(k, o.get(k))
			}
		}
	}
	return res, nil
}

func fnReverse(_ call, args []any) (any, error) {
	a, ok := args[0].(*array)
	if !ok {
		return args[0], nil
	}
	if len(a.items) <= 1 {
		return a, nil
	}
	out := &array{items: make([]any, len(a.items))}
	for i, v := range a.items {
		out.items[len(a.items)-1-i] = v
	}
	return out, nil
}

func fnEach(c call, args []any) (any, error) {
	o, ok := asObject(args[0])
	res := &array{seq: true}
	if !ok {
		return res, nil
	}
	for _, k := range o.orderedKeys() {
		r, err := c.st.apply(args[1], hofArgs(args[1], o.get(k), k, o), nil, c.env)
		if err != nil {
			return nil, err
		}
		if r != nil {
			res.items = append(res.items, r)
		}
	}
	return res, nil
}

func fnError(_ call, args []any) (any, error) {
	msg, ok := args[0].(string)
	if !ok {
		msg = "$error() function evaluated"
	}
	return nil, &Error{Code: "D3137", Message: msg, Value: msg}
}

func fnAssert(_ call, args []any) (any, error) {
	b, _ := args[0].(bool)
	if !b {
		msg, ok := args[1].(string)
		if !ok {
			msg = "$assert() statement failed"
		}
		return nil, &Error{Code: "D3141", Message: msg, Value: msg}
	}
	return nil, nil
}

func fnType(_ call, args []any) (any, error) {
	switch args[0].(type) {
	case nil:
		return nil, nil
	case null:
		return "null", nil
	case float64:
		return "number", nil
	case string:
		return "string", nil
	case bool:
		return "boolean", nil
	case *array:
		return "array", nil
	case *lambda, *builtin, *partial, *regexValue:
		return "function", nil
	}
	return "object", nil
}

func fnSort(c call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	a := args[0].(*array)
	if len(a.items) <= 1 {
		return a, nil
	}
	var less func(x, y any) (bool, error) // reports whether x must go after y
	if args[1] == nil {
		if !isArrayOfNumbers(a) && !isArrayOfStrings(a) {
			return nil, newError("D3070", 0, "", nil)
		}
		less = func(x, y any) (bool, error) {
			switch xv := x.(type) {
			case float64:
				return xv > y.(float64), nil
			case string:
				return compareUTF16(xv, y.(string)) > 0, nil
			}
			return false, nil
		}
	} else {
		fn := args[1]
		less = func(x, y any) (bool, error) {
			r, err := c.st.apply(fn, []any{x, y}, nil, c.env)
			if err != nil {
				return false, err
			}
			return toBoolean(r), nil
		}
	}
	sorted, err := mergeSort(a.items, less)
	if err != nil {
		return nil, err
	}
	return &array{items: sorted}, nil
}

func mergeSort(xs []any, swap func(a, b any) (bool, error)) ([]any, error) {
	if len(xs) <= 1 {
		return xs, nil
	}
	mid := len(xs) / 2
	l, err := mergeSort(xs[:mid], swap)
	if err != nil {
		return nil, err
	}
	r, err := mergeSort(xs[mid:], swap)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(xs))
	i, j := 0, 0
	for i < len(l) && j < len(r) {
		s, err := swap(l[i], r[j])
		if err != nil {
			return nil, err
		}
		if s {
			out = append(out, r[j])
			j++
		} else {
			out = append(out, l[i])
			i++
		}
	}
	out = append(out, l[i:]...)
	out = append(out, r[j:]...)
	return out, nil
}

func fnShuffle(c call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	a := args[0].(*array)
	out := &array{items: append([]any(nil), a.items...)}
	for i := len(out.items) - 1; i > 0; i-- {
		j := int(math.Floor(c.st.rand() * float64(i+1)))
		out.items[i], out.items[j] = out.items[j], out.items[i]
	}
	return out, nil
}

func fnDistinct(c call, args []any) (any, error) {
	a, ok := args[0].(*array)
	if !ok || len(a.items) <= 1 {
		return args[0], nil
	}
	out := &array{seq: a.seq}
	for _, v := range a.items {
		dup := false
		for _, w := range out.items {
			// quadratic, as in jsonata-js: the limits must be able to stop it
			if err := c.st.tick(); err != nil {
				return nil, err
			}
			if deepEqual(v, w) {
				dup = true
				break
			}
		}
		if !dup {
			out.items = append(out.items, v)
		}
	}
	return out, nil
}

func fnZip(_ call, args []any) (any, error) {
	res := &array{}
	if len(args) == 0 {
		return res, nil
	}
	n := math.MaxInt
	for _, a := range args {
		if x, ok := a.(*array); ok {
			n = min(n, len(x.items))
		} else {
			n = 0
		}
	}
	for i := 0; i < n; i++ {
		t := &array{}
		for _, a := range args {
			t.items = append(t.items, a.(*array).items[i])
		}
		res.items = append(res.items, t)
	}
	return res, nil
}

// fnBase64Encode encodes the string's UTF-16 code units as bytes (low 8
// bits), as Node's Buffer.from(str, 'binary') does in jsonata-js.
func fnBase64Encode(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	b := make([]byte, 0, len(s))
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u))
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// fnBase64Decode decodes to bytes and maps each byte to a character
// (Latin-1), as Node's toString('binary') does in jsonata-js.
func fnBase64Decode(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	clean := strings.Map(func(r rune) rune {
		if (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '+' || r == '/' {
			return r
		}
		if r == '-' {
			return '+'
		}
		if r == '_' {
			return '/'
		}
		return -1
	}, s)
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	b, err := base64.RawStdEncoding.DecodeString(clean)
	if err != nil {
		return nil, &Error{Code: "D3137", Value: s, Message: "invalid base64 text passed to $base64decode"}
	}
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs), nil
}

func fnEncodeURL(component bool) func(call, []any) (any, error) {
	const hexd = "0123456789ABCDEF"
	keep := "-_.!~*'()"
	if !component {
		keep += ";,/?:@&=+$#"
	}
	return func(c call, args []any) (any, error) {
		s, ok := args[0].(string)
		if !ok {
			return nil, nil
		}
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			ch := s[i]
			if isAlnum(rune(ch)) || strings.IndexByte(keep, ch) >= 0 {
				b.WriteByte(ch)
				continue
			}
			b.WriteByte('%')
			b.WriteByte(hexd[ch>>4])
			b.WriteByte(hexd[ch&15])
		}
		return b.String(), nil
	}
}

func fnDecodeURL(component bool) func(call, []any) (any, error) {
	reserved := ";,/?:@&=+$#"
	return func(c call, args []any) (any, error) {
		s, ok := args[0].(string)
		if !ok {
			return nil, nil
		}
		name := "decodeUrl"
		if component {
			name = "decodeUrlComponent"
		}
		fail := func() error {
			return &Error{Code: "D3140", Token: name, Value: s, Message: "Malformed URL passed to $" + name + "(): \"" + s + "\""}
		}
		var b strings.Builder
		for i := 0; i < len(s); {
			if s[i] != '%' {
				b.WriteByte(s[i])
				i++
				continue
			}
			// collect one UTF-8 sequence of escapes
			var buf []byte
			start := i
			for i < len(s) && s[i] == '%' {
				if i+3 > len(s) {
					return nil, fail()
				}
				v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
				if err != nil {
					return nil, fail()
				}
				buf = append(buf, byte(v))
				i += 3
				if utf8.FullRune(buf) {
					break
				}
			}
			r, size := utf8.DecodeRune(buf)
			if r == utf8.RuneError || size != len(buf) {
				return nil, fail()
			}
			if !component && len(buf) == 1 && strings.IndexByte(reserved, buf[0]) >= 0 {
				b.WriteString(s[start:i])
				continue
			}
			b.WriteRune(r)
		}
		return b.String(), nil
	}
}

func fnClone(_ call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	return deepCopy(args[0]), nil
}

func fnMillis(c call, _ []any) (any, error) {
	return float64(c.st.nowTime().UnixMilli()), nil
}

func fnPartition(_ call, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	xs := items(args[0])
	size, _ := num(args[1])
	n := int(math.Floor(size))
	if n < 1 {
		return nil, &Error{Code: "D3203", Value: size, Message: fmt.Sprintf("The size argument of $partition must be a positive integer, got %s", formatNumberJS(size))}
	}
	out := &array{}
	for i := 0; i < len(xs); i += n {
		out.items = append(out.items, &array{items: append([]any(nil), xs[i:min(i+n, len(xs))]...)})
	}
	return out, nil
}

func fnRange(_ call, args []any) (any, error) {
	first, _ := num(args[0])
	last, _ := num(args[1])
	step := 1.0
	if s, ok := num(args[2]); ok {
		step = s
	}
	first, last, step = math.Floor(first), math.Floor(last), math.Floor(step)
	if step == 0 {
		return nil, &Error{Code: "D3204", Message: "The step argument of $range must not be zero"}
	}
	count := math.Floor((last-first)/step) + 1
	if count > 1e7 {
		return nil, newError("D2014", 0, "", count)
	}
	// a sequence, as Step Functions returns it: one item is that item
	// (recorded: $range(1, 9, 9) is 1)
	out := &array{seq: true}
	for i := 0.0; i < count; i++ {
		out.items = append(out.items, first+i*step)
	}
	return out, nil
}

func fnHash(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	alg := "SHA-256"
	if a, ok := args[1].(string); ok {
		alg = a
	}
	h, ok := NewHash(alg)
	if !ok {
		return nil, &Error{Code: "D3202", Value: alg, Message: "Unsupported hash algorithm " + strconv.Quote(alg) + ": expected MD5, SHA-1, SHA-256, SHA-384 or SHA-512"}
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fnUUID(c call, _ []any) (any, error) {
	var b [16]byte
	if c.st.expr.random != nil {
		for i := range b {
			b[i] = byte(c.st.rand() * 256)
		}
	} else if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("generating a UUID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

func fnParse(_ call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	v, err := parseJSON([]byte(s))
	if err != nil {
		return nil, &Error{Code: "D3201", Value: s, Message: "Invalid JSON passed to $parse: " + err.Error()}
	}
	return v, nil
}

// NewHash returns a hash of one of the algorithms Step Functions offers to
// $hash and States.Hash: MD5, SHA-1, SHA-256, SHA-384 or SHA-512.
func NewHash(alg string) (hash.Hash, bool) {
	switch alg {
	case "MD5":
		return md5.New(), true
	case "SHA-1":
		return sha1.New(), true
	case "SHA-256":
		return sha256.New(), true
	case "SHA-384":
		return sha512.New384(), true
	case "SHA-512":
		return sha512.New(), true
	}
	return nil, false
}
