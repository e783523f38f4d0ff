package workflow

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func testKinds(ref string) (string, bool) {
	switch ref {
	case "core.local", "core.noop", "core.echo", "core.http":
		return KindRunner, true
	case "core.ask":
		return KindInquiry, true
	case "examples.child":
		return KindWorkflow, true
	}
	return "", false
}

func compileFile(t *testing.T, path string) *Machine {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Parse(path, src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	m, err := Compile(w, "examples."+strings.TrimSuffix(filepath.Base(path), ".yaml"), testKinds)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return m
}

func TestCompileGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) == 0 {
		t.Fatal("no test workflows")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m := compileFile(t, f)
			got, err := m.JSON()
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".asl.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/workflow -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s is stale; run go test ./internal/workflow -update", golden)
			}
		})
	}
}

func TestCompileStates(t *testing.T) {
	m := compileFile(t, "testdata/remediate.yaml")
	states := m.Definition["States"].(map[string]any)
	check := func(name, field string, want any) {
		t.Helper()
		s, ok := states[name].(map[string]any)
		if !ok {
			t.Fatalf("state %s missing; states: %v", name, m.States)
		}
		if got := s[field]; !jsonEqual(got, want) {
			t.Errorf("%s.%s = %v, want %v", name, field, got, want)
		}
	}
	check("check_disk", "Type", "Task")
	check("check_disk", "Resource", "arn:aws:states:::lambda:invoke")
	check("check_disk", "Next", "check_disk.next")
	check("check_disk.next", "Type", "Choice")
	check("check_disk.failed", "Type", "Choice")
	check("approve", "Resource", "arn:aws:states:::lambda:invoke.waitForTaskToken")
	check("cleanup.delay", "Type", "Wait")
	check("cleanup.delay", "Seconds", 2.0)
	check("notify", "Type", "Map")
	check("notify", "MaxConcurrency", 1.0)
	check("bwc.start", "Next", "bwc.vars")
	retry := states["check_disk"].(map[string]any)["Retry"].([]any)[0].(map[string]any)
	if retry["MaxAttempts"] != 2 || retry["IntervalSeconds"] != 5 {
		t.Errorf("retry = %v", retry)
	}
	rules := states["check_disk.next"].(map[string]any)["Choices"].([]any)
	first := rules[0].(map[string]any)
	if first["Condition"] != "{% true and $number($states.input.stdout) >= $threshold %}" || first["Next"] != "approve" {
		t.Errorf("first success rule = %v", first)
	}
	if got := first["Assign"].(map[string]any)["usage"]; got != "{% $number($states.input.stdout) %}" {
		t.Errorf("publish = %v", got)
	}
	if got := m.States["cleanup"]; strings.Join(got, ",") != "cleanup.delay,cleanup,cleanup.next,cleanup.failed,cleanup.fail" {
		t.Errorf("states of cleanup = %v", got)
	}
}

func TestCompileFork(t *testing.T) {
	m := compileFile(t, "testdata/fanout.yaml")
	states := m.Definition["States"].(map[string]any)
	if _, ok := states["disk"]; ok {
		t.Error("branch task disk is at the top level; want it inside the Parallel state")
	}
	par, ok := states["start.fork"].(map[string]any)
	if !ok || par["Type"] != "Parallel" || par["Next"] != "report" {
		t.Fatalf("start.fork = %v", par)
	}
	branches := par["Branches"].([]any)
	if len(branches) != 2 {
		t.Fatalf("%d branches, want 2", len(branches))
	}
	b1 := branches[0].(map[string]any)
	b2 := branches[1].(map[string]any)
	if b1["StartAt"] != "disk" || b2["StartAt"] != "memory" {
		t.Errorf("StartAt = %v, %v", b1["StartAt"], b2["StartAt"])
	}
	b2states := b2["States"].(map[string]any)
	for _, s := range []string{"memory", "check_memory", "start.fork.branch2.end"} {
		if _, ok := b2states[s]; !ok {
			t.Errorf("branch 2 lacks state %s", s)
		}
	}
	// check_memory leads to the join: inside the branch that is the branch end.
	if got := b2states["check_memory.next"].(map[string]any)["Choices"].([]any)[0].(map[string]any)["Next"]; got != "start.fork.branch2.end" {
		t.Errorf("check_memory goes to %v, want the branch end", got)
	}
	if got := b2states["start.fork.branch2.end"].(map[string]any)["Output"]; got != `{% {"memory": $memory} %}` {
		t.Errorf("branch 2 output = %v", got)
	}
	assign := par["Assign"].(map[string]any)
	if got := assign["disk"]; got != "{% $exists($states.result[0].disk) ? $states.result[0].disk : (null) %}" {
		t.Errorf("assign disk = %v", got)
	}
	if got := states["start.next"].(map[string]any)["Choices"].([]any)[0].(map[string]any)["Next"]; got != "start.fork" {
		t.Errorf("start transitions to %v, want start.fork", got)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"unknown task in do", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: bb\n  b:\n    action: core.noop\n",
			[]string{`wf.yaml:6:9: task a: do: task "bb" does not exist (did you mean "b"?)`}},
		{"unknown action", "version: 1.0\ntasks:\n  a:\n    action: core.nope\n", []string{`wf.yaml:3:3: task a: action "core.nope" does not exist`}},
		{"unknown field", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    nxt: []\n", []string{`wf.yaml:5:5: task a: unknown field "nxt" (did you mean "next"?)`}},
		{"bad jsonata", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    input:\n      x: \"{% $foo( %}\"\n", []string{`wf.yaml:3:3: task a: input.x: invalid JSONata`}},
		{"jinja", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    input:\n      x: \"{{ ctx().x }}\"\n", []string{"workflows use JSONata templates"}},
		{"join count", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: [b, c]\n  b:\n    action: core.noop\n    next:\n      - do: d\n  c:\n    action: core.noop\n    next:\n      - do: d\n  d:\n    join: 1\n    action: core.noop\n",
			[]string{"wf.yaml:15:3: task d: join: 1: the fork at task a has 2 branches", "use `join: all`"}},
		{"branch escapes", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: [b, c]\n      - when: \"{% $failed() %}\"\n        do: e\n  b:\n    action: core.noop\n    next:\n      - do: e\n  c:\n    action: core.noop\n  e:\n    action: core.noop\n",
			[]string{"do: e: this task is already part of"}},
		{"join without fork", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: b\n  b:\n    join: all\n    action: core.noop\n",
			[]string{"wf.yaml:7:3: task b: join: this task is not where the branches of one fork meet"}},
		{"fork with command", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: [b, fail]\n  b:\n    action: core.noop\n", []string{"a fork lists tasks only"}},
		{"unreachable", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n  b:\n    action: core.noop\n    next:\n      - do: c\n  c:\n    action: core.noop\n    next:\n      - do: b\n", []string{"task b: this task is never reached from the start task a"}},
		{"result in with-items input", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: b\n  b:\n    action: core.echo\n    with:\n      items: \"{% [1, 2] %}\"\n    input:\n      message: \"{% $result.x %}\"\n",
			[]string{"wf.yaml:7:3: task b: input: $result is not available in a task with `with`"}},
		{"no start", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: a\n", []string{"no start task"}},
		{"version", "version: 2.0\ntasks:\n  a:\n    action: core.noop\n", []string{`wf.yaml:1:10: version: found "2.0", expected 1.0`}},
		{"retry when in a fork", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: [b, c]\n  b:\n    action: core.noop\n    retry:\n      when: \"{% $result.x = 1 %}\"\n      count: 2\n  c:\n    action: core.noop\n", []string{"task b: retry.when: a retry that looks at the result is not supported inside a fork's branch yet"}},
		{"retry when not jsonata", "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    retry:\n      when: \"$result.x = 1\"\n      count: 2\n", []string{"retry.when: found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Parse("wf.yaml", []byte(tt.src))
			if err == nil {
				_, err = Compile(w, "examples.wf", testKinds)
			}
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, s)
				}
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case int:
			return x == float64(y)
		}
	}
	return a == b
}

// TestASLFixturesAreGoldens keeps the copies of goldens that internal/asl
// uses as fixtures equal to the goldens (rewrite them with cp after -update).
func TestASLFixturesAreGoldens(t *testing.T) {
	for _, name := range []string{"remediate.asl.json", "parent.asl.json"} {
		want, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "asl", "testdata", "machines", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("internal/asl/testdata/machines/%s differs from internal/workflow/testdata/%s: cp the golden there", name, name)
		}
	}
}
