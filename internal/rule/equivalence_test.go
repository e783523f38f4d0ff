package rule

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The equivalence tests prove the compiler's central claim: for every event,
// "pattern matches and residual is true" exactly when st2's operators match.

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// valuePool holds payload values and patterns that exercise type
// mismatches, case, arrays, objects, nulls and edge strings.
var valuePool = []any{
	"", "web-01", "WEB-01", "Web-01.example.com", "db", "disk full", "Disk Full", "a*b", "a\\b", "x?y", "[x]",
	"critical", "warning", "ok", "5", "10", "ab/cd", "line1\nline2", "über", "ÜBER",
	"2026-11-25T11:59:00Z", "2026-11-25T10:00:00Z", "not-a-date",
	0.0, 1.0, 5.0, 10.0, -3.5, 90.0, 1e10,
	true, false, nil,
	[]any{}, []any{"web-01", "db"}, []any{"critical"}, []any{5.0, 10.0}, []any{[]any{"web-01"}}, []any{nil},
	[]any{map[string]any{"name": "disk", "value": 95.0}, map[string]any{"name": "cpu", "value": 10.0}},
	map[string]any{}, map[string]any{"web-01": true}, map[string]any{"name": "disk", "value": 95.0},
}

var patternPool = []any{
	"web-01", "WEB-01", "web", "01", "", "disk", "DISK", "crit", "*", "web-*", "*-01", "w?b-01", "[wd]*", "[!w]*",
	"^web", "web-[0-9]+$", "(?i)DISK", "full$", "a\\*b", "a*b", "ab/cd", "line1.line2", "über",
	5.0, 10.0, 0.0, -3.5, 90.0, true, false, nil, 60.0, 7200.0,
	[]any{"web-01", "db"}, []any{5.0, "5"}, []any{nil, "ok"}, []any{[]any{"web-01"}}, []any{true},
	map[string]any{"web-01": 1.0}, "web-01 db",
}

var ops = []string{
	"equals", "nequals", "iequals", "contains", "ncontains", "icontains", "incontains",
	"startswith", "istartswith", "endswith", "iendswith", "lessthan", "greaterthan",
	"matchwildcard", "regex", "iregex", "matchregex", "timediff_lt", "timediff_gt",
	"exists", "nexists", "inside", "ninside",
}

func randValue(r *rand.Rand, depth int) any {
	v := valuePool[r.IntN(len(valuePool))]
	if depth < 2 && r.IntN(6) == 0 {
		return map[string]any{"host": randValue(r, depth+1), "n": randValue(r, depth+1)}
	}
	return v
}

func randPayload(r *rand.Rand) map[string]any {
	p := map[string]any{}
	for _, k := range []string{"host", "n", "tags", "nested"} {
		if r.IntN(5) == 0 {
			continue // missing
		}
		p[k] = randValue(r, 0)
	}
	return p
}

func evaluatorFor(t testing.TB, r Rule, schema map[string]any) *Evaluator {
	t.Helper()
	c, err := Compile(r, schema)
	if err != nil {
		if strings.Contains(err.Error(), "invalid regular expression") && !strings.Contains(err.Error(), "(?P") {
			// st2 never matches an expression Python cannot compile; BWC
			// rejects the rule. TestCompileErrors covers the message.
			return nil
		}
		t.Fatalf("compile %+v: %v", r.Criteria, err)
	}
	ev, err := NewEvaluator(c, Functions{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("evaluator for %+v: %v\npattern %s\nresidual %s", r.Criteria, err, c.Pattern, c.Residual)
	}
	return ev
}

func checkEquivalent(t testing.TB, ev *Evaluator, crit []Criterion, payload map[string]any) {
	t.Helper()
	if ev == nil {
		return
	}
	env := NewEnvelope("ti-1", "examples.alert", nil, payload, "trace-1", testNow)
	got, err := ev.Match(context.Background(), env)
	if err != nil {
		// An evaluation error is a non-match, as in st2.
		got = false
	}
	want := st2Match(payload, crit, testNow)
	if got != want {
		pj, _ := json.Marshal(payload)
		cj, _ := json.Marshal(crit)
		t.Fatalf("criteria %s\npayload %s\nst2 says %v, compiled rule says %v (err %v)\npattern  %s\nresidual %s",
			cj, pj, want, got, err, ev.c.Pattern, ev.c.Residual)
	}
}

func TestEquivalenceEveryOperator(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := []string{"trigger.host", "trigger.n", "trigger.tags", "trigger.nested.host", "trigger.tags[0]"}
	for _, op := range ops {
		t.Run(op, func(t *testing.T) {
			for _, key := range keys {
				for _, p := range patternPool {
					crit := []Criterion{{Key: key, Op: op, Pattern: p}}
					ev := evaluatorFor(t, Rule{Ref: "examples.r", Pack: "examples", Trigger: Trigger{Type: "examples.alert"}, Action: Action{Ref: "core.noop"}, Criteria: crit}, nil)
					for i := 0; i < 12; i++ {
						checkEquivalent(t, ev, crit, randPayload(r))
					}
				}
			}
		})
	}
}

// With a payload schema that pins types, most criteria move onto the bus;
// payloads then follow the schema, as the engine validates them.
func TestEquivalenceWithSchema(t *testing.T) {
	schema := map[string]any{
		"type":     "object",
		"required": []any{"host", "n"},
		"properties": map[string]any{
			"host": map[string]any{"type": "string"},
			"n":    map[string]any{"type": "number"},
			"up":   map[string]any{"type": "boolean"},
			"tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		},
	}
	strs := []any{"", "web-01", "WEB-01", "db", "disk full", "a*b", "a\\b", "[x]", "Web-01.example.com", "über"}
	nums := []any{0.0, 5.0, 10.0, -3.5, 90.0}
	r := rand.New(rand.NewPCG(3, 4))
	payload := func() map[string]any {
		p := map[string]any{"host": strs[r.IntN(len(strs))], "n": nums[r.IntN(len(nums))]}
		if r.IntN(2) == 0 {
			p["up"] = r.IntN(2) == 0
		}
		if r.IntN(3) > 0 {
			var tags []any
			for i := r.IntN(3); i > 0; i-- {
				tags = append(tags, strs[r.IntN(len(strs))])
			}
			if tags == nil {
				tags = []any{}
			}
			p["tags"] = tags
		}
		return p
	}
	onBus := 0
	for _, op := range ops {
		for _, key := range []string{"trigger.host", "trigger.n", "trigger.up", "trigger.tags"} {
			for _, p := range patternPool {
				crit := []Criterion{{Key: key, Op: op, Pattern: p}}
				ev := evaluatorFor(t, Rule{Ref: "examples.r", Pack: "examples", Trigger: Trigger{Type: "examples.alert"}, Action: Action{Ref: "core.noop"}, Criteria: crit}, schema)
				if ev != nil && ev.c.Criteria[0].Where == OnBus {
					onBus++
				}
				for i := 0; i < 10; i++ {
					checkEquivalent(t, ev, crit, payload())
				}
			}
		}
	}
	if onBus < 100 {
		t.Errorf("only %d criteria compiled entirely onto the bus with a typed schema; expected most string and number criteria there", onBus)
	}
}

func TestEquivalenceSeveralCriteriaAndSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 400; i++ {
		var crit []Criterion
		for j := 0; j < 1+r.IntN(3); j++ {
			key := []string{"trigger.host", "trigger.n", "trigger.tags"}[r.IntN(3)]
			crit = append(crit, Criterion{Key: fmt.Sprintf("%s#%d", key, j), Op: ops[r.IntN(len(ops))], Pattern: patternPool[r.IntN(len(patternPool))]})
		}
		if r.IntN(3) == 0 {
			crit = append(crit, Criterion{
				Key: "trigger.tags", Op: "search", Condition: []string{"any", "all", "any2any", "all2any"}[r.IntN(4)],
				Pattern: map[string]any{
					"item.name":  map[string]any{"type": "equals", "pattern": "disk"},
					"item.value": map[string]any{"type": "greaterthan", "pattern": 90.0},
				},
			})
		}
		ev := evaluatorFor(t, Rule{Ref: "examples.r", Pack: "examples", Trigger: Trigger{Type: "examples.alert"}, Action: Action{Ref: "core.noop"}, Criteria: crit}, nil)
		for k := 0; k < 10; k++ {
			checkEquivalent(t, ev, crit, randPayload(r))
		}
	}
}

func FuzzEquivalence(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(1), uint64(1))
	f.Add(uint8(3), uint8(2), uint8(7), uint64(9))
	f.Fuzz(func(t *testing.T, opI, keyI, patI uint8, seed uint64) {
		op := ops[int(opI)%len(ops)]
		key := []string{"trigger.host", "trigger.n", "trigger.tags", "trigger.nested.host"}[int(keyI)%4]
		p := patternPool[int(patI)%len(patternPool)]
		crit := []Criterion{{Key: key, Op: op, Pattern: p}}
		ev := evaluatorFor(t, Rule{Ref: "examples.r", Pack: "examples", Trigger: Trigger{Type: "examples.alert"}, Action: Action{Ref: "core.noop"}, Criteria: crit}, nil)
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		for i := 0; i < 20; i++ {
			checkEquivalent(t, ev, crit, randPayload(r))
		}
	})
}
