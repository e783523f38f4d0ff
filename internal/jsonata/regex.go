package jsonata

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// regexValue is a compiled regular expression literal. JavaScript regex
// syntax is translated to Go's RE2 syntax; constructs RE2 cannot run
// (lookaround, backreferences) are rejected when the expression is compiled.
type regexValue struct {
	re     *regexp.Regexp
	source string
	// at is set when the regex has assertions that look behind the start
	// of a search (^, \b, \B), so that a search from an offset cannot run
	// on the substring: it is the regex preceded by one character of
	// context, anchored at the start of the text.
	at  *regexp.Regexp
	pos int // position of the literal in the expression (for errors)
}

// regexMatch is one match. start and end are offsets in UTF-16 code units,
// as JavaScript reports them; bstart and bend are byte offsets in the Go
// string.
type regexMatch struct {
	match        string
	start, end   int
	bstart, bend int
	groups       []any
}

func compileRegex(pattern, flags string) (*regexValue, *Error) {
	tr, err := translateRegex(pattern)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if strings.Contains(flags, "i") || strings.Contains(flags, "m") {
		prefix = "(?"
		if strings.Contains(flags, "i") {
			prefix += "i"
		}
		if strings.Contains(flags, "m") {
			prefix += "m"
		}
		prefix += ")"
	}
	re, cerr := regexp.Compile(prefix + tr)
	if cerr != nil {
		return nil, &Error{Code: "S0303", Value: pattern, Message: "Regular expression not supported: /" + pattern + "/: " + cerr.Error()}
	}
	rv := &regexValue{re: re, source: pattern}
	if hasContextAssertion(prefix + tr) {
		// at: the regex matched right after one character of context
		at, aerr := regexp.Compile(prefix + `\A(?s:.)(?:` + tr + `)`)
		if aerr != nil {
			return nil, &Error{Code: "S0303", Value: pattern, Message: "Regular expression not supported: /" + pattern + "/: " + aerr.Error()}
		}
		rv.at = at
	}
	return rv, nil
}

func translateRegex(p string) (string, *Error) {
	var b strings.Builder
	rs := []rune(p)
	inClass := false
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\\' && i+1 < len(rs):
			n := rs[i+1]
			switch {
			case n == 'u' && i+5 < len(rs) && isHex4(rs[i+2:i+6]):
				b.WriteString(`\x{` + string(rs[i+2:i+6]) + `}`)
				i += 5
				continue
			case n == 'u' && i+2 < len(rs) && rs[i+2] == '{':
				end := i + 3
				for end < len(rs) && rs[end] != '}' {
					end++
				}
				b.WriteString(`\x{` + string(rs[i+3:min(end, len(rs))]) + `}`)
				i = end
				continue
			case n >= '1' && n <= '9' && !inClass:
				return "", &Error{Code: "S0303", Value: p, Message: "Regular expression not supported: backreferences (\\" + string(n) + ") in /" + p + "/"}
			case n == 's' || n == 'S':
				// JavaScript's \s is Unicode white space and line terminators
				switch {
				case n == 's' && inClass:
					b.WriteString(jsSpace)
				case n == 's':
					b.WriteString("[" + jsSpace + "]")
				case !inClass:
					b.WriteString("[^" + jsSpace + "]")
				default:
					b.WriteString(`\S`)
				}
			case n == 'd' || n == 'D' || n == 'w' || n == 'W' || n == 'b' || n == 'B' ||
				n == 'n' || n == 'r' || n == 't' || n == 'f' || n == 'v' || n == 'x':
				b.WriteRune(c)
				b.WriteRune(n)
			case n == '0':
				b.WriteString(`\x00`)
			case n == '/':
				b.WriteString("/")
			case n < utf8.RuneSelf && !isAlnum(n):
				b.WriteRune(c)
				b.WriteRune(n)
			default:
				// identity escape of a letter: the letter itself
				b.WriteString(regexp.QuoteMeta(string(n)))
			}
			i++
		case c == '[' && !inClass:
			inClass = true
			if i+2 < len(rs) && rs[i+1] == '^' && rs[i+2] == ']' {
				b.WriteString(`[\s\S]`)
				i += 2
				inClass = false
				continue
			}
			b.WriteRune(c)
		case c == ']' && inClass:
			inClass = false
			b.WriteRune(c)
		case c == '(' && !inClass && i+2 < len(rs) && rs[i+1] == '?':
			switch {
			case rs[i+2] == '=' || rs[i+2] == '!':
				return "", &Error{Code: "S0303", Value: p, Message: "Regular expression not supported: lookahead in /" + p + "/"}
			case rs[i+2] == '<' && i+3 < len(rs) && (rs[i+3] == '=' || rs[i+3] == '!'):
				return "", &Error{Code: "S0303", Value: p, Message: "Regular expression not supported: lookbehind in /" + p + "/"}
			}
			b.WriteRune(c)
		case c == '[' && inClass:
			b.WriteString(`\[`)
		case c == '.' && !inClass:
			// JavaScript's . excludes all line terminators
			b.WriteString(`[^\n\r\x{2028}\x{2029}]`)
		default:
			b.WriteRune(c)
		}
	}
	return b.String(), nil
}

// jsSpace is the content of a character class matching what JavaScript's
// \s matches.
const jsSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

func isHex4(rs []rune) bool {
	for _, r := range rs {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') && (r < 'A' || r > 'F') {
			return false
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

// utf16Len is the length of s in UTF-16 code units (JavaScript's length).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// utf16ToByte converts an offset in UTF-16 code units to a byte offset.
func utf16ToByte(s string, u int) int {
	n := 0
	for i, r := range s {
		if n >= u {
			return i
		}
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return len(s)
}

// hasContextAssertion reports whether the (Go syntax) regex has an
// empty-width assertion that depends on the text before the match: ^ or \b
// or \B.
func hasContextAssertion(expr string) bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return true
	}
	var walk func(*syntax.Regexp) bool
	walk = func(r *syntax.Regexp) bool {
		switch r.Op {
		case syntax.OpBeginLine, syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
			return true
		}
		for _, s := range r.Sub {
			if walk(s) {
				return true
			}
		}
		return false
	}
	return walk(re)
}

// execFrom is JavaScript's RegExp.prototype.exec on a global regex whose
// lastIndex is the byte offset from: the leftmost match that starts at or
// after from, as submatch byte offsets into s, or nil. scan returns the
// matches of one scan of the whole string (regexes with assertions need
// it; callers that search many times cache it).
func (r *regexValue) execFrom(s string, from int, scan func() [][]int) []int {
	if from == 0 {
		return r.re.FindStringSubmatchIndex(s)
	}
	if from > len(s) {
		return nil
	}
	if r.at == nil {
		loc := r.re.FindStringSubmatchIndex(s[from:])
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += from
			}
		}
		return loc
	}
	// Assertions must see the text before from. A match that starts at
	// from is found with the character before it as context; a later one
	// is the next match of a scan of the whole string (the scan and exec
	// agree on every match after the previous one, except that a scan
	// skips an empty match right after a non-empty one: the check at from
	// finds that one).
	_, size := utf8.DecodeLastRuneInString(s[:from])
	base := from - size
	if loc := r.at.FindStringSubmatchIndex(s[base:]); loc != nil {
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += base
			}
		}
		loc[0] = from
		return loc
	}
	for _, loc := range scan() {
		if loc[0] > from {
			return loc
		}
	}
	return nil
}

// utf16Offsets converts byte offsets of a string into UTF-16 offsets,
// incrementally when the offsets grow (as a walk over matches asks them).
type utf16Offsets struct {
	s     string
	ascii bool
	b, u  int // the last offset converted, in bytes and in UTF-16 units
}

func newUTF16Offsets(s string) *utf16Offsets {
	o := &utf16Offsets{s: s, ascii: true}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			o.ascii = false
			break
		}
	}
	return o
}

func (o *utf16Offsets) at(i int) int {
	if o.ascii {
		return i
	}
	if i < o.b {
		o.b, o.u = 0, 0
	}
	o.u += utf16Len(o.s[o.b:i])
	o.b = i
	return o.u
}

// matchAt converts exec's offsets into a regexMatch.
func matchAt(s string, loc []int, offsets *utf16Offsets) *regexMatch {
	if offsets == nil {
		offsets = newUTF16Offsets(s)
	}
	start := offsets.at(loc[0])
	m := &regexMatch{match: s[loc[0]:loc[1]], start: start, end: offsets.at(loc[1]), bstart: loc[0], bend: loc[1], groups: []any{}}
	for g := 1; g < len(loc)/2; g++ {
		if loc[2*g] < 0 {
			m.groups = append(m.groups, nil) // unmatched group: undefined
			continue
		}
		m.groups = append(m.groups, s[loc[2*g]:loc[2*g+1]])
	}
	return m
}

// matchObject is the value of calling a regex as a function: the first match
// at or after character offset from, with a next() function, as jsonata-js's
// regex closure returns it.
func (r *regexValue) matchObject(s string, from int) any {
	total := utf16Len(s)
	if from > total {
		return nil
	}
	loc := r.execFrom(s, utf16ToByte(s, from), func() [][]int { return r.re.FindAllStringSubmatchIndex(s, -1) })
	if loc == nil {
		return nil
	}
	m := matchAt(s, loc, nil)
	o := newObject(5)
	o.set("match", m.match)
	o.set("start", float64(m.start))
	o.set("end", float64(m.end))
	o.set("groups", &array{items: m.groups})
	end := m.end
	o.set("next", &builtin{name: "next", fn: func(c call, args []any) (any, error) {
		if end >= total {
			return nil, nil
		}
		next := r.matchObject(s, end)
		if no, ok := next.(*object); ok {
			if mv, _ := no.get("match").(string); mv == "" {
				return nil, &Error{Code: "D1004", Position: r.pos, Value: r.source}
			}
		}
		return next, nil
	}})
	return o
}

// matchIter walks the matches of a regex or of a custom matcher function
// over a string with jsonata-js's protocol: the first match, then next()
// after each one. For a regex, next() searches from the end of the previous
// match and fails with D1004 when it finds an empty match (it would never
// progress); the first match may be empty.
type matchIter struct {
	c    call
	re   *regexValue
	s    string
	last int // regex: byte offset where the next search starts
	next any // custom matcher: the next function of the last result
	// a regex with assertions: the matches of one scan of the whole
	// string, and how many of them have been passed (see execFrom)
	scan    [][]int
	scanned bool
	passed  int
	offsets *utf16Offsets
}

func newMatchIter(c call, m any, s string) *matchIter {
	it := &matchIter{c: c, s: s}
	if re, ok := m.(*regexValue); ok {
		it.re = re
		it.offsets = newUTF16Offsets(s)
	} else {
		it.next = m
	}
	return it
}

// first returns the first match, or nil.
func (it *matchIter) first() (*regexMatch, error) {
	if it.re != nil {
		loc := it.re.execFrom(it.s, 0, nil)
		if loc == nil {
			return nil, nil
		}
		it.last = loc[1]
		return matchAt(it.s, loc, it.offsets), nil
	}
	fn := it.next
	it.next = nil
	res, err := it.c.st.apply(fn, []any{it.s}, nil, it.c.env)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, nil
	}
	// jsonata-js checks the structure of the first result only
	o, ok := asObject(res)
	if !ok {
		return nil, newError("T1010", 0, it.c.name, nil)
	}
	_, startOK := o.get("start").(float64)
	_, groupsOK := o.get("groups").(*array)
	if !startOK && !groupsOK && !isFunction(o.get("next")) {
		return nil, newError("T1010", 0, it.c.name, nil)
	}
	return it.custom(o), nil
}

func (it *matchIter) custom(o *object) *regexMatch {
	mm := &regexMatch{groups: []any{}}
	mm.match, _ = o.get("match").(string)
	sv, _ := o.get("start").(float64)
	ev, _ := o.get("end").(float64)
	if ga, ok := o.get("groups").(*array); ok {
		mm.groups = ga.items
	}
	mm.start, mm.end = int(sv), int(ev)
	mm.bstart = utf16ToByte(it.s, max(mm.start, 0))
	mm.bend = max(mm.bstart, utf16ToByte(it.s, max(mm.end, 0)))
	if n := o.get("next"); isFunction(n) {
		it.next = n
	}
	return mm
}

// following returns the match after the last one, or nil.
func (it *matchIter) following() (*regexMatch, error) {
	if it.re != nil {
		if it.last >= len(it.s) {
			return nil, nil
		}
		loc := it.re.execFrom(it.s, it.last, func() [][]int {
			// one scan serves the whole walk (searching again from each
			// match would be quadratic)
			if !it.scanned {
				it.scan, it.scanned = it.re.re.FindAllStringSubmatchIndex(it.s, -1), true
			}
			for it.passed < len(it.scan) && it.scan[it.passed][0] <= it.last {
				it.passed++
			}
			return it.scan[it.passed:]
		})
		if loc == nil {
			return nil, nil
		}
		if loc[0] == loc[1] {
			return nil, &Error{Code: "D1004", Value: it.re.source}
		}
		it.last = loc[1]
		return matchAt(it.s, loc, it.offsets), nil
	}
	if it.next == nil {
		return nil, nil
	}
	fn := it.next
	it.next = nil
	res, err := it.c.st.apply(fn, nil, nil, it.c.env)
	if err != nil {
		return nil, err
	}
	o, ok := asObject(res)
	if !ok {
		return nil, nil
	}
	return it.custom(o), nil
}
