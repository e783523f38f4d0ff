package jsonata

import (
	"strings"
)

// signature is a parsed function signature such as "<s-nn?:s>".
type signature struct {
	params []sigParam
	text   string
}

type sigParam struct {
	typ      string // s n b l o a f j x or (choice)
	regex    string
	context  bool
	subtype  string
	isArray  bool
	optional bool
	variadic bool
	class    string // symbols the parameter accepts
}

func findClosing(sig []rune, start int, open, close rune) int {
	depth := 1
	pos := start
	for pos < len(sig) {
		pos++
		if pos >= len(sig) {
			break
		}
		c := sig[pos]
		if c == close {
			depth--
			if depth == 0 {
				break
			}
		} else if c == open {
			depth++
		}
	}
	return pos
}

func parseSignature(text string) (*signature, *Error) {
	sig := []rune(text)
	var params []sigParam
	cur := sigParam{}
	prev := -1
	push := func() {
		params = append(params, cur)
		prev = len(params) - 1
		cur = sigParam{}
	}
	for pos := 1; pos < len(sig); pos++ {
		c := sig[pos]
		if c == ':' {
			break
		}
		switch c {
		case 's', 'n', 'b', 'l', 'o':
			cur.regex = "[" + string(c) + "m]"
			cur.typ = string(c)
			push()
		case 'a':
			cur.regex = "[asnblfom]"
			cur.typ = "a"
			cur.isArray = true
			push()
		case 'f':
			cur.regex = "f"
			cur.typ = "f"
			push()
		case 'j':
			cur.regex = "[asnblom]"
			cur.typ = "j"
			push()
		case 'x':
			cur.regex = "[asnblfom]"
			cur.typ = "x"
			push()
		case '-':
			if prev >= 0 {
				pp := &params[prev]
				pp.context = true
				pp.regex += "?"
			}
		case '?', '+':
			if prev >= 0 {
				params[prev].regex += string(c)
				if c == '?' {
					params[prev].optional = true
				} else {
					params[prev].variadic = true
				}
			}
		case '(':
			end := findClosing(sig, pos, '(', ')')
			if end >= len(sig) {
				end = len(sig) - 1
			}
			choice := string(sig[pos+1 : end])
			if strings.Contains(choice, "<") {
				return nil, &Error{Code: "S0402", Position: pos, Value: choice}
			}
			cur.regex = "[" + choice + "m]"
			cur.typ = "(" + choice + ")"
			pos = end
			push()
		case '<':
			if prev >= 0 && (params[prev].typ == "a" || params[prev].typ == "f") {
				end := findClosing(sig, pos, '<', '>')
				if end >= len(sig) {
					end = len(sig) - 1
				}
				params[prev].subtype = string(sig[pos+1 : end])
				pos = end
			} else {
				t := ""
				if prev >= 0 {
					t = params[prev].typ
				}
				return nil, &Error{Code: "S0401", Position: pos, Value: t}
			}
		}
	}
	for i := range params {
		p := &params[i]
		p.class = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(p.regex, "?"), "+"), "?")
		p.class = strings.Trim(p.class, "[]")
	}
	return &signature{params: params, text: text}, nil
}

// match matches the argument symbols against the parameters with the
// semantics of the backtracking regular expression jsonata-js builds
// (greedy optional and one-or-more parameters), filling spans with the
// [start, end) of the symbols each parameter takes.
func (s *signature) match(sym []byte, pi, si int, spans [][2]int) bool {
	if pi == len(s.params) {
		return si == len(sym)
	}
	p := &s.params[pi]
	accepts := func(i int) bool { return i < len(sym) && strings.IndexByte(p.class, sym[i]) >= 0 }
	switch {
	case p.variadic:
		n := 0
		for accepts(si + n) {
			n++
		}
		for ; n >= 1; n-- {
			if s.match(sym, pi+1, si+n, spans) {
				spans[pi] = [2]int{si, si + n}
				return true
			}
		}
		return false
	case p.optional || p.context:
		if accepts(si) && s.match(sym, pi+1, si+1, spans) {
			spans[pi] = [2]int{si, si + 1}
			return true
		}
		if s.match(sym, pi+1, si, spans) {
			spans[pi] = [2]int{si, si}
			return true
		}
		return false
	default:
		if accepts(si) && s.match(sym, pi+1, si+1, spans) {
			spans[pi] = [2]int{si, si + 1}
			return true
		}
		return false
	}
}

// prefixLen reports how many symbols the first n parameters can take, or -1
// when they cannot match a prefix of sym (for the error's argument index).
func (s *signature) prefixLen(sym []byte, n int) int {
	best := -1
	var try func(pi, si int)
	try = func(pi, si int) {
		if best >= 0 {
			return
		}
		if pi == n {
			best = si
			return
		}
		p := &s.params[pi]
		accepts := func(i int) bool { return i < len(sym) && strings.IndexByte(p.class, sym[i]) >= 0 }
		switch {
		case p.variadic:
			k := 0
			for accepts(si + k) {
				k++
			}
			for ; k >= 1 && best < 0; k-- {
				try(pi+1, si+k)
			}
		case p.optional || p.context:
			if accepts(si) {
				try(pi+1, si+1)
			}
			if best < 0 {
				try(pi+1, si)
			}
		default:
			if accepts(si) {
				try(pi+1, si+1)
			}
		}
	}
	try(0, 0)
	return best
}

func arrayTypeName(sub string) string {
	names := map[byte]string{'a': "arrays", 'b': "booleans", 'f': "functions", 'n': "numbers", 'o': "objects", 's': "strings"}
	if sub == "" {
		return "undefined"
	}
	if n, ok := names[sub[0]]; ok {
		return `"` + n + `"`
	}
	return "undefined"
}

func typeSymbol(v any) byte {
	switch x := v.(type) {
	case nil:
		return 'm'
	case string:
		return 's'
	case float64:
		return 'n'
	case bool:
		return 'b'
	case null:
		return 'l'
	case *array:
		_ = x
		return 'a'
	case *object, map[string]any:
		return 'o'
	case *lambda, *builtin, *partial, *regexValue:
		return 'f'
	}
	return 'm'
}

// validate checks args against the signature, substituting the context for
// a missing context-able first argument and wrapping singletons for array
// parameters. It returns the (possibly fixed-up) argument list.
func (s *signature) validate(args []any, context any) ([]any, error) {
	var symBuf [8]byte
	var sym []byte
	if len(args) <= len(symBuf) {
		sym = symBuf[:len(args)]
	} else {
		sym = make([]byte, len(args))
	}
	for i, a := range args {
		sym[i] = typeSymbol(a)
	}
	var spanBuf [8][2]int
	var spans [][2]int
	if len(s.params) <= len(spanBuf) {
		spans = spanBuf[:len(s.params)]
	} else {
		spans = make([][2]int, len(s.params))
	}
	if !s.match(sym, 0, 0, spans) {
		return nil, s.validationError(sym)
	}
	if len(args) == len(s.params) {
		same := true
		for i := range s.params {
			p := &s.params[i]
			if spans[i][1]-spans[i][0] != 1 || (p.typ == "a" && (p.subtype != "" || (sym[i] != 'a' && sym[i] != 'm'))) {
				same = false
				break
			}
		}
		if same {
			return args, nil
		}
	}
	out := make([]any, 0, len(s.params))
	argIndex := 0
	for i, p := range s.params {
		start, end := spans[i][0], spans[i][1]
		if start == end {
			if p.context {
				cs := string(typeSymbol(context))
				if strings.Contains(p.class, cs) {
					out = append(out, context)
				} else {
					return nil, &Error{Code: "T0411", Value: float64(argIndex + 1)}
				}
			} else {
				var a any
				if argIndex < len(args) {
					a = args[argIndex]
				}
				out = append(out, a)
				argIndex++
			}
			continue
		}
		for j := start; j < end; j++ {
			single := sym[j]
			arg := args[argIndex]
			if p.typ == "a" {
				if single == 'm' {
					arg = nil
				} else {
					ok := true
					if p.subtype != "" {
						if single != 'a' && string(sym[start:end]) != p.subtype {
							ok = false
						} else if single == 'a' {
							items := arg.(*array).items
							if len(items) > 0 {
								it := typeSymbol(items[0])
								if it != p.subtype[0] {
									ok = false
								} else {
									for _, v := range items {
										if typeSymbol(v) != it {
											ok = false
											break
										}
									}
								}
							}
						}
					}
					if !ok {
						return nil, &Error{Code: "T0412", Value: float64(argIndex + 1), extra: arrayTypeName(p.subtype)}
					}
					if single != 'a' {
						arg = &array{items: []any{arg}}
					}
				}
			}
			out = append(out, arg)
			argIndex++
		}
	}
	return out, nil
}

func (s *signature) validationError(sym []byte) error {
	goodTo := 0
	for n := 1; n <= len(s.params); n++ {
		l := s.prefixLen(sym, n)
		if l < 0 {
			return &Error{Code: "T0410", Value: float64(goodTo + 1)}
		}
		goodTo = l
	}
	return &Error{Code: "T0410", Value: float64(goodTo + 1)}
}
