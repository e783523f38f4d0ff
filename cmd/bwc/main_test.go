package main

import (
	"strings"
	"testing"
)

// Wrong arguments and unknown flags are bad input on every command: exit 2
// with the command's usage line.
func TestBadArgumentsExit2(t *testing.T) {
	tests := [][]string{
		{"rule", "explain"},
		{"rule", "test", "a", "b"},
		{"workflow", "compile"},
		{"jsonata", "eval"},
		{"events", "test-pattern", "extra"},
		{"pack", "list", "--bogus"},
		{"asl", "run"},
		{"execution", "get"},
		{"version", "--nope"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, "", args...)
			if code != 2 || !strings.Contains(errOut, "usage: bwc ") {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit 2 with the usage line", code, errOut, out)
			}
		})
	}
}
