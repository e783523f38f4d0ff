package jsonata

import (
	"strings"
)

// parser is a Pratt (top-down operator precedence) parser for JSONata.
type parser struct {
	lex     *lexer
	src     string
	ops     map[string]int
	tok     token  // current token
	id      string // symbol id of the current token
	lbp     int
	anLabel int
	anIndex int
	parents []*node
}

// symbolLBP is the left binding power of each symbol the parser knows.
func symbolLBP() map[string]int {
	return map[string]int{
		"(end)": 0, "(name)": 0, "(literal)": 0, "(regex)": 0,
		":": 0, ";": 0, ",": 0, ")": 0, "]": 0, "}": 0, "..": 0,
		".": 75, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "=": 40, "<": 40, ">": 40,
		"!=": 40, "<=": 40, ">=": 40, "&": 50, "and": 30, "or": 25, "in": 40, "~>": 40,
		"(": 80, "[": 80, "^": 40, "{": 70, ":=": 10, "@": 80, "#": 80, "?": 20,
		"|": 0, "**": 0,
	}
}

func parse(src string) (*node, error) {
	ops := operatorPrecedence()
	p := &parser{lex: &lexer{src: []rune(src), ops: ops}, src: src, ops: symbolLBP()}
	if err := p.advance("", false); err != nil {
		return nil, err
	}
	ast, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	if p.id != "(end)" {
		return nil, newError("S0201", p.tok.pos, tokenText(p.tok), nil)
	}
	ast, err = p.process(ast)
	if err != nil {
		return nil, err
	}
	if ast.typ == nParent || ast.seekingParent != nil {
		return nil, newError("S0217", ast.pos, ast.typ.String(), nil)
	}
	return ast, nil
}

func tokenText(t token) string {
	if t.kind == tokEnd {
		return "(end)"
	}
	switch v := t.value.(type) {
	case string:
		return v
	case float64:
		return formatNumberJS(v)
	case bool:
		if v {
			return "true"
		}
		return "false"
	case null:
		return "null"
	case *regexLiteral:
		return "/" + v.pattern + "/" + v.flags
	}
	return ""
}

// advance checks that the current symbol is id (when given) and reads the
// next token.
func (p *parser) advance(id string, infix bool) error {
	if id != "" && p.id != id {
		code := "S0202"
		if p.id == "(end)" {
			code = "S0203"
		}
		e := newError(code, p.tok.pos, tokenText(p.tok), id)
		return e
	}
	t, ok, err := p.lex.next(infix)
	if err != nil {
		return err
	}
	if !ok {
		p.tok = token{kind: tokEnd, pos: len(p.lex.src)}
		p.id = "(end)"
		p.lbp = 0
		return nil
	}
	p.tok = t
	switch t.kind {
	case tokName, tokVariable:
		p.id = "(name)"
	case tokOperator:
		p.id = t.value.(string)
		if _, ok := p.ops[p.id]; !ok {
			return newError("S0204", t.pos, p.id, nil)
		}
	case tokString, tokNumber, tokValue:
		p.id = "(literal)"
	case tokRegex:
		p.id = "(regex)"
	}
	p.lbp = p.ops[p.id]
	return nil
}

func (p *parser) expression(rbp int) (*node, error) {
	t, id := p.tok, p.id
	if err := p.advance("", true); err != nil {
		return nil, err
	}
	left, err := p.nud(t, id)
	if err != nil {
		return nil, err
	}
	for rbp < p.lbp {
		t, id = p.tok, p.id
		if err := p.advance("", false); err != nil {
			return nil, err
		}
		left, err = p.led(t, id, left)
		if err != nil {
			return nil, err
		}
	}
	return left, nil
}

func (p *parser) nud(t token, id string) (*node, error) {
	n := &node{pos: t.pos}
	switch id {
	case "(end)":
		n.typ = nEnd
		return n, nil
	case "(name)":
		if t.kind == tokVariable {
			n.typ = nVariable
		} else {
			n.typ = nName
		}
		n.op = t.value.(string)
		return n, nil
	case "(literal)":
		switch v := t.value.(type) {
		case string:
			n.typ, n.op = nString, v
		case float64:
			n.typ, n.num = nNumber, v
		default:
			n.typ, n.val = nValue, v
		}
		return n, nil
	case "(regex)":
		rl := t.value.(*regexLiteral)
		re, err := compileRegex(rl.pattern, rl.flags)
		if err != nil {
			err.Position = t.pos
			return nil, err
		}
		re.pos = t.pos
		n.typ, n.regex = nRegex, re
		return n, nil
	case "and", "or", "in":
		n.typ, n.op = nOperator, id
		return n, nil
	case "-":
		e, err := p.expression(70)
		if err != nil {
			return nil, err
		}
		n.typ, n.op, n.expr = nUnary, "-", e
		return n, nil
	case "*":
		n.typ = nWildcard
		return n, nil
	case "**":
		n.typ = nDescendant
		return n, nil
	case "%":
		n.typ = nParent
		return n, nil
	case "(":
		var exprs []*node
		for p.id != ")" {
			e, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			exprs = append(exprs, e)
			if p.id != ";" {
				break
			}
			if err := p.advance(";", false); err != nil {
				return nil, err
			}
		}
		if err := p.advance(")", true); err != nil {
			return nil, err
		}
		n.typ, n.exprs = nBlock, exprs
		return n, nil
	case "[":
		var items []*node
		if p.id != "]" {
			for {
				item, err := p.expression(0)
				if err != nil {
					return nil, err
				}
				if p.id == ".." {
					r := &node{typ: nBinary, op: "..", pos: p.tok.pos, lhs: item}
					if err := p.advance("..", false); err != nil {
						return nil, err
					}
					if r.rhs, err = p.expression(0); err != nil {
						return nil, err
					}
					item = r
				}
				items = append(items, item)
				if p.id != "," {
					break
				}
				if err := p.advance(",", false); err != nil {
					return nil, err
				}
			}
		}
		if err := p.advance("]", true); err != nil {
			return nil, err
		}
		n.typ, n.exprs = nArrayCons, items
		return n, nil
	case "{":
		pairs, err := p.objectPairs()
		if err != nil {
			return nil, err
		}
		n.typ, n.pairs = nObjectCons, pairs
		return n, nil
	case "|":
		n.typ = nTransform
		var err error
		if n.pattern, err = p.expression(0); err != nil {
			return nil, err
		}
		if err := p.advance("|", false); err != nil {
			return nil, err
		}
		if n.update, err = p.expression(0); err != nil {
			return nil, err
		}
		if p.id == "," {
			if err := p.advance(",", false); err != nil {
				return nil, err
			}
			if n.delete, err = p.expression(0); err != nil {
				return nil, err
			}
		}
		if err := p.advance("|", false); err != nil {
			return nil, err
		}
		return n, nil
	}
	return nil, newError("S0211", t.pos, tokenText(t), nil)
}

func (p *parser) objectPairs() ([][2]*node, error) {
	var pairs [][2]*node
	if p.id != "}" {
		for {
			k, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			if err := p.advance(":", false); err != nil {
				return nil, err
			}
			v, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, [2]*node{k, v})
			if p.id != "," {
				break
			}
			if err := p.advance(",", false); err != nil {
				return nil, err
			}
		}
	}
	if err := p.advance("}", true); err != nil {
		return nil, err
	}
	return pairs, nil
}

func (p *parser) led(t token, id string, left *node) (*node, error) {
	n := &node{pos: t.pos, op: id}
	bp := p.ops[id]
	switch id {
	case ".", "+", "-", "*", "/", "%", "=", "<", ">", "!=", "<=", ">=", "&", "and", "or", "in", "~>":
		rhs, err := p.expression(bp)
		if err != nil {
			return nil, err
		}
		n.typ, n.lhs, n.rhs = nBinary, left, rhs
		return n, nil
	case "(":
		n.procedure = left
		n.typ = nFunction
		if p.id != ")" {
			for {
				if p.tok.kind == tokOperator && p.id == "?" {
					n.typ = nPartial
					n.args = append(n.args, &node{typ: nOperator, op: "?", pos: p.tok.pos})
					if err := p.advance("?", false); err != nil {
						return nil, err
					}
				} else {
					a, err := p.expression(0)
					if err != nil {
						return nil, err
					}
					n.args = append(n.args, a)
				}
				if p.id != "," {
					break
				}
				if err := p.advance(",", false); err != nil {
					return nil, err
				}
			}
		}
		if err := p.advance(")", true); err != nil {
			return nil, err
		}
		if left.typ == nName && (left.op == "function" || left.op == "λ") {
			for i, a := range n.args {
				if a.typ != nVariable {
					return nil, newError("S0208", a.pos, a.op, float64(i+1))
				}
				n.params = append(n.params, a.op)
			}
			n.typ = nLambda
			if p.id == "<" {
				sigPos := p.tok.pos
				depth := 1
				var sig strings.Builder
				sig.WriteString("<")
				for depth > 0 && p.id != "{" && p.id != "(end)" {
					if err := p.advance("", false); err != nil {
						return nil, err
					}
					switch p.id {
					case ">":
						depth--
					case "<":
						depth++
					}
					sig.WriteString(tokenText(p.tok))
				}
				if err := p.advance(">", false); err != nil {
					return nil, err
				}
				s, err := parseSignature(sig.String())
				if err != nil {
					err.Position += sigPos
					return nil, err
				}
				n.sig, n.sigText = s, sig.String()
			}
			if err := p.advance("{", false); err != nil {
				return nil, err
			}
			body, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			n.body = body
			if err := p.advance("}", false); err != nil {
				return nil, err
			}
		}
		return n, nil
	case "[":
		if p.id == "]" {
			step := left
			for step != nil && step.typ == nBinary && step.op == "[" {
				step = step.lhs
			}
			step.keepArray = true
			if err := p.advance("]", false); err != nil {
				return nil, err
			}
			return left, nil
		}
		rhs, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		n.typ, n.lhs, n.rhs = nBinary, left, rhs
		if err := p.advance("]", true); err != nil {
			return nil, err
		}
		return n, nil
	case "^":
		if err := p.advance("(", false); err != nil {
			return nil, err
		}
		for {
			term := sortTerm{}
			switch p.id {
			case "<":
				if err := p.advance("<", false); err != nil {
					return nil, err
				}
			case ">":
				term.descending = true
				if err := p.advance(">", false); err != nil {
					return nil, err
				}
			}
			e, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			term.expr = e
			n.terms = append(n.terms, term)
			if p.id != "," {
				break
			}
			if err := p.advance(",", false); err != nil {
				return nil, err
			}
		}
		if err := p.advance(")", false); err != nil {
			return nil, err
		}
		n.typ, n.lhs = nBinary, left
		return n, nil
	case "{":
		pairs, err := p.objectPairs()
		if err != nil {
			return nil, err
		}
		n.typ, n.lhs, n.pairs = nBinary, left, pairs
		return n, nil
	case ":=":
		if left.typ != nVariable {
			return nil, newError("S0212", left.pos, left.op, nil)
		}
		rhs, err := p.expression(bp - 1)
		if err != nil {
			return nil, err
		}
		n.typ, n.lhs, n.rhs = nBinary, left, rhs
		return n, nil
	case "@", "#":
		rhs, err := p.expression(bp)
		if err != nil {
			return nil, err
		}
		if rhs.typ != nVariable {
			e := newError("S0214", rhs.pos, id, nil)
			return nil, e
		}
		n.typ, n.lhs, n.rhs = nBinary, left, rhs
		return n, nil
	case "?":
		n.typ = nCondition
		n.cond = left
		var err error
		if n.then, err = p.expression(0); err != nil {
			return nil, err
		}
		if p.id == ":" {
			if err := p.advance(":", false); err != nil {
				return nil, err
			}
			if n.els, err = p.expression(0); err != nil {
				return nil, err
			}
		}
		return n, nil
	}
	return nil, newError("S0201", t.pos, tokenText(t), nil)
}

// process is the post-parse pass: it turns '.' chains into paths, attaches
// predicates, grouping, sorting and bindings to steps, resolves parent
// references to ancestor slots and marks tail calls.
func (p *parser) process(expr *node) (*node, error) {
	var result *node
	switch expr.typ {
	case nBinary:
		switch expr.op {
		case ".":
			lstep, err := p.process(expr.lhs)
			if err != nil {
				return nil, err
			}
			if lstep.typ == nPath {
				result = lstep
			} else {
				result = &node{typ: nPath, steps: []*node{lstep}, pos: lstep.pos}
			}
			if lstep.typ == nParent {
				result.seekingParent = []*slot{lstep.slot}
			}
			rest, err := p.process(expr.rhs)
			if err != nil {
				return nil, err
			}
			if rest.typ == nPath {
				result.steps = append(result.steps, rest.steps...)
			} else {
				if rest.predicate != nil {
					rest.stages = rest.predicate
					rest.predicate = nil
				}
				result.steps = append(result.steps, rest)
			}
			for _, st := range result.steps {
				switch st.typ {
				case nNumber:
					return nil, newError("S0213", st.pos, "", st.num)
				case nValue:
					return nil, newError("S0213", st.pos, "", st.val)
				case nString:
					st.typ = nName
				}
			}
			for _, st := range result.steps {
				if st.keepArray {
					result.keepSingletonArray = true
					break
				}
			}
			if first := result.steps[0]; first.typ == nArrayCons {
				first.consarray = true
			}
			if last := result.steps[len(result.steps)-1]; last.typ == nArrayCons {
				last.consarray = true
			}
			if err := p.resolveAncestry(result); err != nil {
				return nil, err
			}
		case "[":
			var err error
			result, err = p.process(expr.lhs)
			if err != nil {
				return nil, err
			}
			step := result
			useStages := false
			if result.typ == nPath {
				step = result.steps[len(result.steps)-1]
				useStages = true
			}
			if step.group != nil {
				return nil, newError("S0209", expr.pos, "", nil)
			}
			pred, err := p.process(expr.rhs)
			if err != nil {
				return nil, err
			}
			if pred.seekingParent != nil {
				for _, s := range pred.seekingParent {
					if s.level == 1 {
						if _, err := p.seekParent(step, s); err != nil {
							return nil, err
						}
					} else {
						s.level--
					}
				}
				pushAncestry(step, pred)
			}
			st := &stage{filter: pred, pos: expr.pos}
			if useStages {
				step.stages = append(step.stages, st)
			} else {
				step.predicate = append(step.predicate, st)
			}
		case "{":
			var err error
			result, err = p.process(expr.lhs)
			if err != nil {
				return nil, err
			}
			if result.group != nil {
				return nil, newError("S0210", expr.pos, "", nil)
			}
			g := &groupExpr{pos: expr.pos}
			for _, pair := range expr.pairs {
				k, err := p.process(pair[0])
				if err != nil {
					return nil, err
				}
				v, err := p.process(pair[1])
				if err != nil {
					return nil, err
				}
				g.pairs = append(g.pairs, [2]*node{k, v})
			}
			result.group = g
		case "^":
			var err error
			result, err = p.process(expr.lhs)
			if err != nil {
				return nil, err
			}
			if result.typ != nPath {
				result = &node{typ: nPath, steps: []*node{result}, pos: result.pos}
			}
			sortStep := &node{typ: nSort, pos: expr.pos}
			for _, term := range expr.terms {
				e, err := p.process(term.expr)
				if err != nil {
					return nil, err
				}
				pushAncestry(sortStep, e)
				sortStep.terms = append(sortStep.terms, sortTerm{descending: term.descending, expr: e})
			}
			result.steps = append(result.steps, sortStep)
			if err := p.resolveAncestry(result); err != nil {
				return nil, err
			}
		case ":=":
			result = &node{typ: nBind, pos: expr.pos}
			var err error
			if result.lhs, err = p.process(expr.lhs); err != nil {
				return nil, err
			}
			if result.rhs, err = p.process(expr.rhs); err != nil {
				return nil, err
			}
			pushAncestry(result, result.rhs)
		case "@":
			var err error
			result, err = p.process(expr.lhs)
			if err != nil {
				return nil, err
			}
			step := result
			if result.typ == nPath {
				step = result.steps[len(result.steps)-1]
			}
			if step.stages != nil || step.predicate != nil {
				return nil, newError("S0215", expr.pos, "", nil)
			}
			if step.typ == nSort {
				return nil, newError("S0216", expr.pos, "", nil)
			}
			if expr.keepArray {
				step.keepArray = true
			}
			step.focus = expr.rhs.op
			step.tuple = true
		case "#":
			var err error
			result, err = p.process(expr.lhs)
			if err != nil {
				return nil, err
			}
			step := result
			if result.typ == nPath {
				step = result.steps[len(result.steps)-1]
			} else {
				result = &node{typ: nPath, steps: []*node{result}, pos: result.pos}
				if step.predicate != nil {
					step.stages = step.predicate
					step.predicate = nil
				}
			}
			if step.stages == nil {
				step.index = expr.rhs.op
			} else {
				step.stages = append(step.stages, &stage{index: expr.rhs.op, pos: expr.pos})
			}
			step.tuple = true
		case "~>":
			result = &node{typ: nApply, op: "~>", pos: expr.pos}
			var err error
			if result.lhs, err = p.process(expr.lhs); err != nil {
				return nil, err
			}
			if result.rhs, err = p.process(expr.rhs); err != nil {
				return nil, err
			}
			result.keepArray = result.lhs.keepArray || result.rhs.keepArray
		default:
			result = &node{typ: nBinary, op: expr.op, pos: expr.pos}
			var err error
			if result.lhs, err = p.process(expr.lhs); err != nil {
				return nil, err
			}
			if result.rhs, err = p.process(expr.rhs); err != nil {
				return nil, err
			}
			pushAncestry(result, result.lhs)
			pushAncestry(result, result.rhs)
		}
	case nArrayCons:
		result = &node{typ: nArrayCons, pos: expr.pos}
		for _, item := range expr.exprs {
			v, err := p.process(item)
			if err != nil {
				return nil, err
			}
			pushAncestry(result, v)
			result.exprs = append(result.exprs, v)
		}
	case nObjectCons:
		result = &node{typ: nObjectCons, pos: expr.pos}
		for _, pair := range expr.pairs {
			k, err := p.process(pair[0])
			if err != nil {
				return nil, err
			}
			pushAncestry(result, k)
			v, err := p.process(pair[1])
			if err != nil {
				return nil, err
			}
			pushAncestry(result, v)
			result.pairs = append(result.pairs, [2]*node{k, v})
		}
	case nUnary:
		result = &node{typ: nUnary, op: expr.op, pos: expr.pos}
		e, err := p.process(expr.expr)
		if err != nil {
			return nil, err
		}
		if e.typ == nNumber {
			result = e
			result.num = -result.num
		} else {
			result.expr = e
			pushAncestry(result, e)
		}
	case nFunction, nPartial:
		result = &node{typ: expr.typ, pos: expr.pos}
		for _, a := range expr.args {
			v, err := p.process(a)
			if err != nil {
				return nil, err
			}
			pushAncestry(result, v)
			result.args = append(result.args, v)
		}
		var err error
		if result.procedure, err = p.process(expr.procedure); err != nil {
			return nil, err
		}
	case nLambda:
		result = &node{typ: nLambda, pos: expr.pos, params: expr.params, sig: expr.sig, sigText: expr.sigText}
		body, err := p.process(expr.body)
		if err != nil {
			return nil, err
		}
		result.body = tailCallOptimize(body)
	case nCondition:
		result = &node{typ: nCondition, pos: expr.pos}
		var err error
		if result.cond, err = p.process(expr.cond); err != nil {
			return nil, err
		}
		pushAncestry(result, result.cond)
		if result.then, err = p.process(expr.then); err != nil {
			return nil, err
		}
		pushAncestry(result, result.then)
		if expr.els != nil {
			if result.els, err = p.process(expr.els); err != nil {
				return nil, err
			}
			pushAncestry(result, result.els)
		}
	case nTransform:
		result = &node{typ: nTransform, pos: expr.pos}
		var err error
		if result.pattern, err = p.process(expr.pattern); err != nil {
			return nil, err
		}
		if result.update, err = p.process(expr.update); err != nil {
			return nil, err
		}
		if expr.delete != nil {
			if result.delete, err = p.process(expr.delete); err != nil {
				return nil, err
			}
		}
	case nBlock:
		result = &node{typ: nBlock, pos: expr.pos}
		for _, item := range expr.exprs {
			part, err := p.process(item)
			if err != nil {
				return nil, err
			}
			pushAncestry(result, part)
			if part.consarray || (part.typ == nPath && part.steps[0].consarray) {
				result.consarray = true
			}
			result.exprs = append(result.exprs, part)
		}
	case nName:
		result = &node{typ: nPath, steps: []*node{expr}, pos: expr.pos}
		if expr.keepArray {
			result.keepSingletonArray = true
		}
	case nParent:
		result = &node{typ: nParent, pos: expr.pos, slot: &slot{label: "!" + itoa(p.anLabel), level: 1, index: p.anIndex}}
		p.anLabel++
		p.anIndex++
		p.parents = append(p.parents, result)
	case nString, nNumber, nValue, nWildcard, nDescendant, nVariable, nRegex:
		result = expr
	case nOperator:
		if expr.op == "and" || expr.op == "or" || expr.op == "in" {
			expr.typ = nName
			return p.process(expr)
		}
		if expr.op == "?" {
			result = expr
		} else {
			return nil, newError("S0201", expr.pos, expr.op, nil)
		}
	case nEnd:
		return nil, newError("S0207", expr.pos, "(end)", nil)
	default:
		return nil, newError("S0206", expr.pos, expr.op, nil)
	}
	if expr.keepArray {
		result.keepArray = true
	}
	return result, nil
}

func itoa(i int) string {
	return formatNumberJS(float64(i))
}

func tailCallOptimize(expr *node) *node {
	switch expr.typ {
	case nFunction:
		if expr.predicate == nil {
			return &node{typ: nLambda, thunk: true, pos: expr.pos, body: expr}
		}
	case nCondition:
		expr.then = tailCallOptimize(expr.then)
		if expr.els != nil {
			expr.els = tailCallOptimize(expr.els)
		}
	case nBlock:
		if n := len(expr.exprs); n > 0 {
			expr.exprs[n-1] = tailCallOptimize(expr.exprs[n-1])
		}
	}
	return expr
}

func (p *parser) seekParent(n *node, s *slot) (*slot, error) {
	switch n.typ {
	case nName, nWildcard:
		s.level--
		if s.level == 0 {
			if n.ancestor != nil {
				p.parents[s.index].slot.label = n.ancestor.label
			}
			n.ancestor = s
			n.tuple = true
		}
	case nParent:
		s.level++
	case nBlock:
		if len(n.exprs) > 0 {
			n.tuple = true
			var err error
			if s, err = p.seekParent(n.exprs[len(n.exprs)-1], s); err != nil {
				return nil, err
			}
		}
	case nPath:
		n.tuple = true
		i := len(n.steps) - 1
		var err error
		if s, err = p.seekParent(n.steps[i], s); err != nil {
			return nil, err
		}
		i--
		for s.level > 0 && i >= 0 {
			if s, err = p.seekParent(n.steps[i], s); err != nil {
				return nil, err
			}
			i--
		}
	default:
		return nil, newError("S0217", n.pos, n.typ.String(), nil)
	}
	return s, nil
}

func pushAncestry(result, value *node) {
	if value.seekingParent == nil && value.typ != nParent {
		return
	}
	slots := value.seekingParent
	if value.typ == nParent {
		slots = append(slots, value.slot)
	}
	result.seekingParent = append(result.seekingParent, slots...)
}

func (p *parser) resolveAncestry(path *node) error {
	last := path.steps[len(path.steps)-1]
	slots := last.seekingParent
	if last.typ == nParent {
		slots = append(slots, last.slot)
	}
	for _, s := range slots {
		index := len(path.steps) - 2
		for s.level > 0 {
			if index < 0 {
				path.seekingParent = append(path.seekingParent, s)
				break
			}
			step := path.steps[index]
			index--
			for index >= 0 && step.focus != "" && path.steps[index].focus != "" {
				step = path.steps[index]
				index--
			}
			var err error
			if s, err = p.seekParent(step, s); err != nil {
				return err
			}
		}
	}
	return nil
}
