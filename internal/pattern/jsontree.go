package pattern

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonKind is the type of a JSON value.
type jsonKind uint8

const (
	kindNull jsonKind = iota
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k jsonKind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindFalse, kindTrue:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindArray:
		return "array"
	default:
		return "object"
	}
}

// jvalue is a parsed JSON value that keeps object members in document order,
// duplicates included, and number literals as written.
type jvalue struct {
	kind    jsonKind
	str     string // string content, or the number literal
	items   []*jvalue
	members []jmember
}

type jmember struct {
	key   string
	value *jvalue
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 512

// parseJSON parses one JSON document. Errors give the byte offset.
func parseJSON(src []byte) (*jvalue, error) {
	p := jparser{src: src}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("offset %d: unexpected %s after the JSON value", p.pos, p.describe())
	}
	return v, nil
}

type jparser struct {
	src []byte
	pos int
}

func (p *jparser) ws() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) describe() string {
	if p.pos >= len(p.src) {
		return "end of input"
	}
	c, _ := utf8.DecodeRune(p.src[p.pos:])
	return strconv.QuoteRune(c)
}

func (p *jparser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jparser) value(depth int) (*jvalue, error) {
	if depth > maxDepth {
		return nil, p.errorf("nesting deeper than %d levels", maxDepth)
	}
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of input, expected a JSON value")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return &jvalue{kind: kindString, str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok := scanNumber(p.src, p.pos)
		if !ok {
			return nil, p.errorf("malformed number")
		}
		v := &jvalue{kind: kindNumber, str: string(p.src[p.pos:end])}
		p.pos = end
		return v, nil
	default:
		for _, lit := range [...]struct {
			word string
			kind jsonKind
		}{{"true", kindTrue}, {"false", kindFalse}, {"null", kindNull}} {
			if hasWord(p.src[p.pos:], lit.word) {
				p.pos += len(lit.word)
				return &jvalue{kind: lit.kind}, nil
			}
		}
		return nil, p.errorf("unexpected %s, expected a JSON value (string, number, array, object, true, false or null)", p.describe())
	}
}

func hasWord(b []byte, w string) bool {
	if len(b) < len(w) || string(b[:len(w)]) != w {
		return false
	}
	if len(b) == len(w) {
		return true
	}
	c := b[len(w)]
	return (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_'
}

func (p *jparser) object(depth int) (*jvalue, error) {
	p.pos++ // {
	v := &jvalue{kind: kindObject}
	p.ws()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.ws()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, p.errorf("unexpected %s, expected a double-quoted field name", p.describe())
		}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errorf("unexpected %s, expected ':' after field name %q", p.describe(), key)
		}
		p.pos++
		p.ws()
		val, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.members = append(v.members, jmember{key: key, value: val})
		p.ws()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unexpected end of input, expected ',' or '}'")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return nil, p.errorf("unexpected %s, expected ',' or '}'", p.describe())
		}
	}
}

func (p *jparser) array(depth int) (*jvalue, error) {
	p.pos++ // [
	v := &jvalue{kind: kindArray}
	p.ws()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.ws()
		item, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.items = append(v.items, item)
		p.ws()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unexpected end of input, expected ',' or ']'")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return nil, p.errorf("unexpected %s, expected ',' or ']'", p.describe())
		}
	}
}

// string parses a JSON string starting at the opening quote.
func (p *jparser) string() (string, error) {
	end, escaped, ok := scanString(p.src, p.pos)
	if !ok {
		return "", p.errorf("malformed string")
	}
	raw := p.src[p.pos+1 : end-1]
	p.pos = end
	if !escaped {
		return string(raw), nil
	}
	return string(unescape(nil, raw)), nil
}

// scanString returns the offset just past the closing quote of the string
// starting at src[start] == '"', whether it contains escapes, and whether it
// is well formed.
func scanString(src []byte, start int) (end int, escaped, ok bool) {
	i := start + 1
	for i < len(src) {
		c := src[i]
		switch {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(src) {
				return 0, false, false
			}
			switch src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(src) {
					return 0, false, false
				}
				for _, h := range src[i+2 : i+6] {
					if !isHex(h) {
						return 0, false, false
					}
				}
				i += 6
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		default:
			i++
		}
	}
	return 0, false, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// unescape appends the decoded content of a well-formed JSON string body.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(raw[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 := rune(hex4(raw[i+2 : i+6]))
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						dst = utf8.AppendRune(dst, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) uint32 {
	var n uint32
	for _, c := range b {
		n <<= 4
		switch {
		case c >= '0' && c <= '9':
			n |= uint32(c - '0')
		case c >= 'a' && c <= 'f':
			n |= uint32(c-'a') + 10
		default:
			n |= uint32(c-'A') + 10
		}
	}
	return n
}

// scanNumber returns the end offset of the JSON number starting at start.
func scanNumber(src []byte, start int) (int, bool) {
	i := start
	if i < len(src) && src[i] == '-' {
		i++
	}
	if i >= len(src) {
		return 0, false
	}
	switch {
	case src[i] == '0':
		i++
	case src[i] >= '1' && src[i] <= '9':
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(src) && src[i] == '.' {
		i++
		d := i
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		d := i
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	return i, true
}
