package jsonata

import (
	"strconv"
	"strings"
)

type tokenKind int

const (
	tokEnd tokenKind = iota
	tokName
	tokVariable
	tokOperator
	tokString
	tokNumber
	tokValue
	tokRegex
)

type token struct {
	kind  tokenKind
	value any // string for names/operators/strings, float64, bool/null{}, *regexLiteral
	pos   int
}

type regexLiteral struct {
	pattern string
	flags   string
}

// operatorPrecedence is the binding power of each operator symbol.
func operatorPrecedence() map[string]int {
	return map[string]int{
		".": 75, "[": 80, "]": 0, "{": 70, "}": 0, "(": 80, ")": 0, ",": 0, "@": 80, "#": 80,
		";": 80, ":": 80, "?": 20, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "|": 20,
		"=": 40, "<": 40, ">": 40, "^": 40, "**": 60, "..": 20, ":=": 10, "!=": 40, "<=": 40,
		">=": 40, "~>": 40, "and": 30, "or": 25, "in": 40, "&": 50, "!": 0, "~": 0,
	}
}

type lexer struct {
	src []rune
	pos int
	ops map[string]int
}

func (l *lexer) at(i int) rune {
	if i < 0 || i >= len(l.src) {
		return 0
	}
	return l.src[i]
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v'
}

func (l *lexer) isOpChar(r rune) bool {
	if r >= 128 || r == 0 {
		return false
	}
	_, ok := l.ops[string(r)]
	return ok
}

// next returns the next token; infix reports that a '/' is division rather
// than the start of a regular expression. ok is false at the end.
func (l *lexer) next(infix bool) (token, bool, error) {
	n := len(l.src)
	for l.pos < n && isSpace(l.src[l.pos]) {
		l.pos++
	}
	if l.pos >= n {
		return token{}, false, nil
	}
	c := l.src[l.pos]
	if c == '/' && l.at(l.pos+1) == '*' {
		start := l.pos
		l.pos += 2
		for l.at(l.pos) != '*' || l.at(l.pos+1) != '/' {
			l.pos++
			if l.pos >= n {
				return token{}, false, newError("S0106", start, "", nil)
			}
		}
		l.pos += 2
		return l.next(infix)
	}
	if !infix && c == '/' {
		l.pos++
		re, err := l.scanRegex()
		if err != nil {
			return token{}, false, err
		}
		return token{kind: tokRegex, value: re, pos: l.pos}, true, nil
	}
	two := string(c) + string(l.at(l.pos+1))
	switch two {
	case "..", ":=", "!=", ">=", "<=", "**", "~>":
		l.pos += 2
		return token{kind: tokOperator, value: two, pos: l.pos}, true, nil
	}
	if l.isOpChar(c) {
		l.pos++
		return token{kind: tokOperator, value: string(c), pos: l.pos}, true, nil
	}
	if c == '"' || c == '\'' {
		quote := c
		l.pos++
		var b strings.Builder
		for l.pos < n {
			c = l.src[l.pos]
			switch c {
			case '\\':
				l.pos++
				c = l.at(l.pos)
				switch c {
				case '"', '\\', '/':
					b.WriteRune(c)
				case 'b':
					b.WriteByte('\b')
				case 'f':
					b.WriteByte('\f')
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case 'u':
					hex := string(l.src[min(l.pos+1, n):min(l.pos+5, n)])
					cp, err := strconv.ParseUint(hex, 16, 32)
					if len(hex) != 4 || err != nil {
						return token{}, false, newError("S0104", l.pos, "", nil)
					}
					l.pos += 4
					r := rune(cp)
					if r >= 0xD800 && r < 0xDC00 && l.at(l.pos+1) == '\\' && l.at(l.pos+2) == 'u' && l.pos+6 < n {
						lo, err := strconv.ParseUint(string(l.src[l.pos+3:l.pos+7]), 16, 32)
						if err == nil && lo >= 0xDC00 && lo < 0xE000 {
							r = (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
							l.pos += 6
						}
					}
					b.WriteRune(r)
				default:
					return token{}, false, newError("S0103", l.pos, string(c), nil)
				}
			case quote:
				l.pos++
				return token{kind: tokString, value: b.String(), pos: l.pos}, true, nil
			default:
				b.WriteRune(c)
			}
			l.pos++
		}
		return token{}, false, newError("S0101", l.pos, "", nil)
	}
	if c >= '0' && c <= '9' {
		end := l.scanNumber()
		text := string(l.src[l.pos:end])
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return token{}, false, newError("S0102", l.pos, text, nil)
		}
		l.pos = end
		return token{kind: tokNumber, value: f, pos: l.pos}, true, nil
	}
	if c == '`' {
		l.pos++
		for i := l.pos; i < n; i++ {
			if l.src[i] == '`' {
				name := string(l.src[l.pos:i])
				l.pos = i + 1
				return token{kind: tokName, value: name, pos: l.pos}, true, nil
			}
		}
		l.pos = n
		return token{}, false, newError("S0105", l.pos, "", nil)
	}
	i := l.pos
	for i < n && !isSpace(l.src[i]) && !l.isOpChar(l.src[i]) {
		i++
	}
	if c == '$' {
		name := string(l.src[l.pos+1 : i])
		l.pos = i
		return token{kind: tokVariable, value: name, pos: l.pos}, true, nil
	}
	name := string(l.src[l.pos:i])
	l.pos = i
	switch name {
	case "or", "in", "and":
		return token{kind: tokOperator, value: name, pos: l.pos}, true, nil
	case "true":
		return token{kind: tokValue, value: true, pos: l.pos}, true, nil
	case "false":
		return token{kind: tokValue, value: false, pos: l.pos}, true, nil
	case "null":
		return token{kind: tokValue, value: null{}, pos: l.pos}, true, nil
	}
	return token{kind: tokName, value: name, pos: l.pos}, true, nil
}

// scanNumber returns the end of the number literal at l.pos
// (0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)?
func (l *lexer) scanNumber() int {
	i := l.pos
	digits := func(j int) int {
		for j < len(l.src) && l.src[j] >= '0' && l.src[j] <= '9' {
			j++
		}
		return j
	}
	if l.src[i] == '0' {
		i++
	} else {
		i = digits(i)
	}
	if l.at(i) == '.' && l.at(i+1) >= '0' && l.at(i+1) <= '9' {
		i = digits(i + 1)
	}
	if e := l.at(i); e == 'e' || e == 'E' {
		j := i + 1
		if s := l.at(j); s == '+' || s == '-' {
			j++
		}
		if l.at(j) >= '0' && l.at(j) <= '9' {
			i = digits(j)
		}
	}
	return i
}

func (l *lexer) scanRegex() (*regexLiteral, error) {
	start := l.pos
	depth := 0
	n := len(l.src)
	for l.pos < n {
		c := l.src[l.pos]
		if c == '/' && depth == 0 {
			bs := 0
			for l.at(l.pos-(bs+1)) == '\\' {
				bs++
			}
			if bs%2 == 0 {
				pattern := string(l.src[start:l.pos])
				if pattern == "" {
					return nil, newError("S0301", l.pos, "", nil)
				}
				l.pos++
				fs := l.pos
				for l.at(l.pos) == 'i' || l.at(l.pos) == 'm' {
					l.pos++
				}
				return &regexLiteral{pattern: pattern, flags: string(l.src[fs:l.pos])}, nil
			}
		}
		if (c == '(' || c == '[' || c == '{') && l.at(l.pos-1) != '\\' {
			depth++
		}
		if (c == ')' || c == ']' || c == '}') && l.at(l.pos-1) != '\\' {
			depth--
		}
		l.pos++
	}
	return nil, newError("S0302", l.pos, "", nil)
}
