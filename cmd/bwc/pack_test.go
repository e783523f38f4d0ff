package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	testPacks   = "../../packs"
	testBadPack = "../../internal/pack/testdata/bad"
)

func runBWC(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// shipped counts what the shipped packs hold by reading their files (not
// through the pack loader the commands use): the summary line of `bwc pack
// validate`, and the number of actions and rules of the examples pack.
func shipped(t *testing.T) (summary string, exampleActions, exampleRules int) {
	t.Helper()
	glob := func(pattern string) []string {
		m, err := filepath.Glob(filepath.Join(testPacks, pattern))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	read := func(file string, v any) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	packs, actions, workflows := len(glob("*/pack.yaml")), glob("*/actions/*.yaml"), 0
	for _, f := range actions {
		var a struct {
			RunnerType string `yaml:"runner_type"`
		}
		read(f, &a)
		if a.RunnerType == "workflow" {
			workflows++
		}
	}
	sensors, triggerTypes := glob("*/sensors/*.yaml"), 0
	for _, f := range sensors {
		var sn struct {
			TriggerTypes []any `yaml:"trigger_types"`
		}
		read(f, &sn)
		triggerTypes += len(sn.TriggerTypes)
	}
	workflowWord := "workflow"
	if workflows != 1 {
		workflowWord = "workflows"
	}
	summary = fmt.Sprintf("valid: %d packs, %d actions (%d %s), %d rules, %d sensors, %d trigger types, %d policies",
		packs, len(actions), workflows, workflowWord, len(glob("*/rules/*.yaml")), len(sensors), triggerTypes, len(glob("*/policies/*.yaml")))
	return summary, len(glob("examples/actions/*.yaml")), len(glob("examples/rules/*.yaml"))
}

func TestPackCommands(t *testing.T) {
	summary, exampleActions, exampleRules := shipped(t)
	tests := []struct {
		name      string
		args      []string
		code      int
		stdoutHas []string
		stderrHas string
	}{
		{"validate the shipped packs", []string{"pack", "validate", testPacks}, 0,
			[]string{"PACK ", "core ", "examples ", summary}, ""},
		{"validate a broken pack", []string{"pack", "validate", testPacks + "/core", testBadPack}, 1,
			[]string{
				`bad/ops/rules/on_alert.yaml:14:8: action.ref: action ops.restrt does not exist (did you mean "ops.restart"?)`,
				`bad/ops/actions/restart.yaml:4:1: parameter: unknown field (did you mean "parameters"?)`,
				"bad/ops/pack.yaml:1:1: author: missing",
				"invalid: 14 problems in 6 files",
			}, ""},
		{"validate a missing directory", []string{"pack", "validate", "no-such-dir"}, 2, nil, "no-such-dir"},
		{"validate bad flag", []string{"pack", "validate", "--jsn"}, 2, nil, "unknown flag"},
		{"list", []string{"pack", "list", testPacks}, 0, []string{"core ", "1.0.0", "examples "}, ""},
		{"list a broken pack notes its problems", []string{"pack", "list", testBadPack}, 0, []string{"ops "}, "problems; bwc pack validate lists them"},
		{"show a pack", []string{"pack", "show", "examples", "--packs", testPacks}, 0,
			[]string{"pack examples 1.0.0", fmt.Sprintf("ACTIONS (%d)", exampleActions), "examples.remediate_disk", fmt.Sprintf("RULES (%d)", exampleRules), "examples.disk_alert", "TRIGGER TYPES (1)", "examples.deployment", "POLICIES (2)", "CONFIG (4)"}, ""},
		{"show an action", []string{"pack", "show", "core.echo", "--packs", testPacks}, 0,
			[]string{"action core.echo", "runner:", "local-shell-cmd", "message", "immutable"}, ""},
		{"show a workflow action", []string{"pack", "show", "examples.remediate_disk", "--packs", testPacks}, 0,
			[]string{"runner:", "workflow", "WORKFLOW TASKS (6)", "approve", "core.ask"}, ""},
		{"show a rule", []string{"pack", "show", "examples.disk_alert", "--packs", testPacks}, 0,
			[]string{"rule examples.disk_alert (enabled)", "TRIGGER core.webhook", "monitoring/alert", "trigger.body.labels.alertname", "ACTION examples.remediate_disk"}, ""},
		{"show a trigger type", []string{"pack", "show", "core.IntervalTimer", "--packs", testPacks}, 0,
			[]string{"trigger type core.IntervalTimer", "PARAMETERS SCHEMA", "PAYLOAD SCHEMA", "executed_at"}, ""},
		{"show a sensor", []string{"pack", "show", "core.Timers", "--packs", testPacks}, 0, []string{"sensor core.Timers", "core.CronTimer"}, ""},
		{"show a policy", []string{"pack", "show", "examples.remediate_disk_concurrency", "--packs", testPacks}, 0, []string{"action.concurrency", "threshold"}, ""},
		{"show an unknown ref", []string{"pack", "show", "examples.disk_alrt", "--packs", testPacks}, 1, nil, `did you mean "examples.disk_alert"?`},
		{"show needs a ref", []string{"pack", "show", "--packs", testPacks}, 2, nil, "accepts 1 arg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runBWC(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdoutHas {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout does not contain %q:\n%s", s, stdout)
				}
			}
			if tc.stderrHas != "" && !strings.Contains(stderr, tc.stderrHas) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.stderrHas)
			}
		})
	}
}

// TestPackValidateEveryLineHasAPosition checks the acceptance criterion: on
// a pack with several mistakes, every problem is printed with file:line:col.
func TestPackValidateEveryLineHasAPosition(t *testing.T) {
	code, stdout, _ := runBWC(t, "pack", "validate", testPacks+"/core", testBadPack)
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 10 {
		t.Fatalf("want every problem of the broken pack, got %d lines:\n%s", len(lines), stdout)
	}
	pos := regexp.MustCompile(`^[^ :]+\.yaml:[0-9]+:[0-9]+: `)
	for _, l := range lines[:len(lines)-1] {
		if !pos.MatchString(l) {
			t.Errorf("line without file:line:col: %q", l)
		}
	}
}

func TestPackJSON(t *testing.T) {
	code, stdout, _ := runBWC(t, "pack", "validate", "--json", testPacks+"/core", testBadPack)
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	var report struct {
		Valid       bool `json:"valid"`
		Diagnostics []struct {
			File    string `json:"file"`
			Line    int    `json:"line"`
			Col     int    `json:"col"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"diagnostics"`
		Packs []struct {
			Ref     string `json:"ref"`
			Actions int    `json:"actions"`
		} `json:"packs"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if report.Valid || len(report.Diagnostics) != 14 || len(report.Packs) != 2 {
		t.Fatalf("report: valid %v, %d diagnostics, %d packs", report.Valid, len(report.Diagnostics), len(report.Packs))
	}
	for _, d := range report.Diagnostics {
		if d.File == "" || d.Line == 0 || d.Col == 0 || d.Message == "" {
			t.Errorf("incomplete diagnostic %+v", d)
		}
	}

	code, stdout, _ = runBWC(t, "pack", "show", "examples.remediate_disk", "--json", "--packs", testPacks)
	if code != 0 {
		t.Fatalf("show --json: exit code %d", code)
	}
	var shown struct {
		Kind   string `json:"kind"`
		Action struct {
			Ref        string `json:"ref"`
			RunnerType string `json:"runner_type"`
		} `json:"action"`
		Tasks []struct {
			Name, Action string
		} `json:"workflow_tasks"`
	}
	if err := json.Unmarshal([]byte(stdout), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Kind != "action" || shown.Action.Ref != "examples.remediate_disk" || shown.Action.RunnerType != "workflow" || len(shown.Tasks) != 6 {
		t.Errorf("show --json: %+v", shown)
	}

	code, stdout, _ = runBWC(t, "pack", "list", "--json", testPacks)
	if code != 0 {
		t.Fatalf("list --json: exit code %d", code)
	}
	var list struct {
		Packs []struct {
			Ref   string `json:"ref"`
			Rules int    `json:"rules"`
		} `json:"packs"`
		Problems int `json:"problems"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Packs) != 2 || list.Packs[1].Ref != "examples" || list.Packs[1].Rules != 6 || list.Problems != 0 {
		t.Errorf("list --json: %+v", list)
	}
}

// TestPackSampleEventsMatchTheirRules runs `bwc rule test` for each sample
// trigger instance in events/ against the example rule it is named after.
func TestPackSampleEventsMatchTheirRules(t *testing.T) {
	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runBWC(t, "rule", "test", "examples."+name, "--packs", testPacks, "--trigger-instance", f)
			if code != 0 {
				t.Errorf("exit code %d, want 0 (a match)\n%s%s", code, stdout, stderr)
			}
		})
	}
}
