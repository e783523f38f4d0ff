// Package srcpos is the position in a pack file that diagnostics of the pack
// loader and of the rule and workflow compilers point at.
package srcpos

import (
	"fmt"
	"strings"
)

// Pos is a position in a pack file: the path as the user wrote the packs
// directory joined with the file's path in it, and a 1-based line and
// column (zero when unknown).
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String formats the position as file:line:col, or only the file when the
// line is unknown, or "" when the file is.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// Errors is every diagnostic of one run of a compiler, as one error whose
// text has a line per diagnostic.
type Errors[E error] []E

func (es Errors[E]) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}
