package rule

import (
	"sort"
	"strings"
)

// Canonical criteria operator names. Aliases accepted by StackStorm map onto
// these (see CanonicalOp).
const (
	OpEquals      = "equals"
	OpNEquals     = "nequals"
	OpIEquals     = "iequals"
	OpContains    = "contains"
	OpNContains   = "ncontains"
	OpIContains   = "icontains"
	OpINContains  = "incontains"
	OpStartsWith  = "startswith"
	OpIStartsWith = "istartswith"
	OpEndsWith    = "endswith"
	OpIEndsWith   = "iendswith"
	OpLessThan    = "lessthan"
	OpGreaterThan = "greaterthan"
	OpWildcard    = "matchwildcard"
	OpRegex       = "regex"
	OpIRegex      = "iregex"
	OpMatchRegex  = "matchregex"
	OpTimediffLT  = "timediff_lt"
	OpTimediffGT  = "timediff_gt"
	OpExists      = "exists"
	OpNExists     = "nexists"
	OpInside      = "inside"
	OpNInside     = "ninside"
	OpSearch      = "search"
)

// opAliases maps every name StackStorm accepts (lower case) to its canonical
// operator.
var opAliases = map[string]string{
	"equals": OpEquals, "eq": OpEquals,
	"nequals": OpNEquals, "neq": OpNEquals,
	"iequals": OpIEquals, "ieq": OpIEquals,
	"contains":    OpContains,
	"ncontains":   OpNContains,
	"icontains":   OpIContains,
	"incontains":  OpINContains,
	"startswith":  OpStartsWith,
	"istartswith": OpIStartsWith,
	"endswith":    OpEndsWith,
	"iendswith":   OpIEndsWith,
	"lessthan":    OpLessThan, "lt": OpLessThan,
	"greaterthan": OpGreaterThan, "gt": OpGreaterThan,
	"matchwildcard": OpWildcard,
	"regex":         OpRegex,
	"iregex":        OpIRegex,
	"matchregex":    OpMatchRegex,
	"timediff_lt":   OpTimediffLT, "td_lt": OpTimediffLT,
	"timediff_gt": OpTimediffGT, "td_gt": OpTimediffGT,
	"exists":  OpExists,
	"nexists": OpNExists,
	"inside":  OpInside, "in": OpInside,
	"ninside": OpNInside, "nin": OpNInside,
	"search": OpSearch,
}

// CanonicalOp returns the canonical name of a StackStorm criteria operator or
// alias (case-insensitive), and false when the name is not an operator.
func CanonicalOp(name string) (string, bool) {
	op, ok := opAliases[strings.ToLower(strings.TrimSpace(name))]
	return op, ok
}

// OperatorNames lists every accepted operator name and alias, sorted.
func OperatorNames() []string {
	names := make([]string, 0, len(opAliases))
	for n := range opAliases {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Search conditions of the search operator.
const (
	SearchAny     = "any"     // some item matches every child criterion
	SearchAll     = "all"     // every item matches every child criterion
	SearchAny2Any = "any2any" // some item matches some child criterion
	SearchAll2Any = "all2any" // every item matches some child criterion
)
