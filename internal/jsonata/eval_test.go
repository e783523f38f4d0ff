package jsonata

import (
	"context"
	"errors"
	"testing"
)

// TestLanguageCorners pins behaviours of jsonata-js that the differential
// test found BWC getting wrong once.
func TestLanguageCorners(t *testing.T) {
	tests := []struct{ expr, want string }{
		// a path whose first step is an array constructor continues over
		// the value's length: a string's characters, nothing for others
		{`["abc"][0].$`, `["a","b","c"]`},
		{`["abc", "de"][1].$uppercase($)`, `["D","E"]`},
		{`[""][0].$`, `""`},
		{`[{"a": 1}, {"a": 2}][0].a`, `undefined`},
		{`[true][0].$`, `undefined`},
		{`[[1, 2], 3][0].$`, `[1,2]`},
		{`[null, 1][0].$`, `U1003`},
		// JSON.stringify writes NaN as null; infinities are D1001
		{`[1, 0/0] & ""`, `"[1,null]"`},
		{`$string({"a": 0/0})`, `"{\"a\":null}"`},
		{`$string([1e308 * 10])`, `D1001`},
		{`$string(0/0)`, `D3001`},
		// Step Functions does not bind $eval
		{`$eval("1")`, `T1006`},
		{`$exists($eval)`, `false`},
	}
	for _, tc := range tests {
		out, err := MustCompile(tc.expr).EvalJSON(context.Background(), nil, nil)
		got := string(out)
		var je *Error
		switch {
		case errors.Is(err, ErrUndefined):
			got = "undefined"
		case errors.As(err, &je):
			got = je.Code
		case err != nil:
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.expr, got, tc.want)
		}
	}
	// an error on the right of and/or is reported as the operator's
	for _, tc := range []struct {
		expr string
		pos  int
		msg  string
	}{
		{`true and $substringBefore("a", 1)`, 8, `T0410: Argument 2 of function "and" does not match function signature (position 8)`},
		{`false or 1 + "a"`, 8, `T2002: The right side of the "or" operator must evaluate to a number (position 8)`},
	} {
		_, err := MustCompile(tc.expr).Eval(context.Background(), NoInput, nil)
		var je *Error
		if !errors.As(err, &je) || je.Position != tc.pos || je.Error() != tc.msg {
			t.Errorf("%s: got %v, want %s", tc.expr, err, tc.msg)
		}
	}
}
