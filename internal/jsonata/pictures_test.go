package jsonata

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPictureFunctions(t *testing.T) {
	clock := WithClock(func() time.Time { return time.Date(2024, 3, 1, 22, 20, 30, 123e6, time.UTC) })
	tests := []struct{ expr, want string }{
		{`$formatNumber(1234567.891, "#,##0.00")`, `"1,234,567.89"`},
		{`$formatNumber(-42, "#0;(#0)")`, `"(42)"`},
		{`$formatNumber(0.125, "0.0%")`, `"12.5%"`},
		{`$formatNumber(31415.9, "0.00e0")`, `"3.14e4"`},
		{`$formatNumber(1234.5, "#.##0,00", {"decimal-separator": ",", "grouping-separator": "."})`, `"1.234,50"`},
		{`$formatNumber(0, "0.0e0")`, `"0.0e0"`}, // jsonata-js never ends here
		{`$formatBase(255, 16)`, `"ff"`},
		{`$formatBase(1e21, 36)`, `"5v1j4f4ds7c000"`},
		{`$formatInteger(1234567, "#,##0")`, `"1,234,567"`},
		{`$formatInteger(21, "1;o")`, `"21st"`},
		{`$formatInteger(112, "Ww;o")`, `"One Hundred and Twelfth"`},
		{`$formatInteger(1999, "I")`, `"MCMXCIX"`},
		{`$formatInteger(28, "A")`, `"AB"`},
		{`$formatInteger(42, "١")`, `"٤٢"`},
		{`$parseInteger("one thousand, two hundred and thirty-four", "w")`, `1234`},
		{`$parseInteger("MCMXCIX", "I")`, `1999`},
		{`$fromMillis(1709288430123)`, `"2024-03-01T10:20:30.123Z"`},
		{`$fromMillis(1709288430123, "[FNn], [D1o] [MNn] [Y] [h]:[m01] [P] [z]", "-0500")`, `"Friday, 1st March 2024 5:20 am GMT-05:00"`},
		{`$fromMillis(1104537600000, "[X]-W[W01]-[F1]")`, `"2004-W53-6"`},
		{`$fromMillis(0, "[Y,2]/[M01]/[D01] [Z0000]", "+0530")`, `"70/01/01 +0530"`},
		{`$toMillis("2024-03-01T10:20:30.5+01:00")`, `1709284830500`},
		{`$toMillis("01/03/2024 10:20", "[D01]/[M01]/[Y0001] [H01]:[m01]")`, `1709288400000`},
		{`$toMillis("March 1st, 2024", "[MNn] [D1o], [Y]")`, `1709251200000`},
		// the clock: one instant per evaluation, today's date for a time alone
		{`$now()`, `"2024-03-01T22:20:30.123Z"`},
		{`$now("[Y]-[M01]-[D01] [H01]:[m01]", "+0200")`, `"2024-03-02 00:20"`},
		{`$millis()`, `1709331630123`},
		{`$now() = $fromMillis($millis())`, `true`},
		{`$toMillis("13:45", "[H]:[m]") ~> $fromMillis()`, `"2024-03-01T13:45:00.000Z"`},
		{`$toMillis("June", "[MNn]") ~> $fromMillis()`, `"2024-06-01T00:00:00.000Z"`},
	}
	for _, tc := range tests {
		e, err := Compile(tc.expr, clock)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		out, err := e.EvalJSON(context.Background(), nil, nil)
		if err != nil || string(out) != tc.want {
			t.Errorf("%s: got %s, %v; want %s", tc.expr, out, err, tc.want)
		}
	}
}

func TestPictureErrors(t *testing.T) {
	tests := []struct{ expr, code string }{
		{`$formatNumber(1, "#;#;#")`, "D3080"},
		{`$formatNumber(1, "#.#.#")`, "D3081"},
		{`$formatNumber(1, "#e")`, "D3093"},
		{`$formatBase(1, 37)`, "D3100"},
		{`$formatInteger(1, "x")`, "D3130"},
		{`$formatInteger(1, "1١")`, "D3131"},
		{`$fromMillis(0, "[q]")`, "D3132"},
		{`$fromMillis(0, "[YN]")`, "D3133"},
		{`$fromMillis(0, "[Z00000]")`, "D3134"},
		{`$fromMillis(0, "[Y")`, "D3135"},
		{`$toMillis("2024 10:20", "[Y] [H]:[m]")`, "D3136"},
		{`$toMillis("10:20", "[H]:[s]")`, "D3136"},
		{`$toMillis("soon")`, "D3110"},
		{`$fromMillis(0, "[Y,99999999]")`, "D1001"},
	}
	for _, tc := range tests {
		_, err := MustCompile(tc.expr).Eval(context.Background(), NoInput, nil)
		var je *Error
		if !errors.As(err, &je) || je.Code != tc.code {
			t.Errorf("%s: got %v, want %s", tc.expr, err, tc.code)
		}
	}
}

// TestZeroLengthMatches: jsonata-js raises D1004 when a regex's next match
// is empty (after the first), never for $contains.
func TestZeroLengthMatches(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`$contains("disk full", /[wd]*/)`, `true`},
		{`$contains("", /x*/)`, `true`},
		{`$match("disk full", /[wd]*/)`, `D1004`},
		{`$match("dab", /a*/, 1)`, `D1004`},
		{`$match("", /x*/)`, `{"match":"","index":0,"groups":[]}`},
		{`$match("abc", /x*/, 0)`, `undefined`},
		{`$replace("aab", /a*/, "-")`, `D1004`},
		{`$replace("", /x*/, "-")`, `"-"`},
		{`$replace("abc", /x*/, "-", 0)`, `"abc"`},
		{`$replace("aab", /a*/, function($m){1})`, `D3012`},
		{`$split("abc", /x*/)`, `D1004`},
		{`$split("", /x*/)`, `["",""]`},
		{`$split("abc", /x*/, 0)`, `[]`},
		{`$split("a1b2", /\d/, 1)`, `["a"]`},
		{`$replace("wwx ww", /\bw/, "W")`, `"Wwx Ww"`},
		// with assertions that look before the search start
		{`$replace(" xaa aba", /\b\w?(a|b)*/m, "<$0>")`, `D1004`},
		{`$split("1a1", /\Ba?(?:ab)*/)`, `D1004`},
		{`$match("ab ab", /^ab/)`, `{"match":"ab","index":0,"groups":[]}`},
		{`$match("ab\nab", /^ab/m).index`, `[0,3]`},
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
}

func TestToFixed(t *testing.T) {
	tests := []struct {
		x    float64
		dp   int
		want string
	}{
		{0.5, 0, "1"}, {2.5, 0, "3"}, {1.005, 2, "1.00"}, {0.125, 2, "0.13"}, {1.45, 1, "1.4"},
		{123.456, 1, "123.5"}, {0, 3, "0.000"}, {1e21, 2, "1e+21"}, {9.995, 2, "9.99"}, {99.5, 0, "100"},
	}
	for _, tc := range tests {
		if got := jsToFixed(tc.x, tc.dp); got != tc.want {
			t.Errorf("(%v).toFixed(%d) = %s, want %s", tc.x, tc.dp, got, tc.want)
		}
	}
}
