package pack

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

const (
	docsFile    = "../../docs/packs.md"
	runnerBegin = "<!-- runner-table:begin -->"
	runnerEnd   = "<!-- runner-table:end -->"
)

// runnerTable renders Runners as the markdown table of docs/packs.md.
func runnerTable() string {
	var b strings.Builder
	runners := Runners()
	for _, name := range RunnerNames() {
		r := runners[name]
		entry := "none"
		if r.EntryPoint != "" {
			entry = r.EntryPoint
		}
		fmt.Fprintf(&b, "\n#### `%s`\n\n%s Entry point: %s.\n\n", r.Name, r.Description, entry)
		if len(r.Parameters) == 0 {
			b.WriteString("No runner parameters.\n")
			continue
		}
		b.WriteString("| parameter | type | default | notes |\n|---|---|---|---|\n")
		for _, p := range r.Parameters {
			def := ""
			if p.HasDefault {
				def = "`" + jsonText(p.Default) + "`"
			}
			var notes []string
			if p.Secret {
				notes = append(notes, "secret")
			}
			if p.Immutable {
				notes = append(notes, "**immutable**")
			}
			if p.Enum != nil {
				notes = append(notes, "one of "+jsonText(p.Enum))
			}
			notes = append(notes, p.Description)
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Name, p.Type, def, strings.Join(notes, "; "))
		}
	}
	return b.String()
}

// TestDocsRunnerTable keeps the runner table of docs/packs.md in step with
// Runners (go test -update rewrites it).
func TestDocsRunnerTable(t *testing.T) {
	data, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, runnerBegin), strings.Index(doc, runnerEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s ... %s block", docsFile, runnerBegin, runnerEnd)
	}
	want := doc[:i+len(runnerBegin)] + "\n" + runnerTable() + "\n" + doc[j:]
	if *update {
		if err := os.WriteFile(docsFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != doc {
		t.Errorf("the runner table of %s is out of date: run go test ./internal/pack -update", docsFile)
	}
}
