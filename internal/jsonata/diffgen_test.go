package jsonata

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// exprGen generates random, mostly well-formed expressions over the
// differential inputs' field names (deterministic for a seed).
type exprGen struct {
	r *rand.Rand
}

func (g *exprGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *exprGen) name() string {
	return g.pick("order", "items", "customer", "name", "price", "qty", "tags", "sku", "events", "type", "sev", "host",
		"a", "b", "c", "d", "list", "s", "n", "z", "t", "nil", "empty", "missing")
}

func (g *exprGen) path(depth int) string {
	parts := []string{g.name()}
	for i := g.r.IntN(3); i > 0; i-- {
		step := g.name()
		switch g.r.IntN(8) {
		case 0:
			step = "*"
		case 1:
			step += "[" + g.expr(depth+1) + "]"
		case 2:
			step += "[" + fmt.Sprint(g.r.IntN(4)-1) + "]"
		}
		parts = append(parts, step)
	}
	p := strings.Join(parts, ".")
	switch g.r.IntN(10) {
	case 0:
		p = "**." + g.name()
	case 1:
		p += "^(" + g.pick("", ">") + g.name() + ")"
	case 2:
		p += "{" + g.name() + ": " + g.expr(depth+1) + "}"
	}
	return p
}

func (g *exprGen) literal() string {
	return g.pick("1", "0", "-2.5", "0.1", "1e3", `"x"`, `"hw"`, `""`, "true", "false", "null", "[1,2,3]", `{"k": 1}`, "[]")
}

func (g *exprGen) expr(depth int) string {
	if depth > 3 {
		if g.r.IntN(2) == 0 {
			return g.literal()
		}
		return g.name()
	}
	switch g.r.IntN(12) {
	case 0, 1, 2:
		return g.path(depth)
	case 3:
		return g.literal()
	case 4, 5:
		return g.expr(depth+1) + " " + g.pick("+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "&", "and", "or", "in") + " " + g.expr(depth+1)
	case 6:
		return g.pick("$count", "$sum", "$max", "$min", "$string", "$boolean", "$not", "$exists", "$type", "$keys", "$distinct",
			"$reverse", "$sort", "$uppercase", "$length", "$number", "$abs", "$floor", "$join", "$append", "$lookup") + "(" + g.expr(depth+1) + ")"
	case 7:
		return "(" + g.expr(depth+1) + " ? " + g.expr(depth+1) + " : " + g.expr(depth+1) + ")"
	case 8:
		return "[" + g.expr(depth+1) + ", " + g.expr(depth+1) + "]"
	case 9:
		return `{"k": ` + g.expr(depth+1) + `, "v": ` + g.expr(depth+1) + "}"
	case 10:
		return "$map(" + g.path(depth+1) + ", function($v, $i) { " + g.pick("$v", "$i", "$string($v)", "[$v, $i]", "$v.price") + " })"
	default:
		return g.path(depth) + "." + g.pick("$string()", "$count()", "($ & '!')", "{'n': $}", "[$]")
	}
}

// diffRandom returns n generated expressions.
func diffRandom(seed uint64, n int) []string {
	g := &exprGen{r: rand.New(rand.NewPCG(seed, 7))}
	out := make([]string, 0, n)
	for len(out) < n {
		out = append(out, g.expr(0))
	}
	return out
}
