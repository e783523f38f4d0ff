package jsonata

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// regexValue is a compiled regular expression literal. JavaScript regex
// syntax is translated to Go's RE2 syntax; constructs RE2 cannot run
// (lookaround, backreferences) are rejected when the expression is compiled.
type regexValue struct {
	re     *regexp.Regexp
	source string
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
	return &regexValue{re: re, source: pattern}, nil
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

// matches returns the successive matches of the regex in s as JavaScript's
// global exec loop produces them; a zero-length match that would not make
// progress is error D1004.
func (r *regexValue) matches(s string, limit int) ([]regexMatch, error) {
	locs := r.re.FindAllStringSubmatchIndex(s, -1)
	var out []regexMatch
	unitIdx := byteToUTF16Index(s)
	for i, loc := range locs {
		if i > 0 {
			prev := locs[i-1]
			if prev[1] >= len(s) {
				break
			}
			if loc[0] == loc[1] || prev[0] == prev[1] {
				return nil, &Error{Code: "D1004", Value: r.source}
			}
		}
		if limit >= 0 && len(out) >= limit {
			break
		}
		m := regexMatch{match: s[loc[0]:loc[1]], start: unitIdx(loc[0]), end: unitIdx(loc[1]), bstart: loc[0], bend: loc[1]}
		for g := 1; g < len(loc)/2; g++ {
			if loc[2*g] < 0 {
				m.groups = append(m.groups, nil) // unmatched group: undefined
				continue
			}
			m.groups = append(m.groups, s[loc[2*g]:loc[2*g+1]])
		}
		if m.groups == nil {
			m.groups = []any{}
		}
		out = append(out, m)
	}
	if n := len(out); n > 0 && n == len(locs) {
		if last := locs[n-1]; last[0] == last[1] && last[1] < len(s) {
			return nil, &Error{Code: "D1004", Value: r.source}
		}
	}
	return out, nil
}

func byteToUTF16Index(s string) func(int) int {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return func(i int) int { return i }
	}
	return func(i int) int { return utf16Len(s[:i]) }
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

// matchObject is the value of calling a regex as a function: the first match
// at or after character offset from, with a next() function.
func (r *regexValue) matchObject(s string, from int) any {
	total := utf16Len(s)
	if from > total {
		return nil
	}
	prefix := utf16ToByte(s, from)
	loc := r.re.FindStringSubmatchIndex(s[prefix:])
	if loc == nil {
		return nil
	}
	m := regexMatch{match: s[prefix+loc[0] : prefix+loc[1]]}
	m.start = from + utf16Len(s[prefix:prefix+loc[0]])
	m.end = m.start + utf16Len(m.match)
	o := newObject(5)
	o.set("match", m.match)
	o.set("start", float64(m.start))
	o.set("end", float64(m.end))
	groups := &array{}
	for g := 1; g < len(loc)/2; g++ {
		if loc[2*g] < 0 {
			groups.items = append(groups.items, nil)
			continue
		}
		groups.items = append(groups.items, s[prefix+loc[2*g]:prefix+loc[2*g+1]])
	}
	o.set("groups", groups)
	end := m.end
	o.set("next", &builtin{name: "next", fn: func(c call, args []any) (any, error) {
		if end >= total {
			return nil, nil
		}
		return r.matchObject(s, end), nil
	}})
	return o
}
