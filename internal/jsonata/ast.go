package jsonata

type nodeType int

const (
	nEnd nodeType = iota
	nName
	nVariable
	nString
	nNumber
	nValue
	nRegex
	nOperator
	nBinary
	nUnary
	nArrayCons
	nObjectCons
	nWildcard
	nDescendant
	nParent
	nFunction
	nPartial
	nLambda
	nBlock
	nCondition
	nTransform
	nPath
	nBind
	nApply
	nSort
)

func (t nodeType) String() string {
	names := [...]string{"end", "name", "variable", "string", "number", "value", "regex", "operator",
		"binary", "unary", "unary", "unary", "wildcard", "descendant", "parent", "function", "partial",
		"lambda", "block", "condition", "transform", "path", "bind", "apply", "sort"}
	if int(t) < len(names) {
		return names[t]
	}
	return "unknown"
}

// slot identifies the ancestor a parent operator (%) refers to.
type slot struct {
	label string
	level int
	index int
}

type stage struct {
	filter *node  // predicate expression (filter stage)
	index  string // index binding name (index stage)
	pos    int
}

type sortTerm struct {
	descending bool
	expr       *node
}

type groupExpr struct {
	pairs [][2]*node
	pos   int
}

// node is an AST node. The parser fills the syntactic fields; the
// post-processing pass (processAST) builds paths, stages, tuple flags and
// ancestor slots.
type node struct {
	typ   nodeType
	op    string // operator for nBinary/nUnary, name for nName/nVariable, string literal
	num   float64
	val   any // nValue: bool or null{}
	lit   any // nString, nNumber: the value, boxed once (see boxLiterals)
	pos   int
	regex *regexValue

	lhs, rhs *node
	expr     *node   // unary operand
	exprs    []*node // array constructor items, block expressions
	pairs    [][2]*node
	terms    []sortTerm // order-by (raw) / sort step

	// path
	steps              []*node
	keepSingletonArray bool

	// step annotations
	predicate []*stage
	stages    []*stage
	group     *groupExpr
	focus     string
	index     string
	tuple     bool
	ancestor  *slot
	keepArray bool
	consarray bool

	seekingParent []*slot
	slot          *slot

	// function call / partial / lambda
	procedure *node
	args      []*node
	params    []string
	sig       *signature
	sigText   string
	body      *node
	thunk     bool

	// condition
	cond, then, els *node

	// transform
	pattern, update, delete *node
}

// walk calls f on n and every node below it.
func (n *node) walk(f func(*node)) {
	if n == nil {
		return
	}
	f(n)
	for _, c := range []*node{n.lhs, n.rhs, n.expr, n.procedure, n.body, n.cond, n.then, n.els, n.pattern, n.update, n.delete} {
		c.walk(f)
	}
	for _, list := range [][]*node{n.exprs, n.steps, n.args} {
		for _, c := range list {
			c.walk(f)
		}
	}
	for _, p := range n.pairs {
		p[0].walk(f)
		p[1].walk(f)
	}
	for _, t := range n.terms {
		t.expr.walk(f)
	}
	for _, list := range [][]*stage{n.predicate, n.stages} {
		for _, s := range list {
			s.filter.walk(f)
		}
	}
	if n.group != nil {
		for _, p := range n.group.pairs {
			p[0].walk(f)
			p[1].walk(f)
		}
	}
}

// boxLiterals stores each string and number literal as an interface value
// once, so evaluating a literal does not allocate.
func boxLiterals(root *node) {
	root.walk(func(n *node) {
		switch n.typ {
		case nString:
			n.lit = n.op
		case nNumber:
			n.lit = n.num
		}
	})
}
