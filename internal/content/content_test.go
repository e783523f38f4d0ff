package content

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/workflow/workflowtest"
)

var update = flag.Bool("update", false, "rewrite statemachines/*.asl.json from packs/")

const generatedMarker = "generated; do not edit"

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// The shipped packs load and compile with no diagnostic at all.
func TestShippedPacksCompile(t *testing.T) {
	root := repoRoot(t)
	set, diags, err := pack.LoadDirs(filepath.Join(root, "packs"))
	if err != nil {
		t.Fatal(err)
	}
	c, cdiags := Compile(set)
	for _, d := range append(diags, cdiags...) {
		t.Errorf("%s", d)
	}
	if len(c.Rules.Rules) != len(set.Rules()) {
		t.Errorf("%d rules compiled of %d", len(c.Rules.Rules), len(set.Rules()))
	}
	var workflows int
	for _, a := range set.Actions() {
		if a.RunnerType == pack.RunnerWorkflow {
			workflows++
		}
	}
	if workflows == 0 || len(c.Machines) != workflows {
		t.Errorf("%d state machines for %d workflows", len(c.Machines), workflows)
	}
}

// statemachines/ holds the ASL of every workflow in packs/, as the compiler
// writes it now. `go test ./internal/content -update` (or go generate)
// rewrites the files; a stale, missing or orphaned file fails.
func TestStateMachineGoldens(t *testing.T) {
	root := repoRoot(t)
	set, _, err := pack.LoadDirs(filepath.Join(root, "packs"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Compile(set)
	dir := filepath.Join(root, "statemachines")
	want := map[string][]byte{}
	for _, ref := range c.MachineRefs() {
		b, err := c.Machines[ref].JSON()
		if err != nil {
			t.Fatal(err)
		}
		want[ref+".asl.json"] = b
	}
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range want {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	existing, _ := filepath.Glob(filepath.Join(dir, "*.asl.json"))
	var names []string
	for _, f := range existing {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		names = append(names, name)
		w, ok := want[name]
		switch {
		case !ok && bytes.Contains(b, []byte(generatedMarker)):
			if *update {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("statemachines/%s was generated from a workflow that no longer exists; run go test ./internal/content -update", name)
		case ok && !bytes.Equal(b, w):
			t.Errorf("statemachines/%s is stale; run go test ./internal/content -update (or go generate ./...)", name)
		}
	}
	sort.Strings(names)
	for name := range want {
		if i := sort.SearchStrings(names, name); i == len(names) || names[i] != name {
			t.Errorf("statemachines/%s is missing; run go test ./internal/content -update", name)
		}
	}
}

// Rule and workflow compile errors come back as pack diagnostics with the
// file, line and column of the rule or task.
func TestCompileDiagnostics(t *testing.T) {
	fsys := fstest.MapFS{
		"p/pack.yaml": {Data: []byte("ref: p\nname: p\nversion: 1.0.0\ndescription: test\nauthor: bwc\n")},
		"p/sensors/s.yaml": {Data: []byte(`class_name: s
trigger_types:
  - name: event
    payload_schema:
      type: object
      properties:
        level: {type: integer}
`)},
		"p/actions/a.yaml":  {Data: []byte("name: a\nrunner_type: noop\n")},
		"p/actions/wf.yaml": {Data: []byte("name: wf\nrunner_type: workflow\nentry_point: workflows/wf.yaml\n")},
		"p/actions/workflows/wf.yaml": {Data: []byte(`version: 1.0
tasks:
  one:
    action: p.a
    next:
      - do: [two, three]
  two:
    action: p.a
    next:
      - do: four
  three:
    action: p.a
    next:
      - do: four
  four:
    join: 1
    action: p.a
`)},
		"p/rules/r.yaml": {Data: []byte(`name: r
pack: p
trigger:
  type: p.event
criteria:
  trigger.level:
    type: regex
    pattern: "(unclosed"
action:
  ref: p.a
`)},
	}
	set, diags := pack.Load(fsys, "packs")
	for _, d := range diags {
		t.Logf("load: %s", d)
	}
	_, cdiags := Compile(set)
	var got []string
	for _, d := range cdiags {
		got = append(got, d.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"packs/p/actions/workflows/wf.yaml:15:3: task four: join: 1: the fork at task one has 2 branches",
		"packs/p/rules/r.yaml:6:3: rule p.r: criteria.trigger.level: invalid regular expression",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("diagnostics\n%s\nlack\n%s", all, want)
		}
	}
}

// The shipped remediation workflow runs every branch on the ASL interpreter.
func TestShippedRemediateDiskRuns(t *testing.T) {
	set, _, err := pack.LoadDirs(filepath.Join(repoRoot(t), "packs"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Compile(set)
	m := c.Machines["examples.remediate_disk"]
	if m == nil {
		t.Fatal("examples.remediate_disk did not compile")
	}
	script := func(usage string, cleanupFails bool) func(workflowtest.Call, int) workflowtest.Answer {
		return func(call workflowtest.Call, _ int) workflowtest.Answer {
			switch call.Task {
			case "check_disk":
				return workflowtest.Stdout(usage)
			case "cleanup":
				if cleanupFails {
					return workflowtest.Answer{Fail: workflowtest.ShellFailure("rm: permission denied")}
				}
				return workflowtest.Stdout("removed 12 files")
			}
			return workflowtest.Answer{Result: map[string]any{}}
		}
	}
	input := map[string]any{"host": "web-01"}
	approve := map[string]any{"response": map[string]any{"approved": true}}

	t.Run("approved", func(t *testing.T) {
		h := workflowtest.Start(t, m, input, script("95", false))
		h.Respond("approve", approve)
		h.Expect("SUCCEEDED", `{"cleaned":true,"usage":95}`, "check_disk", "approve", "cleanup", "notify")
		if msg := h.Actions.Last("notify").Params["message"]; msg != "Disk on web-01 was at 95%: old logs cleaned up." {
			t.Errorf("notify message %v", msg)
		}
	})
	t.Run("declined", func(t *testing.T) {
		h := workflowtest.Start(t, m, input, script("95", false))
		h.Respond("approve", map[string]any{"response": map[string]any{"approved": false}})
		h.Expect("SUCCEEDED", `{"cleaned":false,"usage":95}`, "check_disk", "approve", "notify_declined")
	})
	t.Run("below threshold", func(t *testing.T) {
		h := workflowtest.Start(t, m, input, script("42", false))
		h.Expect("SUCCEEDED", `{"cleaned":false,"usage":42}`, "check_disk")
	})
	t.Run("cleanup fails", func(t *testing.T) {
		h := workflowtest.Start(t, m, input, script("95", true))
		h.Respond("approve", approve)
		h.Expect("FAILED", "", "check_disk", "approve", "cleanup", "notify_failure")
		if msg := h.Actions.Last("notify_failure").Params["message"]; msg != "Disk remediation on web-01 failed: bwc.ActionFailed" {
			t.Errorf("notify_failure message %v", msg)
		}
	})
}
