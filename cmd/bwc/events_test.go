package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEventsTestPattern(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pat := write("pattern.json", `{"source": ["aws.ec2"], "detail": {"state": [{"anything-but": "running"}]}}`)
	stopped := write("stopped.json", `{"source": "aws.ec2", "detail": {"state": "stopped"}}`)
	running := write("running.json", `{"source": "aws.ec2", "detail": {"state": "running"}}`)
	badPattern := write("bad.json", `{"detail": {"n": [{"numeric": [">", 0, ">", 1]}]}}`)
	tests := []struct {
		name      string
		args      []string
		stdin     string
		code      int
		stdout    string
		stderrHas string
	}{
		{"match from files", []string{"events", "test-pattern", "--pattern", pat, "--event", stopped}, "", 0, "true\n", ""},
		{"no match", []string{"events", "test-pattern", "--pattern", pat, "--event", running}, "", 1, "false\n", ""},
		{"event from stdin", []string{"events", "test-pattern", "--pattern", pat, "--event", "-"}, `{"source": "aws.ec2", "detail": {"state": "pending"}}`, 0, "true\n", ""},
		{"pattern from stdin", []string{"events", "test-pattern", "--pattern", "-", "--event", running}, `{"detail": {"state": [{"prefix": "run"}]}}`, 0, "true\n", ""},
		{"inline JSON", []string{"events", "test-pattern", "--pattern", `{"a": [{"numeric": [">=", 10]}]}`, "--event", `{"a": 9.5}`}, "", 1, "false\n", ""},
		{"invalid pattern names the field", []string{"events", "test-pattern", "--pattern", badPattern, "--event", stopped}, "", 2, "", "detail.n[0].numeric[2]"},
		{"pattern not JSON", []string{"events", "test-pattern", "--pattern", "-", "--event", stopped}, "{'bad': 1}", 2, "", "not valid JSON"},
		{"invalid event", []string{"events", "test-pattern", "--pattern", pat, "--event", `{"source": `}, "", 2, "", "invalid event"},
		{"event not an object", []string{"events", "test-pattern", "--pattern", pat, "--event", "-"}, `[1]`, 2, "", "must be a JSON object"},
		{"missing file", []string{"events", "test-pattern", "--pattern", filepath.Join(dir, "nope.json"), "--event", stopped}, "", 2, "", "reading the pattern"},
		{"both stdin", []string{"events", "test-pattern", "--pattern", "-", "--event", "-"}, "", 2, "", "cannot both"},
		{"flags required", []string{"events", "test-pattern", "--pattern", pat}, "", 2, "", "required"},
		{"unknown flag", []string{"events", "test-pattern", "--patern", pat}, "", 2, "", "unknown flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d (stdout %q, stderr %q)", code, tc.code, stdout.String(), stderr.String())
			}
			if stdout.String() != tc.stdout {
				t.Fatalf("stdout %q, want %q", stdout.String(), tc.stdout)
			}
			if tc.stderrHas != "" && !strings.Contains(stderr.String(), tc.stderrHas) {
				t.Fatalf("stderr %q, want it to contain %q", stderr.String(), tc.stderrHas)
			}
			if tc.code != 2 && stderr.Len() != 0 {
				t.Fatalf("unexpected stderr %q", stderr.String())
			}
		})
	}
}
