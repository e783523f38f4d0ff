package pattern

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// randGen writes random patterns and events over a small shared vocabulary,
// so that they often match each other.
type randGen struct{ r *rand.Rand }

func newRandGen(seed uint64) *randGen {
	return &randGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

var (
	genKeys    = []string{"a", "b", "c", "a.b", "d"}
	genStrings = []string{`""`, `"x"`, `"X"`, `"xy"`, `"yx"`, `"10.0.0.1"`, `"2001:db8::1"`, `"a*b"`, `"abc"`, `"ÉTÉ"`, `"été"`}
	genNumbers = []string{"0", "1", "-1", "2.5", "300", "3e2", "1e9", "-0.0"}
)

func (g *randGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *randGen) scalar() string {
	switch g.r.IntN(6) {
	case 0, 1, 2:
		return g.pick(genStrings)
	case 3, 4:
		return g.pick(genNumbers)
	default:
		return g.pick([]string{"true", "false", "null"})
	}
}

func (g *randGen) eventValue(depth int) string {
	switch n := g.r.IntN(10); {
	case n < 5 || depth > 2:
		return g.scalar()
	case n < 8:
		return g.eventObject(depth + 1)
	default:
		k := g.r.IntN(4)
		items := make([]string, k)
		for i := range items {
			items[i] = g.eventValue(depth + 1)
		}
		return "[" + strings.Join(items, ",") + "]"
	}
}

func (g *randGen) eventObject(depth int) string {
	n := 1 + g.r.IntN(4)
	parts := make([]string, 0, n)
	for range n {
		parts = append(parts, fmt.Sprintf("%q:%s", g.pick(genKeys), g.eventValue(depth)))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func (g *randGen) strList(xs []string) string {
	if g.r.IntN(2) == 0 {
		return g.pick(xs)
	}
	n := 1 + g.r.IntN(3)
	items := make([]string, n)
	for i := range items {
		items[i] = g.pick(xs)
	}
	return "[" + strings.Join(items, ",") + "]"
}

func (g *randGen) matcher() string {
	affixes := []string{`""`, `"x"`, `"X"`, `"y"`, `"10."`, `"é"`, `"a"`}
	nonEmpty := []string{`"x"`, `"X"`, `"y"`, `"10."`, `"é"`}
	wild := []string{`"x*"`, `"*y"`, `"a\\*b"`, `"*"`, `"*b*"`, `"*x*y"`, `""`}
	switch g.r.IntN(16) {
	case 0, 1, 2:
		return g.scalar()
	case 3:
		return fmt.Sprintf(`{"prefix":%s}`, g.pick(affixes))
	case 4:
		return fmt.Sprintf(`{"suffix":{"equals-ignore-case":%s}}`, g.pick(affixes))
	case 5:
		return fmt.Sprintf(`{"equals-ignore-case":%s}`, g.pick(genStrings))
	case 6:
		return fmt.Sprintf(`{"wildcard":%s}`, g.pick(wild))
	case 7:
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf(`{"anything-but":%s}`, g.strList(genStrings))
		}
		return fmt.Sprintf(`{"anything-but":%s}`, g.strList(genNumbers))
	case 8:
		op := g.pick([]string{"prefix", "suffix"})
		return fmt.Sprintf(`{"anything-but":{%q:%s}}`, op, g.strList(nonEmpty))
	case 9:
		return fmt.Sprintf(`{"anything-but":{"equals-ignore-case":%s}}`, g.strList(genStrings))
	case 10:
		return fmt.Sprintf(`{"anything-but":{"wildcard":%s}}`, g.strList(wild))
	case 11:
		lo, hi := g.pick(genNumbers), g.pick(genNumbers)
		switch g.r.IntN(4) {
		case 0:
			return fmt.Sprintf(`{"numeric":["=",%s]}`, lo)
		case 1:
			return fmt.Sprintf(`{"numeric":[">",%s]}`, lo)
		case 2:
			return fmt.Sprintf(`{"numeric":["<=",%s]}`, hi)
		default:
			return fmt.Sprintf(`{"numeric":[">=",%s,"<",%s]}`, lo, hi)
		}
	case 12, 13:
		return fmt.Sprintf(`{"exists":%t}`, g.r.IntN(2) == 0)
	case 14:
		return fmt.Sprintf(`{"prefix":{"equals-ignore-case":%s}}`, g.pick(affixes))
	default:
		return fmt.Sprintf(`{"cidr":%s}`, g.pick([]string{`"10.0.0.0/8"`, `"2001:db8::/32"`, `"10.0.0.1/32"`}))
	}
}

func (g *randGen) patternObject(depth int) string {
	n := 1 + g.r.IntN(3)
	parts := make([]string, 0, n)
	for range n {
		switch k := g.r.IntN(10); {
		case k == 0 && depth < 2:
			alts := make([]string, 2+g.r.IntN(2))
			for i := range alts {
				alts[i] = g.patternObject(depth + 1)
			}
			parts = append(parts, `"$or":[`+strings.Join(alts, ",")+`]`)
		case k < 3 && depth < 2:
			parts = append(parts, fmt.Sprintf("%q:%s", g.pick(genKeys), g.patternObject(depth+1)))
		default:
			ms := make([]string, 1+g.r.IntN(3))
			for i := range ms {
				ms[i] = g.matcher()
			}
			parts = append(parts, fmt.Sprintf("%q:[%s]", g.pick(genKeys), strings.Join(ms, ",")))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// differential checks that the Matcher holding every pattern returns exactly
// the patterns the reference evaluator says match.
func differential(t *testing.T, patterns []string, events []string) (valid, matched int) {
	t.Helper()
	m := NewMatcher()
	var parsed []*Pattern
	var ids []string
	for i, src := range patterns {
		p, err := Parse([]byte(src))
		if err != nil {
			continue
		}
		id := fmt.Sprintf("p%03d", i)
		m.AddPattern(id, p)
		parsed = append(parsed, p)
		ids = append(ids, id)
	}
	valid = len(parsed)
	for _, ev := range events {
		var want []string
		refErr := error(nil)
		for i, p := range parsed {
			ok, err := Matches(p, []byte(ev))
			if err != nil {
				refErr = err
				break
			}
			if ok {
				want = append(want, ids[i])
			}
		}
		got, err := m.Match([]byte(ev))
		if (err != nil) != (refErr != nil) && len(parsed) > 0 {
			t.Fatalf("event %s: Matcher error %v, reference error %v", ev, err, refErr)
		}
		if err != nil {
			continue
		}
		slices.Sort(want)
		matched += len(want)
		if !slices.Equal(got, want) {
			for i, p := range patterns {
				t.Logf("p%03d = %s", i, p)
			}
			t.Fatalf("event %s: Matcher %v, reference %v", ev, got, want)
		}
	}
	return valid, matched
}

func TestDifferentialGenerated(t *testing.T) {
	valid, matched := 0, 0
	for seed := range uint64(300) {
		g := newRandGen(seed)
		patterns := make([]string, 8)
		for i := range patterns {
			patterns[i] = g.patternObject(0)
		}
		events := make([]string, 8)
		for i := range events {
			events[i] = g.eventObject(0)
		}
		v, n := differential(t, patterns, events)
		valid += v
		matched += n
	}
	// The generator must produce mostly valid patterns that match often
	// enough for the comparison to mean something.
	t.Logf("%d valid patterns of %d, %d (pattern, event) matches", valid, 300*8, matched)
	if valid < 300*8/2 || matched < 300 {
		t.Fatalf("generator too weak: %d valid patterns, %d matches", valid, matched)
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range loadCasesF(f) {
		f.Add(c.pattern())
	}
	f.Add([]byte(`{"a": [{"wildcard": "a\\*b*"}], "$or": [{"b": [1]}, {"c": [{"numeric": [">", 0, "<=", 5]}]}]}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse(src)
		if err != nil {
			if p != nil {
				t.Fatal("Parse returned a pattern and an error")
			}
			return
		}
		if _, err := Matches(p, []byte(`{"a": 1, "b": ["x", {"c": null}]}`)); err != nil {
			t.Fatalf("Matches on a valid event: %v", err)
		}
	})
}

// FuzzMatch is differential: the Matcher and the reference evaluator must
// agree, on the fuzzed pattern and event and on patterns and events generated
// from the fuzzed seed.
func FuzzMatch(f *testing.F) {
	for i, c := range loadCasesF(f) {
		f.Add(uint64(i), c.pattern(), c.event())
	}
	f.Fuzz(func(t *testing.T, seed uint64, pattern, event []byte) {
		differential(t, []string{string(pattern)}, []string{string(event)})
		g := newRandGen(seed)
		patterns := []string{string(pattern)}
		for range 6 {
			patterns = append(patterns, g.patternObject(0))
		}
		events := []string{string(event)}
		for range 4 {
			events = append(events, g.eventObject(0))
		}
		differential(t, patterns, events)
	})
}

func loadCasesF(f *testing.F) []ebCase {
	return loadCases(f, filepath.Join("testdata", "eventbridge", "cases"))
}
