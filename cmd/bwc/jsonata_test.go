package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJSONataEval(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	if err := os.WriteFile(in, []byte(`{"z": 1, "items": [{"n": "a", "p": 2}, {"n": "b", "p": 3}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		stdin     string
		code      int
		stdout    string
		stderrHas string
	}{
		{"object keeps key order", []string{"jsonata", "eval", `{"z": z, "a": $sum(items.p), "n": items.n}`, "--input", in}, "", 0, `{"z":1,"a":5,"n":["a","b"]}` + "\n", ""},
		{"stdin input", []string{"jsonata", "eval", `items[p > 2].n`, "--input", "-"}, `{"items": [{"n": "a", "p": 2}, {"n": "b", "p": 3}]}`, 0, `"b"` + "\n", ""},
		{"expression from stdin", []string{"jsonata", "eval", "-"}, `1 + 2`, 0, "3\n", ""},
		{"bindings", []string{"jsonata", "eval", `$states.input.x & $v`, "--bindings", `{"states": {"input": {"x": "a"}}, "v": 1.5}`}, "", 0, `"a1.5"` + "\n", ""},
		{"numbers as JavaScript prints them", []string{"jsonata", "eval", `[0.1 + 0.2, 1e21, 1e-7]`}, "", 0, "[0.30000000000000004,1e+21,1e-7]\n", ""},
		{"undefined prints nothing", []string{"jsonata", "eval", `nothing.here`, "--input", in}, "", 0, "", ""},
		{"evaluation error", []string{"jsonata", "eval", `1 + "a"`}, "", 1, "", "T2002: "},
		{"syntax error", []string{"jsonata", "eval", `(1`}, "", 1, "", "S0203: "},
		{"bad input file", []string{"jsonata", "eval", `a`, "--input", filepath.Join(dir, "missing.json")}, "", 2, "", "reading input"},
		{"bad bindings", []string{"jsonata", "eval", `a`, "--bindings", `[1]`}, "", 2, "", "--bindings must be a JSON object"},
		{"fixed clock", []string{"jsonata", "eval", `[$now(), $fromMillis($millis(), "[FNn] [D1o] [MNn]", "+0100")]`, "--now", "2024-03-01T23:20:30Z"}, "", 0, `["2024-03-01T23:20:30.000Z","Saturday 2nd March"]` + "\n", ""},
		{"bad clock", []string{"jsonata", "eval", `$now()`, "--now", "yesterday"}, "", 2, "", "--now must be an RFC 3339 time"},
		{"error code and position first", []string{"jsonata", "eval", `$match("abc", /x*/)`}, "", 1, "", "D1004: "},
		{"no $eval", []string{"jsonata", "eval", `$eval("1")`}, "", 1, "", "T1006: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if stdout.String() != tc.stdout {
				t.Fatalf("stdout %q, want %q", stdout.String(), tc.stdout)
			}
			if tc.stderrHas != "" && !strings.HasPrefix(stderr.String(), tc.stderrHas) && !strings.Contains(stderr.String(), tc.stderrHas) {
				t.Fatalf("stderr %q, want it to contain %q", stderr.String(), tc.stderrHas)
			}
			if tc.code == 1 && !strings.HasPrefix(stderr.String(), tc.stderrHas) {
				t.Fatalf("stderr %q must start with the error code %q", stderr.String(), tc.stderrHas)
			}
		})
	}
}
