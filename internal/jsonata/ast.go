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
