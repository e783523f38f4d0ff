package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const shippedPacks = "../../packs"

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// Every sample event in events/ matches the rule it is named after.
func TestRuleTestSampleEvents(t *testing.T) {
	files, _ := filepath.Glob("../../events/*.json")
	if len(files) == 0 {
		t.Fatal("no sample events")
	}
	for _, f := range files {
		ref := "examples." + strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(ref, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "rule", "test", ref, "--trigger-instance", f, "--packs", shippedPacks)
			if code != 0 || !strings.HasPrefix(out, ref+": MATCH\n") {
				t.Errorf("exit %d\n%s%s", code, out, errOut)
			}
			if strings.Contains(out, "error:") {
				t.Errorf("rendering failed:\n%s", out)
			}
		})
	}
}

func TestRuleTest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := write("other.json", `{"trigger": "core.webhook", "payload": {"body": {"labels": {"alertname": "Other", "severity": "critical"}}}}`)
	wrongURL := write("url.json", `{"trigger": "core.webhook", "trigger_parameters": {"url": "elsewhere"}, "payload": {"body": {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "web-01"}}}}`)
	bad := write("bad.json", `{"trigger": "core.webhook", "payload": `)
	noTrigger := write("notrigger.json", `{"payload": {}}`)
	arrayPayload := write("array.json", `{"trigger": "core.webhook", "payload": [1]}`)
	extraField := write("extra.json", `{"trigger": "core.webhook", "payload": {}, "trigger_type": "x"}`)
	notObject := write("list.json", `[{"trigger": "core.webhook"}]`)
	config := write("config.yaml", "health_url: https://status.example.com/healthz\n")
	tests := []struct {
		name     string
		args     []string
		code     int
		outHas   []string
		errHas   string
		notInOut string
	}{
		{"no match shows the failing criterion", []string{"examples.disk_alert", "--trigger-instance", other}, 1,
			[]string{"examples.disk_alert: NO MATCH", "✗ trigger.body.labels.alertname equals \"DiskFull\"", "✓ trigger.body.labels.severity inside"}, "", "action parameters"},
		{"rule file path", []string{filepath.Join(shippedPacks, "examples", "rules", "disk_alert.yaml"), "--trigger-instance", other}, 1, []string{"NO MATCH"}, "", ""},
		{"another webhook url", []string{"examples.disk_alert", "--trigger-instance", wrongURL}, 1, []string{"✗ trigger parameters differ"}, "", ""},
		{"config overrides defaults", []string{"examples.health_check", "--trigger-instance", "../../events/health_check.json", "--config", config}, 0,
			[]string{`url: "https://status.example.com/healthz"`}, "", ""},
		{"json output", []string{"examples.disk_alert", "--trigger-instance", other, "--json"}, 1, []string{`"matched": false`}, "", ""},
		{"unknown rule", []string{"examples.disk_alrt", "--trigger-instance", other}, 2, nil, `rule examples.disk_alrt does not exist (did you mean "examples.disk_alert"?)`, ""},
		{"bad instance", []string{"examples.disk_alert", "--trigger-instance", bad}, 2, nil, "trigger instance", ""},
		{"payload not an object", []string{"examples.disk_alert", "--trigger-instance", arrayPayload}, 2, nil, "/payload: found an array, expected an object", ""},
		{"unknown field", []string{"examples.disk_alert", "--trigger-instance", extraField}, 2, nil, "/trigger_type: unknown field: expected trigger, payload, trigger_parameters or id", ""},
		{"instance not an object", []string{"examples.disk_alert", "--trigger-instance", notObject}, 2, nil, `found an array, expected {"trigger"`, ""},
		{"instance without trigger", []string{"examples.disk_alert", "--trigger-instance", noTrigger}, 2, nil, `"trigger" is missing`, ""},
		{"missing instance flag", []string{"examples.disk_alert"}, 2, nil, "--trigger-instance is required", ""},
		{"missing packs dir", []string{"examples.disk_alert", "--trigger-instance", other, "--packs", filepath.Join(dir, "nope")}, 2, nil, "reading packs directory", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"rule", "test"}, tt.args...)
			if !containsFlag(tt.args, "--packs") {
				args = append(args, "--packs", shippedPacks)
			}
			code, out, errOut := runCLI(t, "", args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, s := range tt.outHas {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if tt.errHas != "" && !strings.Contains(errOut, tt.errHas) {
				t.Errorf("stderr lacks %q:\n%s", tt.errHas, errOut)
			}
			if tt.notInOut != "" && strings.Contains(out, tt.notInOut) {
				t.Errorf("stdout has %q:\n%s", tt.notInOut, out)
			}
		})
	}
}

func containsFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag {
			return true
		}
	}
	return false
}

func TestRuleExplain(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rule", "explain", "examples.high_load_alert", "--packs", shippedPacks)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{
		"event pattern (EventBridge; decides on the bus):",
		`"detail-type": [`,
		"[residual]    trigger.body.labels.instance regex",
		"residual condition (JSONata; checked by the enforcer):",
		"enforcer: needed",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("explain lacks %q:\n%s", s, out)
		}
	}
	code, out, _ = runCLI(t, "", "rule", "explain", "examples.failed_deployment", "--packs", shippedPacks, "--json")
	var cr struct {
		Ref      string          `json:"ref"`
		Pattern  json.RawMessage `json:"pattern"`
		Residual string          `json:"residual"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &cr) != nil || cr.Ref != "examples.failed_deployment" || cr.Residual != "" || len(cr.Pattern) == 0 {
		t.Errorf("explain --json: exit %d, %+v\n%s", code, cr, out)
	}
}

func TestRuleCompile(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rule", "compile", "--packs", shippedPacks)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var set struct {
		Rules []struct {
			Ref string `json:"ref"`
		} `json:"rules"`
	}
	files, _ := filepath.Glob(filepath.Join(shippedPacks, "*", "rules", "*.yaml"))
	if err := json.Unmarshal([]byte(out), &set); err != nil || len(files) == 0 || len(set.Rules) != len(files) {
		t.Fatalf("rule compile output: %v, %d rules for %d rule files", err, len(set.Rules), len(files))
	}
	_, again, _ := runCLI(t, "", "rule", "compile", "--packs", shippedPacks)
	if again != out {
		t.Error("rule compile is not deterministic")
	}
}

func TestWorkflowCommands(t *testing.T) {
	golden, err := os.ReadFile("../../statemachines/examples.remediate_disk.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "workflow", "compile", "examples.remediate_disk", "--packs", shippedPacks)
	if code != 0 || out != string(golden) {
		t.Errorf("workflow compile: exit %d, output differs from the golden file (%d vs %d bytes)\n%s", code, len(out), len(golden), errOut)
	}
	code, out, errOut = runCLI(t, "", "workflow", "inspect", "examples.remediate_disk", "--packs", shippedPacks)
	if code != 0 || !strings.Contains(out, "check_disk  action examples.disk_usage") || !strings.Contains(out, "states: check_disk, check_disk.next") {
		t.Errorf("workflow inspect: exit %d\n%s%s", code, out, errOut)
	}

	dir := t.TempDir()
	wf := filepath.Join(dir, "wf.yaml")
	if err := os.WriteFile(wf, []byte("version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: b\n  b:\n    action: core.echo\n    input:\n      message: hi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "", "workflow", "compile", wf, "--packs", shippedPacks)
	if code != 0 || !strings.Contains(out, `"QueryLanguage": "JSONata"`) || !strings.Contains(out, "BWC workflow local.wf") {
		t.Errorf("workflow compile of a file: exit %d\n%s%s", code, out, errOut)
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("version: 1.0\ntasks:\n  a:\n    action: core.nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "", "workflow", "compile", broken, "--packs", shippedPacks)
	if code != 1 || !strings.Contains(errOut, broken+":3:3: task a: action \"core.nope\" does not exist") {
		t.Errorf("broken workflow: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "workflow", "inspect", "examples.remediate_dsk", "--packs", shippedPacks)
	if code != 2 || !strings.Contains(errOut, `did you mean "examples.remediate_disk"`) {
		t.Errorf("unknown workflow: exit %d\n%s", code, errOut)
	}
}

// pack validate reports what the rule and workflow compilers find, with
// file:line:col, in files the loader accepts.
func TestPackValidateCompileErrors(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"ops/pack.yaml": "ref: ops\nname: ops\nversion: 1.0.0\ndescription: test\nauthor: bwc\n",
		"ops/rules/bad.yaml": `name: bad
pack: ops
enabled: true
trigger:
  type: core.webhook
  parameters:
    url: x
criteria:
  trigger.body.x:
    type: regex
    pattern: "(unclosed"
action:
  ref: core.echo
  parameters:
    message: "{{ trigger.body.x | upper }}"
`,
		"ops/actions/wf.yaml":           "name: wf\nrunner_type: workflow\nentry_point: workflows/wf.yaml\n",
		"ops/actions/workflows/wf.yaml": "version: 1.0\ntasks:\n  a:\n    action: core.noop\n    next:\n      - do: [b, c]\n  b:\n    action: core.noop\n  c:\n    action: core.noop\n    next:\n      - do: a\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runCLI(t, "", "pack", "validate", filepath.Join(shippedPacks, "core"), dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		filepath.ToSlash(dir) + `/ops/rules/bad.yaml:9:3: rule ops.bad: criteria.trigger.body.x: invalid regular expression "(unclosed"`,
		`filters (Jinja) are not supported; write JSONata instead: "{% $uppercase($trigger.body.x) %}"`,
		filepath.ToSlash(dir) + "/ops/actions/workflows/wf.yaml:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
}
