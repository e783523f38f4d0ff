package jsonata

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func benchDoc() map[string]any {
	statuses := []string{"open", "closed", "pending"}
	items := make([]any, 100)
	for i := range items {
		items[i] = map[string]any{
			"id": float64(i + 1), "status": statuses[i%3], "priority": float64(i % 5),
			"price": float64(i%17) * 3.25, "qty": float64(i%7 + 1), "tags": []any{"a", "b"},
			"customer": map[string]any{"name": fmt.Sprintf("customer %d", i), "email": fmt.Sprintf("c%d@example.org", i),
				"address": map[string]any{"city": "Oslo"}},
		}
	}
	return map[string]any{"items": items}
}

func BenchmarkEval(b *testing.B) {
	doc := benchDoc()
	for _, c := range []struct{ name, expr string }{
		{"path", `items.customer.address.city`},
		{"predicate", `items[status = "open" and priority >= 3].id`},
		{"string_building", `$join(items.(customer.name & " <" & customer.email & "> #" & $string(id)), "; ")`},
		{"map_filter_reduce", `$reduce($filter($map(items, function($v) { $v.price * $v.qty }), function($x) { $x > 50 }), function($a, $b) { $a + $b }, 0)`},
		{"object_construction", `items.{"id": id, "who": $uppercase(customer.name), "total": price * qty, "tags": tags, "open": status = "open"}`},
		{"group_by", `items{status: {"count": $count(id), "sum": $sum(price)}}`},
		{"sort_slice", `items^(>priority, id)[[0..9]].id`},
	} {
		e := MustCompile(c.expr)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := e.Eval(context.Background(), doc, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(`$sum(order.items[price > 10].(price * qty))`); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegexWalk: walking the matches of a regex over a long string
// must stay linear in its length (with and without assertions that look
// behind the search start, and with non-ASCII text).
func BenchmarkRegexWalk(b *testing.B) {
	text := strings.Repeat("foo bär ", 20000)
	for _, c := range []struct{ name, expr string }{
		{"replace", `$replace($, /o+/, "0")`},
		{"replace_word_boundary", `$replace($, /\bb/, "B")`},
		{"match", `$count($match($, /ä/))`},
		{"split", `$count($split($, / /))`},
	} {
		e := MustCompile(c.expr)
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := e.Eval(context.Background(), text, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
