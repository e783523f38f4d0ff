package rule

import (
	"encoding/json"
	"fmt"
	"strings"
)

// tableSamples are the patterns shown for each operator in OperatorTable.
var tableSamples = []struct {
	op      string
	pattern any
	scalar  string
}{
	{OpEquals, "web-01", "string"},
	{OpEquals, 5.0, "number"},
	{OpNEquals, "ok", "string"},
	{OpIEquals, "Critical", "string"},
	{OpContains, "disk", "string"},
	{OpNContains, "test", "string"},
	{OpIContains, "disk", "string"},
	{OpINContains, "test", "string"},
	{OpStartsWith, "web-", "string"},
	{OpIStartsWith, "web-", "string"},
	{OpEndsWith, ".example.com", "string"},
	{OpIEndsWith, ".example.com", "string"},
	{OpLessThan, 10.0, "number"},
	{OpGreaterThan, 90.0, "number"},
	{OpWildcard, "web-*.example.com", "string"},
	{OpWildcard, "web-0?", "string"},
	{OpRegex, "^web-[0-9]+$", "string"},
	{OpIRegex, "disk", "string"},
	{OpMatchRegex, "web", "string"},
	{OpTimediffLT, 300.0, "string"},
	{OpTimediffGT, 300.0, "string"},
	{OpExists, nil, "string"},
	{OpNExists, nil, "string"},
	{OpInside, []any{"critical", "warning"}, "string"},
	{OpNInside, []any{"ok", "info"}, "string"},
	{OpSearch, map[string]any{"item.name": map[string]any{"type": "equals", "pattern": "disk"}}, ""},
}

// OperatorTable renders, as a Markdown table, where each st2 operator is
// decided: with a payload schema that pins the field's type (and requires
// it), and without one. docs/rules.md embeds it; a test keeps it current.
func OperatorTable() string {
	var b strings.Builder
	b.WriteString("| operator | pattern | typed, required field: on the bus | typed: where | untyped field: on the bus | untyped: where |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, s := range tableSamples {
		typed := fieldType{Scalar: s.scalar, Required: true}
		frag1, exact1 := busFragment(s.op, s.pattern, typed)
		frag2, exact2 := busFragment(s.op, s.pattern, fieldType{})
		pj, _ := json.Marshal(s.pattern)
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s | %s |\n", s.op, pj,
			fragCell(frag1), whereCell(frag1, exact1), fragCell(frag2), whereCell(frag2, exact2))
	}
	return b.String()
}

func fragCell(frag []any) string {
	if frag == nil {
		return "—"
	}
	j, _ := json.Marshal(frag)
	return "`" + strings.ReplaceAll(string(j), "|", `\|`) + "`"
}

func whereCell(frag []any, exact bool) string {
	switch {
	case frag != nil && exact:
		return OnBus
	case frag != nil:
		return OnBusAndResidual
	}
	return OnlyResidual
}
