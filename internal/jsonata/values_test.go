package jsonata

import (
	"errors"
	"math"
	"testing"
)

func TestFormatNumberJS(t *testing.T) {
	a, b := 0.1, 0.2 // variables: Go folds constant expressions exactly
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1.5, "-1.5"}, {a + b, "0.30000000000000004"},
		{1e21, "1e+21"}, {1e20, "100000000000000000000"}, {123456789012345680000, "123456789012345680000"},
		{1e-7, "1e-7"}, {1e-6, "0.000001"}, {1.5e-10, "1.5e-10"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
		{math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"}, {math.NaN(), "NaN"}, {100, "100"}, {2.5e25, "2.5e+25"},
	}
	for _, tc := range tests {
		if got := formatNumberJS(tc.f); got != tc.want {
			t.Errorf("formatNumberJS(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
	if got := formatNumberJS(precision15(a + b)); got != "0.3" {
		t.Errorf("15 significant digits: %q", got)
	}
}

func TestObjectKeyOrder(t *testing.T) {
	o := newObject(0)
	for _, k := range []string{"b", "10", "a", "2", "01", "4294967295"} {
		o.set(k, 1.0)
	}
	got := o.orderedKeys()
	want := []string{"2", "10", "b", "a", "01", "4294967295"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v (JavaScript property order)", got, want)
		}
	}
	// growing past the small-object size switches to an index
	big := newObject(0)
	for i := 0; i < 40; i++ {
		big.set(string(rune('A'+i)), float64(i))
	}
	big.del("C")
	if big.get("D") != 3.0 || big.get("C") != nil || big.size() != 39 {
		t.Fatalf("big object: D=%v C=%v size=%d", big.get("D"), big.get("C"), big.size())
	}
}

func TestTranslateRegex(t *testing.T) {
	tests := []struct {
		pattern, flags, input string
		match                 bool
	}{
		{`\d+`, "", "ab12", true},
		{`^b`, "", "a\nb", false},
		{`^b`, "m", "a\nb", true},
		{`A`, "i", "xa", true},
		{`\s`, "", "a\u00a0b", true},
		{`a.b`, "", "a\u2028b", false},
		{`\u00e9`, "", "café", true},
		{`[^]`, "", "x", true},
		{`a\/b`, "", "a/b", true},
		{`(?<y>\d{4})`, "", "in 2024", true},
	}
	for _, tc := range tests {
		re, err := compileRegex(tc.pattern, tc.flags)
		if err != nil {
			t.Errorf("/%s/%s: %v", tc.pattern, tc.flags, err)
			continue
		}
		if got := re.re.MatchString(tc.input); got != tc.match {
			t.Errorf("/%s/%s on %q: %v, want %v", tc.pattern, tc.flags, tc.input, got, tc.match)
		}
	}
	for _, p := range []string{`a(?=b)`, `a(?!b)`, `(?<=a)b`, `(a)\1`} {
		if _, err := compileRegex(p, ""); err == nil || err.Code != "S0303" {
			t.Errorf("/%s/: got %v, want S0303", p, err)
		}
	}
}

func TestSignatureValidation(t *testing.T) {
	sig, err := parseSignature("<s-nn?:s>")
	if err != nil {
		t.Fatal(err)
	}
	// context substitution for the missing first argument
	got, verr := sig.validate([]any{1.0}, "ctx")
	if verr != nil || len(got) != 3 || got[0] != "ctx" || got[1] != 1.0 || got[2] != nil {
		t.Fatalf("got %v, %v", got, verr)
	}
	if _, verr := sig.validate([]any{"a", "b"}, nil); verr == nil {
		t.Fatal("want T0410")
	} else if je, ok := verr.(*Error); !ok || je.Code != "T0410" || je.Value != 2.0 { //nolint:errorlint // validate returns *Error unwrapped
		t.Fatalf("got %+v", verr)
	}
	arr, _ := parseSignature("<a<n>:n>")
	out, verr := arr.validate([]any{5.0}, nil)
	if verr != nil {
		t.Fatal(verr)
	}
	if a, ok := out[0].(*array); !ok || len(a.items) != 1 {
		t.Fatalf("singleton not wrapped: %#v", out[0])
	}
	if _, verr := arr.validate([]any{&array{items: []any{1.0, "x"}}}, nil); !isCode(verr, "T0412") {
		t.Fatalf("got %v, want T0412", verr)
	}
	plus, _ := parseSignature("<a+>")
	if out, verr := plus.validate([]any{&array{}, &array{}, 1.0}, nil); verr != nil || len(out) != 3 {
		t.Fatalf("variadic: %v %v", out, verr)
	}
}

func isCode(err error, code string) bool {
	var je *Error
	return errors.As(err, &je) && je.Code == code
}
