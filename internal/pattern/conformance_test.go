package pattern

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// ebCase is one recorded EventBridge answer (see testdata/eventbridge/README.md).
type ebCase struct {
	Name       string          `json:"name"`
	Expect     string          `json:"expect"`
	Error      string          `json:"error"`
	Event      json.RawMessage `json:"event"`
	Pattern    json.RawMessage `json:"pattern"`
	EventRaw   *string         `json:"event_raw"`
	PatternRaw *string         `json:"pattern_raw"`
}

func (c ebCase) pattern() []byte {
	if c.PatternRaw != nil {
		return []byte(*c.PatternRaw)
	}
	return c.Pattern
}

func (c ebCase) event() []byte {
	if c.EventRaw != nil {
		return []byte(*c.EventRaw)
	}
	return c.Event
}

func loadCases(t testing.TB, dir string) []ebCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []ebCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c ebCase
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if c.Name == "" {
			c.Name = filepath.Base(f)
		}
		out = append(out, c)
	}
	return out
}

// TestConformance runs every recorded EventBridge case with the reference
// evaluator and with the Matcher; both must give AWS's answer on every case.
func TestConformance(t *testing.T) {
	dirs := []string{filepath.Join("testdata", "eventbridge", "cases")}
	if extra := os.Getenv("BWC_EVENTBRIDGE_CASES"); extra != "" {
		dirs = append(dirs, extra)
	}
	for _, dir := range dirs {
		cases := loadCases(t, dir)
		if len(cases) == 0 {
			t.Fatalf("no cases in %s", dir)
		}
		passed := 0
		for _, c := range cases {
			ok := t.Run(c.Name, func(t *testing.T) { runCase(t, c) })
			if ok {
				passed++
			}
		}
		t.Logf("%s: %d/%d cases pass (%.1f%%)", dir, passed, len(cases), 100*float64(passed)/float64(len(cases)))
	}
}

func runCase(t *testing.T, c ebCase) {
	p, err := Parse(c.pattern())
	if c.Expect == "invalid" {
		if err == nil {
			t.Fatalf("Parse accepted a pattern AWS rejects (%s)", c.Error)
		}
		m := NewMatcher()
		if err := m.Add("x", c.pattern()); err == nil {
			t.Fatalf("Matcher.Add accepted a pattern AWS rejects (%s)", c.Error)
		}
		return
	}
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := c.Expect == "match"
	got, err := Matches(p, c.event())
	if err != nil {
		t.Fatalf("Matches: %v", err)
	}
	if got != want {
		t.Errorf("reference evaluator: got %v, AWS answered %s", got, c.Expect)
	}
	m := NewMatcher()
	if err := m.Add("case", c.pattern()); err != nil {
		t.Fatalf("Add: %v", err)
	}
	ids, err := m.Match(c.event())
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	if gotM := len(ids) == 1 && ids[0] == "case"; gotM != want {
		t.Errorf("Matcher: got %v, AWS answered %s", ids, c.Expect)
	}
}
