package pattern

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDifferentialDenseMachines cross-checks the Matcher against the
// reference evaluator with hundreds of patterns on the same few fields, so
// that single value machines hold many prefixes, suffixes, wildcards, numeric
// ranges and anything-buts at once (the random generator of the fuzz tests
// puts only a few conditions in each machine).
func TestDifferentialDenseMachines(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	word := func() string {
		const letters = "abAB.-"
		b := make([]byte, r.IntN(6))
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		return string(b)
	}
	num := func() string { return fmt.Sprintf("%g", float64(r.IntN(41)-20)/2) }
	cond := func() string {
		switch r.IntN(12) {
		case 0:
			return fmt.Sprintf("%q", word())
		case 1:
			return fmt.Sprintf(`{"prefix":%q}`, word())
		case 2:
			return fmt.Sprintf(`{"suffix":%q}`, word())
		case 3:
			return fmt.Sprintf(`{"prefix":{"equals-ignore-case":%q}}`, word())
		case 4:
			return fmt.Sprintf(`{"suffix":{"equals-ignore-case":%q}}`, word())
		case 5:
			return fmt.Sprintf(`{"equals-ignore-case":%q}`, word())
		case 6:
			w := word() + "*" + word()
			if r.IntN(2) == 0 {
				w += "*" + word()
			}
			return fmt.Sprintf(`{"wildcard":%q}`, strings.ReplaceAll(w, "**", "*"))
		case 7:
			return fmt.Sprintf(`{"numeric":[">",%s,"<=",%s]}`, num(), num())
		case 8:
			return fmt.Sprintf(`{"numeric":[">=",%s,"<",%s]}`, num(), num())
		case 9:
			return fmt.Sprintf(`{"numeric":["<",%s]}`, num())
		case 10:
			return fmt.Sprintf(`{"anything-but":[%q,%q]}`, word(), word())
		default:
			return num()
		}
	}
	patterns := make([]string, 600)
	for i := range patterns {
		conds := []string{cond()}
		if r.IntN(3) == 0 {
			conds = append(conds, cond())
		}
		f := []string{"a", "b"}[r.IntN(2)]
		patterns[i] = fmt.Sprintf(`{%q:[%s]}`, f, strings.Join(conds, ","))
		if r.IntN(4) == 0 {
			patterns[i] = fmt.Sprintf(`{%q:[%s],"c":[%s]}`, f, strings.Join(conds, ","), cond())
		}
	}
	value := func() string {
		if r.IntN(2) == 0 {
			return num()
		}
		return fmt.Sprintf("%q", word())
	}
	events := make([]string, 300)
	for i := range events {
		events[i] = fmt.Sprintf(`{"a":%s,"b":[%s,%s],"c":%s}`, value(), value(), value(), value())
	}
	valid, matched := differential(t, patterns, events)
	t.Logf("%d valid patterns, %d matches over %d events", valid, matched, len(events))
	if valid < len(patterns)/2 || matched < len(events) {
		t.Fatalf("too few valid patterns (%d) or matches (%d) for the comparison to mean something", valid, matched)
	}
}

func TestRangeIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 40 {
		refs := make([]rangeRef, n)
		for i := range refs {
			lo, hi := float64(r.IntN(20)), float64(r.IntN(20))
			if lo > hi {
				lo, hi = hi, lo
			}
			refs[i] = rangeRef{r: numRange{lo: lo, hi: hi, loIncl: r.IntN(2) == 0, hiIncl: r.IntN(2) == 0}, next: int32(i)}
		}
		ix := newRangeIndex(refs)
		for x := -1.0; x <= 21; x += 0.5 {
			got := map[int32]bool{}
			for _, nx := range ix.stab(0, len(ix.refs), x, nil) {
				if got[nx] {
					t.Fatalf("n=%d x=%v: range %d found twice", n, x, nx)
				}
				got[nx] = true
			}
			for _, rr := range refs {
				if rr.r.contains(x) != got[rr.next] {
					t.Fatalf("n=%d x=%v: range %+v: found %v, want %v", n, x, rr.r, got[rr.next], rr.r.contains(x))
				}
			}
		}
	}
}
