package pack

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestShippedPacks loads the repository's packs: they must have no problem.
func TestShippedPacks(t *testing.T) {
	set, diags, err := LoadDirs("../../packs")
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) > 0 {
		t.Fatalf("the shipped packs have problems:\n%v", diags)
	}
	for _, ref := range []string{"core", "examples"} {
		if set.Pack(ref) == nil {
			t.Errorf("pack %s not loaded", ref)
		}
	}
	for _, ref := range []string{"core.IntervalTimer", "core.CronTimer", "core.DateTimer", "core.webhook", "core.actiontrigger", "core.inquiry"} {
		if set.TriggerType(ref) == nil || set.TriggerType(ref).PayloadSchema == nil {
			t.Errorf("trigger type %s missing or without a payload schema", ref)
		}
	}
	for _, ref := range []string{"core.local", "core.local_sudo", "core.remote", "core.http", "core.noop", "core.echo", "core.ask", "core.inject_trigger"} {
		if set.Action(ref) == nil {
			t.Errorf("action %s missing", ref)
		}
	}
	wf := set.Action("examples.remediate_disk")
	if wf == nil || wf.Workflow == nil {
		t.Fatal("examples.remediate_disk is not a loaded workflow")
	}
	uses := map[string]bool{}
	for _, task := range wf.Workflow.Tasks {
		uses[task.Action] = true
	}
	if !uses["core.ask"] || !uses["examples.notify"] {
		t.Errorf("the remediation workflow should ask for approval and notify; it uses %v", uses)
	}
}

// TestSampleEvents checks events/: each file is named after an example rule,
// names that rule's trigger type, and carries a payload that satisfies the
// trigger type's payload schema (and trigger parameters that satisfy its
// parameters schema). Every example rule has one.
func TestSampleEvents(t *testing.T) {
	set, _, err := LoadDirs("../../packs")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	covered := map[string]bool{}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		covered["examples."+name] = true
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var inst struct {
				Trigger           string         `json:"trigger"`
				Payload           map[string]any `json:"payload"`
				TriggerParameters map[string]any `json:"trigger_parameters"`
			}
			if err := json.Unmarshal(data, &inst); err != nil {
				t.Fatal(err)
			}
			r := set.Rule("examples." + name)
			if r == nil {
				t.Fatalf("no rule examples.%s for events/%s.json", name, name)
			}
			if r.Trigger.Type != inst.Trigger {
				t.Fatalf("trigger %s, rule %s listens to %s", inst.Trigger, r.Ref, r.Trigger.Type)
			}
			tt := set.TriggerType(inst.Trigger)
			sch, probs := compileSchema(tt.PayloadSchema)
			if probs != nil {
				t.Fatal(probs)
			}
			if probs := validateValue(sch, inst.Payload); probs != nil {
				t.Errorf("payload does not satisfy %s's payload schema: %v", tt.Ref, probs)
			}
			if inst.TriggerParameters != nil {
				sch, _ := compileSchema(tt.ParametersSchema)
				if probs := validateValue(sch, inst.TriggerParameters); probs != nil {
					t.Errorf("trigger parameters do not satisfy %s's parameters schema: %v", tt.Ref, probs)
				}
			}
		})
	}
	for _, r := range set.Pack("examples").Rules {
		if !covered[r.Ref] {
			t.Errorf("rule %s has no sample event in events/", r.Ref)
		}
	}
}

// TestBadPackGolden loads a pack with many mistakes: every one is reported,
// sorted, as file:line:col: field: message (testdata/bad.golden).
func TestBadPackGolden(t *testing.T) {
	_, diags, err := LoadDirs("../../packs/core", "testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	got := diags.Error() + "\n"
	golden := "testdata/bad.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("diagnostics differ from %s (go test -update rewrites it):\n%s", golden, got)
	}
	for _, d := range diags {
		if d.Pos.File == "" || d.Pos.Line == 0 || d.Pos.Col == 0 {
			t.Errorf("diagnostic without a full position: %s", d)
		}
	}
}

func TestDiagnosticsSortAndString(t *testing.T) {
	ds := Diagnostics{
		{Pos: Pos{File: "b.yaml", Line: 1, Col: 1}, Message: "m"},
		{Pos: Pos{File: "a.yaml", Line: 10, Col: 2}, Field: "f", Message: "second"},
		{Pos: Pos{File: "a.yaml", Line: 2, Col: 5}, Message: "first"},
		{Pos: Pos{File: "a.yaml", Line: 10, Col: 2}, Field: "f", Message: "second"},
		{Pos: Pos{File: "a.yaml"}, Message: "no line"},
	}.Sort()
	want := "a.yaml: no line\na.yaml:2:5: first\na.yaml:10:2: f: second\nb.yaml:1:1: m"
	if got := ds.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestLoadDirsErrors(t *testing.T) {
	if _, _, err := LoadDirs("testdata/does-not-exist"); err == nil {
		t.Error("LoadDirs of a missing directory: want an error")
	}
	if _, _, err := LoadDirs("packs_test.go"); err == nil {
		t.Error("LoadDirs of a file: want an error")
	}
}

func BenchmarkLoadShippedPacks(b *testing.B) {
	fsys := os.DirFS("../../packs")
	for b.Loop() {
		if _, diags := Load(fsys, "packs"); len(diags) > 0 {
			b.Fatal(diags)
		}
	}
}
