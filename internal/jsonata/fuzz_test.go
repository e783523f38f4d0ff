package jsonata

import (
	"context"
	"errors"
	"testing"
	"time"
)

func fuzzSeeds() []string {
	return []string{
		`Account.Order[0].Product.(Price * Quantity) ~> $sum()`,
		`$map([1..5], function($v, $i) { $v * $i })`,
		`a.b[c > 1]{d: $count(e)}^(>f)`,
		`library.loans@$l.books@$b[$l.isbn=$b.isbn].{"title": $b.title}`,
		`$ ~> |a.b|{"c": 1}, ["d"]|`,
		`($f := function($n){ $n < 2 ? $n : $f($n-1) + $f($n-2) }; $f(10))`,
		`$replace("abc", /(b)/i, "[$1]")`,
		`x.%.y#$i[$i > 0]`,
		`{"a": [1, 2, {"b": null}], "c": true and false or "x" in ["x"]}`,
		`/* comment */ $string(1e21) & "\u00e9" & 'q'`,
		`$sort(items, λ($a, $b) { $a.k > $b.k })`,
		`$substring("hello", -3, 2) = "ll" ? $uppercase("y") : $lowercase("N")`,
	}
}

// FuzzCompile: compiling any text must return an expression or an *Error,
// never panic.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, err := Compile(src)
		if err != nil {
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("compile error is not an *Error: %v", err)
			}
		}
	})
}

// FuzzEval: evaluating any compilable expression against a document must
// end (limits bound time and depth) with a value, undefined or an *Error.
func FuzzEval(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, `{"a": {"b": [{"c": 2, "e": [1, 2]}, {"c": 0}]}, "x": [{"y": 1}, {"y": 2}], "items": [{"k": 2}, {"k": 1}]}`)
	}
	f.Fuzz(func(t *testing.T, src, input string) {
		e, err := Compile(src, WithMaxDepth(500), WithTimeLimit(200*time.Millisecond))
		if err != nil {
			return
		}
		e.maxRange = 1e4 // keep each run's memory small
		in, err := parseJSON([]byte(input))
		if err != nil {
			in = nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, err := e.eval(ctx, in, nil)
		if err != nil {
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("evaluation error is not an *Error: %v", err)
			}
			return
		}
		if _, err := marshalJSON(res); err != nil {
			t.Fatalf("result cannot be rendered: %v", err)
		}
	})
}
