package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/engine"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/store"
)

// startEngine runs an engine in-process on a free port with the core pack
// and the end-to-end test packs, and points the CLI at it.
func startEngine(t *testing.T) *engine.Engine {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	eng, err := engine.Open(ctx, engine.Config{
		PackDirs: []string{filepath.Join("..", "..", "packs", "core"), filepath.Join("..", "..", "tests", "testdata", "packs")},
		DBPath:   filepath.Join(dir, "bwc.db"),
		Listen:   "127.0.0.1:0",
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	})
	// Only once the engine has recovered (its API answers) is what the
	// test starts not taken for what an earlier process left.
	if err := waitEngine(ctx, eng.URL, nil); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(eng.APIKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BWC_API_URL", eng.URL)
	t.Setenv("BWC_API_KEY", strings.TrimSpace(string(key)))
	return eng
}

func engineCLI(args ...string) (string, string, int) {
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func TestServeBadInput(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"packs directory missing", []string{"serve", "--packs", filepath.Join(t.TempDir(), "nope")}, 2, "not a readable directory"},
		{"bad log level", []string{"serve", "--log-level", "loud"}, 2, "--log-level"},
		{"unknown flag", []string{"serve", "--port", "1"}, 2, "unknown flag"},
		{"arguments", []string{"serve", "extra"}, 2, "unknown command"},
		{"address in use or invalid", []string{"serve", "--packs", filepath.Join("..", "..", "packs"), "--db", filepath.Join(t.TempDir(), "b.db"), "--listen", "256.0.0.1:1"}, 1, "listening on"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := engineCLI(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

func TestWithCorePack(t *testing.T) {
	root := filepath.Join("..", "..", "packs")
	got, err := withCorePack([]string{root}, "")
	if err != nil || len(got) != 1 {
		t.Errorf("packs holding core: %v, %v; want them unchanged", got, err)
	}
	other := filepath.Join("..", "..", "tests", "testdata", "packs")
	got, err = withCorePack([]string{other}, filepath.Join(root, "core"))
	if err != nil || len(got) != 2 || got[1] != filepath.Join(root, "core") {
		t.Errorf("--core-pack: %v, %v", got, err)
	}
	if _, err := withCorePack([]string{other}, t.TempDir()); err == nil || !strings.Contains(err.Error(), "core pack was not found") {
		t.Errorf("no core pack: %v", err)
	}
}

func TestRunAndExecutionCommands(t *testing.T) {
	startEngine(t)
	out, errOut, code := engineCLI("run", "e2e.greet", "name=cli", "times=2", "--json")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	var ex store.Execution
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Status != store.StatusSucceeded || !strings.Contains(string(ex.Result), `hello cli (happy)\nhello cli (happy)`) {
		t.Errorf("run: %+v %s", ex, ex.Result)
	}

	out, _, code = engineCLI("execution", "get", ex.ID)
	if code != 0 || !strings.Contains(out, "status:") || !strings.Contains(out, "succeeded") || !strings.Contains(out, `"stdout": "hello cli`) {
		t.Errorf("execution get: exit %d:\n%s", code, out)
	}
	out, _, code = engineCLI("execution", "list", "--action", "e2e.greet")
	if code != 0 || !strings.Contains(out, ex.ID) || strings.Count(out, "\n") != 2 {
		t.Errorf("execution list: exit %d:\n%s", code, out)
	}
	out, errOut, code = engineCLI("execution", "tail", ex.ID)
	if code != 0 || out != "hello cli (happy)\nhello cli (happy)\n" || errOut != "greeted cli\n" {
		t.Errorf("execution tail: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// Re-run: same parameters, one overridden; defaults filled in again.
	out, errOut, code = engineCLI("execution", "re-run", ex.ID, "times=1", "--json")
	if code != 0 {
		t.Fatalf("re-run: exit %d: %s", code, errOut)
	}
	var again store.Execution
	if err := json.Unmarshal([]byte(out), &again); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Stdout string `json:"stdout"`
	}
	_ = json.Unmarshal(again.Result, &res)
	if again.ID == ex.ID || again.Status != store.StatusSucceeded || again.Parameters["name"] != "cli" || again.Parameters["times"] != float64(1) ||
		res.Stdout != "hello cli (happy)" {
		t.Errorf("re-run: %+v %s", again, again.Result)
	}

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"re-run an unknown execution", []string{"execution", "re-run", "ex-nope"}, 1, "404"},
		{"unknown action", []string{"run", "e2e.nope", "a=1"}, 1, "no action"},
		{"bad parameter type", []string{"run", "e2e.greet", "name=x", "times=many"}, 2, "expected integer"},
		{"invalid parameters", []string{"run", "e2e.greet", "mood=angry"}, 1, "/parameters/mood"},
		{"not NAME=VALUE", []string{"run", "e2e.greet", "name"}, 2, "NAME=VALUE"},
		{"failing action", []string{"run", "e2e.fail"}, 1, ""},
		{"unknown execution", []string{"execution", "get", "ex-nope"}, 1, "404"},
		{"cancel a finished execution", []string{"execution", "cancel", ex.ID}, 1, "409"},
		{"bad status", []string{"execution", "list", "--status", "sleeping"}, 2, "not an execution status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := engineCLI(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

func TestCLIWithoutKey(t *testing.T) {
	t.Setenv("BWC_API_KEY", "")
	t.Chdir(t.TempDir())
	_, stderr, code := engineCLI("execution", "list")
	if code != 2 || !strings.Contains(stderr, "no API key") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestConvertParam(t *testing.T) {
	a := &pack.Action{Ref: "p.a", Effective: []*pack.Parameter{
		{Name: "s", Type: "string"}, {Name: "i", Type: "integer"}, {Name: "n", Type: "number"},
		{Name: "b", Type: "boolean"}, {Name: "a", Type: "array"}, {Name: "o", Type: "object"},
		{Name: "u"}, {Name: "si", Type: "integer|string"},
	}}
	tests := []struct {
		name, value string
		want        any
		err         bool
	}{
		{"s", "12", "12", false},
		{"i", "12", int64(12), false},
		{"i", "1.5", nil, true},
		{"n", "1.5", 1.5, false},
		{"b", "true", true, false},
		{"b", "maybe", nil, true},
		{"a", `["x", 1]`, []any{"x", 1.0}, false},
		{"a", "x, y", []any{"x", "y"}, false},
		{"o", `{"k": 1}`, map[string]any{"k": 1.0}, false},
		{"o", "k=1", nil, true},
		{"u", "anything", "anything", false},
		{"si", "x", "x", false},
		{"si", "3", int64(3), false},
		{"unknown", "v", "v", false},
	}
	for _, tc := range tests {
		got, err := convertParam(a, tc.name, tc.value)
		if (err != nil) != tc.err {
			t.Errorf("%s=%s: err %v, want error %v", tc.name, tc.value, err, tc.err)
			continue
		}
		if !tc.err {
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tc.want)
			if string(gb) != string(wb) || (tc.want != nil && typeName(got) != typeName(tc.want)) {
				t.Errorf("%s=%s: %#v, want %#v", tc.name, tc.value, got, tc.want)
			}
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "int64"
	case float64:
		return "float64"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "other"
}
