package jsonata

import (
	"context"
	"errors"
	"fmt"
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
		// a hang is a failure: crash the worker, so the fuzzer keeps the input
		watchdog := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("evaluation of %q on %q did not end", src, input))
		})
		defer watchdog.Stop()
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

// FuzzPicture: any picture string given to the picture-string and
// date/time functions (their own little parsers) must end with a value,
// undefined or an *Error, never a panic or a hang.
func FuzzPicture(f *testing.F) {
	for _, s := range []string{"#,##0.00", "0.0e0", "#%", "#,##0;(#,##0)", "w;o", "Ww", "I", "a", "١", "#,##,##0",
		"[Y0001]-[M01]-[D01]", "[FNn], [D1o] [MNn,3-3] [Y]", "[h]:[m01] [P]", "[Z01:01t]", "[z]", "[X]-W[W01]-[F1]", "[[", "[Y,2-4]", "]]"} {
		f.Add(s, 1234.5, "+0530")
	}
	exprs := []string{
		`$formatNumber($n, $p)`, `$formatNumber($n, $p, {"decimal-separator": ",", "grouping-separator": "."})`,
		`$formatInteger($n, $p)`, `$parseInteger($p, $p)`, `$parseInteger($string($n), $p)`,
		`$fromMillis($n, $p)`, `$fromMillis($n, $p, $tz)`, `$toMillis($p, $p)`, `$toMillis($fromMillis($n, $p), $p)`, `$toMillis($p)`,
		`$now($p, $tz)`, `$formatBase($n, $n)`,
	}
	compiled := make([]*Expr, len(exprs))
	clock := WithClock(func() time.Time { return time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC) })
	for i, e := range exprs {
		compiled[i] = MustCompile(e, clock, WithTimeLimit(time.Second))
	}
	f.Fuzz(func(t *testing.T, picture string, n float64, tz string) {
		if len(picture) > 200 {
			return // pictures are short; long ones only make long strings
		}
		for _, e := range compiled {
			_, err := e.Eval(context.Background(), NoInput, map[string]any{"p": picture, "n": n, "tz": tz})
			if err != nil && !errors.Is(err, ErrUndefined) {
				var je *Error
				if !errors.As(err, &je) {
					t.Fatalf("%s: error is not an *Error: %v", e, err)
				}
				if je.Code == "U1000" {
					t.Fatalf("%s with picture %q, n %v, tz %q: internal error %v", e, picture, n, tz, err)
				}
			}
		}
	})
}
