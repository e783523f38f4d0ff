package pack

import (
	"sort"
	"strings"

	"github.com/bwc-project/bwc/internal/srcpos"
)

// Pos is a position in a pack file (File is the path as the user wrote the
// packs directory, joined with the file's path inside it).
type Pos = srcpos.Pos

// Diagnostic is one problem in a pack: where it is, the field it is about
// (a dotted path such as parameters.cmd.type, or a JSON pointer inside a
// schema), and a message that says what was found and what was expected.
type Diagnostic struct {
	Pos     Pos    `json:"pos"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// String formats the diagnostic as `file:line:col: field: message`.
func (d Diagnostic) String() string {
	var b strings.Builder
	if p := d.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if d.Field != "" {
		b.WriteString(d.Field)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Diagnostics is every problem found while loading packs. As an error it
// prints one diagnostic per line.
type Diagnostics []Diagnostic

func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the diagnostics by file, line, column, field and message, and
// drops exact duplicates.
func (ds Diagnostics) Sort() Diagnostics {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		return a.Message < b.Message
	})
	out := ds[:0]
	for i, d := range ds {
		if i > 0 && d == ds[i-1] {
			continue
		}
		out = append(out, d)
	}
	return out
}
