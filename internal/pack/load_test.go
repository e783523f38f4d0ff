package pack

import (
	"strings"
	"testing"
	"testing/fstest"
)

// base is a small valid pack that the diagnostic tests break one file at a
// time.
func base() fstest.MapFS {
	return fstest.MapFS{
		"t/pack.yaml": {Data: []byte(`name: t
description: test pack
version: 1.0.0
author: tester
`)},
		"t/sensors/s.yaml": {Data: []byte(`class_name: s
trigger_types:
  - name: alert
    parameters_schema:
      type: object
      properties:
        url: {type: string}
      additionalProperties: false
    payload_schema:
      type: object
      properties:
        host: {type: string}
`)},
		"t/actions/run.yaml": {Data: []byte(`name: run
runner_type: local-shell-cmd
parameters:
  cmd:
    required: true
  level:
    type: integer
    default: 1
`)},
		"t/actions/script.yaml": {Data: []byte(`name: script
runner_type: local-shell-script
entry_point: script.sh
`)},
		"t/actions/script.sh": {Data: []byte("#!/bin/sh\necho hi\n"), Mode: 0o755},
		"t/actions/fetch.yaml": {Data: []byte(`name: fetch
runner_type: http-request
parameters:
  url:
    required: true
`)},
		"t/actions/flow.yaml": {Data: []byte(`name: flow
runner_type: workflow
entry_point: workflows/flow.yaml
parameters:
  host:
    type: string
    required: true
`)},
		"t/actions/workflows/flow.yaml": {Data: []byte(`version: 1.0
input:
  - host
tasks:
  one:
    action: t.run
    input:
      cmd: "{% 'echo ' & $host %}"
`)},
		"t/rules/r.yaml": {Data: []byte(`name: r
enabled: true
trigger:
  type: t.alert
  parameters:
    url: a
criteria:
  trigger.host:
    type: equals
    pattern: web
action:
  ref: t.run
  parameters:
    cmd: "echo {{ trigger.host }}"
`)},
		"t/policies/p.yaml": {Data: []byte(`name: p
resource_ref: t.run
policy_type: action.concurrency
parameters:
  threshold: 1
  action: delay
`)},
		"t/config.schema.yaml": {Data: []byte(`api_url:
  type: string
  default: http://localhost
`)},
	}
}

func TestLoadBase(t *testing.T) {
	set, diags := Load(base(), "packs")
	if len(diags) != 0 {
		t.Fatalf("unexpected diagnostics:\n%v", diags)
	}
	p := set.Pack("t")
	if p == nil {
		t.Fatal("pack t not loaded")
	}
	if len(p.Actions) != 4 || len(p.Rules) != 1 || len(p.Sensors) != 1 || len(p.TriggerTypes) != 1 || len(p.Policies) != 1 || len(p.Config) != 1 {
		t.Fatalf("counts: %d actions, %d rules, %d sensors, %d trigger types, %d policies, %d config", len(p.Actions), len(p.Rules), len(p.Sensors), len(p.TriggerTypes), len(p.Policies), len(p.Config))
	}
	r := set.Rule("t.r")
	if r == nil || !r.Enabled || r.Trigger.Type != "t.alert" || r.Action.Ref != "t.run" || len(r.Criteria) != 1 {
		t.Fatalf("rule: %+v", r)
	}
	if got := r.Pos.String(); got != "packs/t/rules/r.yaml:1:1" {
		t.Errorf("rule pos %s", got)
	}
	if c := r.Criteria[0]; c.Key != "trigger.host" || c.Type != "equals" || c.Pattern != "web" || c.Pos.String() != "packs/t/rules/r.yaml:8:3" {
		t.Errorf("criterion %+v at %s", c, c.Pos)
	}
	if got := r.Action.Pos.String(); got != "packs/t/rules/r.yaml:11:1" {
		t.Errorf("action pos %s", got)
	}
	if got := r.Trigger.Pos.String(); got != "packs/t/rules/r.yaml:3:1" {
		t.Errorf("trigger pos %s", got)
	}
	a := set.Action("t.flow")
	if a == nil || a.Workflow == nil || a.EntryPointPath != "packs/t/actions/workflows/flow.yaml" {
		t.Fatalf("workflow action: %+v", a)
	}
	run := set.Action("t.run")
	if cmd := run.Param("cmd"); cmd == nil || cmd.Runner != RunnerLocalShellCmd || !cmd.Required || cmd.Type != "string" {
		t.Errorf("cmd parameter merged with the runner's: %+v", cmd)
	}
	if to := run.Param("timeout"); to == nil || to.Default != float64(60) {
		t.Errorf("runner parameter timeout: %+v", to)
	}
	if tt := set.TriggerType("t.alert"); tt == nil || tt.PayloadSchema["type"] != "object" || tt.Sensor != "t.s" {
		t.Errorf("trigger type: %+v", tt)
	}
}

// TestDiagnostics breaks the base pack one way at a time and checks that
// the diagnostic names the file, line, column and field, and says what is
// wrong.
func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name  string
		file  string // file to replace ("" = none)
		data  string // its new content ("-" deletes it)
		extra map[string]string
		want  []string // each must appear among the diagnostics
	}{
		{"YAML syntax", "t/rules/r.yaml", "name: r\ntrigger: a\n  type: b\n", nil,
			[]string{"t/rules/r.yaml:3:1: invalid YAML: mapping values are not allowed in this context"}},
		{"not a mapping", "t/rules/r.yaml", "- a\n- b\n", nil,
			[]string{"t/rules/r.yaml:1:1: found a list, expected a mapping with name, trigger, criteria and action"}},
		{"empty file", "t/actions/run.yaml", "", nil,
			[]string{"t/actions/run.yaml:1:1: empty file: expected a mapping with name, runner_type, parameters..."}},
		{"unknown field with suggestion", "t/actions/run.yaml", "name: run\nrunner_typ: local-shell-cmd\n", nil,
			[]string{`t/actions/run.yaml:2:1: runner_typ: unknown field (did you mean "runner_type"?)`, "t/actions/run.yaml:1:1: runner_type: missing"}},
		{"duplicate key", "t/actions/script.yaml", "name: script\nname: other\nrunner_type: local-shell-script\nentry_point: script.sh\n", nil,
			[]string{"t/actions/script.yaml:2:1: name: defined twice (first at line 1)"}},
		{"missing required field", "t/rules/r.yaml", "name: r\naction:\n  ref: t.run\n  parameters: {cmd: x}\n", nil,
			[]string{"t/rules/r.yaml:1:1: trigger: missing"}},
		{"wrong type", "t/rules/r.yaml", "name: r\nenabled: yes please\ntrigger: {type: t.alert}\naction: {ref: t.run, parameters: {cmd: x}}\n", nil,
			[]string{`t/rules/r.yaml:2:10: enabled: found a string ("yes please"), expected true or false`}},
		{"invalid ref", "t/rules/r.yaml", "name: r\ntrigger: {type: t.alert}\naction: {ref: run, parameters: {cmd: x}}\n", nil,
			[]string{`t/rules/r.yaml:3:15: action.ref: found "run", expected an action reference <pack>.<name>`}},
		{"rule action does not exist", "t/rules/r.yaml", "name: r\ntrigger: {type: t.alert}\naction: {ref: t.rum, parameters: {cmd: x}}\n", nil,
			[]string{`t/rules/r.yaml:3:15: action.ref: action t.rum does not exist (did you mean "t.run"?)`}},
		{"rule trigger type does not exist", "t/rules/r.yaml", "name: r\ntrigger: {type: t.alrt}\naction: {ref: t.run, parameters: {cmd: x}}\n", nil,
			[]string{`t/rules/r.yaml:2:17: trigger.type: trigger type t.alrt does not exist (did you mean "t.alert"?)`}},
		{"trigger parameters against the schema", "t/rules/r.yaml", "name: r\ntrigger:\n  type: t.alert\n  parameters:\n    url: 5\naction: {ref: t.run, parameters: {cmd: x}}\n", nil,
			[]string{"t/rules/r.yaml:5:10: trigger.parameters.url: got number, want string (parameters_schema of t.alert)"}},
		{"unknown criteria operator", "t/rules/r.yaml", "name: r\ntrigger: {type: t.alert}\ncriteria:\n  trigger.host:\n    type: equal\n    pattern: web\naction: {ref: t.run, parameters: {cmd: x}}\n", nil,
			[]string{`t/rules/r.yaml:5:11: criteria.trigger.host.type: unknown operator "equal" (did you mean "equals"?)`}},
		{"criteria key outside the payload", "t/rules/r.yaml", "name: r\ntrigger: {type: t.alert}\ncriteria:\n  payload.host:\n    type: eq\n    pattern: web\naction: {ref: t.run, parameters: {cmd: x}}\n", nil,
			[]string{`t/rules/r.yaml:4:3: criteria.payload.host: found the key "payload.host", expected a key into the payload starting with trigger.`}},
		{"criteria pattern missing", "t/rules/r.yaml", "name: r\ntrigger: {type: t.alert}\ncriteria:\n  trigger.host:\n    type: contains\naction: {ref: t.run, parameters: {cmd: x}}\n", nil,
			[]string{"t/rules/r.yaml:5:5: criteria.trigger.host.pattern: missing: operator contains needs a pattern"}},
		{"search needs a condition and item keys", "t/rules/r.yaml", "name: r\ntrigger: {type: t.alert}\ncriteria:\n  trigger.items:\n    type: search\n    pattern:\n      name:\n        type: equals\n        pattern: x\naction: {ref: t.run, parameters: {cmd: x}}\n", nil,
			[]string{"t/rules/r.yaml:5:5: criteria.trigger.items.condition: missing: search needs a condition", `t/rules/r.yaml:7:7: criteria.trigger.items.pattern.name: found the key "name", expected a key into each list item starting with item.`}},
		{"unknown rule action parameter", "t/rules/r.yaml", "name: r\ntrigger: {type: t.alert}\naction:\n  ref: t.run\n  parameters:\n    cmd: x\n    levl: 2\n", nil,
			[]string{`t/rules/r.yaml:7:5: action.parameters.levl: action t.run has no parameter "levl" (did you mean "level"?)`}},
		{"missing required action parameter", "t/rules/r.yaml", "name: r\ntrigger: {type: t.alert}\naction:\n  ref: t.run\n", nil,
			[]string{"t/rules/r.yaml:3:1: action.parameters: missing required parameter cmd of t.run (it has no default)"}},
		{"literal parameter value of the wrong type", "t/rules/r.yaml", "name: r\ntrigger: {type: t.alert}\naction:\n  ref: t.run\n  parameters:\n    cmd: x\n    level: high\n", nil,
			[]string{`t/rules/r.yaml:7:5: action.parameters.level: the value "high" does not satisfy parameter level of t.run: got string, want integer`}},
		{"immutable parameter set by a rule", "t/actions/run.yaml", "name: run\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    default: uptime\n    immutable: true\n", nil,
			[]string{"t/rules/r.yaml:14:5: action.parameters.cmd: parameter cmd of t.run is immutable (its value is fixed by the action)", "t/actions/workflows/flow.yaml:8:7: tasks.one.input.cmd: parameter cmd of t.run is immutable"}},
		{"unsupported st2 runner", "t/actions/script.yaml", "name: script\nrunner_type: python-script\nentry_point: script.py\n", nil,
			[]string{"t/actions/script.yaml:2:14: runner_type: action t.script: python-script is not supported by BWC"}},
		{"orquesta runner", "t/actions/script.yaml", "name: script\nrunner_type: orquesta\nentry_point: workflows/flow.yaml\n", nil,
			[]string{"t/actions/script.yaml:2:14: runner_type: action t.script: orquesta workflows are not supported by BWC: use runner_type workflow"}},
		{"unknown runner", "t/actions/script.yaml", "name: script\nrunner_type: local-shell-scrip\nentry_point: script.sh\n", nil,
			[]string{`t/actions/script.yaml:2:14: runner_type: unknown runner type "local-shell-scrip" (did you mean "local-shell-script"?)`}},
		{"missing entry point file", "t/actions/script.yaml", "name: script\nrunner_type: local-shell-script\nentry_point: scrpt.sh\n", nil,
			[]string{`t/actions/script.yaml:3:14: entry_point: found "scrpt.sh", but packs/t/actions/scrpt.sh does not exist`}},
		{"entry point missing for a script runner", "t/actions/script.yaml", "name: script\nrunner_type: local-shell-script\n", nil,
			[]string{"t/actions/script.yaml:1:1: entry_point: missing: runner local-shell-script needs an entry point"}},
		{"entry point outside the pack", "t/actions/script.yaml", "name: script\nrunner_type: local-shell-script\nentry_point: ../../x.sh\n", nil,
			[]string{`t/actions/script.yaml:3:14: entry_point: found "../../x.sh", which is outside the pack`}},
		{"parameter schema not JSON Schema", "t/actions/run.yaml", "name: run\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    required: true\n  level:\n    type: integr\n", nil,
			[]string{"t/actions/run.yaml:7:11: parameters.level.type: is not valid JSON Schema"}},
		{"default does not satisfy its schema", "t/actions/run.yaml", "name: run\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    required: true\n  level:\n    type: integer\n    minimum: 1\n    default: 0\n", nil,
			[]string{"t/actions/run.yaml:9:14: parameters.level.default: the default 0 does not satisfy the parameter's own schema: minimum: got 0, want 1"}},
		{"unknown parameter keyword", "t/actions/run.yaml", "name: run\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    requird: true\n", nil,
			[]string{`t/actions/run.yaml:5:5: parameters.cmd.requird: unknown field (did you mean "required"?)`}},
		{"overriding an immutable runner parameter", "t/actions/fetch.yaml", "name: fetch\nrunner_type: http-request\nparameters:\n  url:\n    required: true\n  url_hosts_whitelist:\n    default: [example.com]\n", nil,
			[]string{"t/actions/fetch.yaml:7:5: parameters.url_hosts_whitelist.default: runner parameter url_hosts_whitelist of http-request is immutable: an action cannot override it"}},
		{"overriding a runner parameter's type", "t/actions/run.yaml", "name: run\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    type: integer\n    required: true\n", nil,
			[]string{`t/actions/run.yaml:5:5: parameters.cmd.type: found type: "integer", but runner parameter cmd of local-shell-cmd has type: "string"`}},
		{"positions", "t/actions/run.yaml", "name: run\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    required: true\n  a:\n    type: string\n    position: 0\n  b:\n    type: string\n    position: 0\n  c:\n    type: string\n    position: 2\n", nil,
			[]string{"t/actions/run.yaml:11:15: parameters.b.position: position 0 is also the position of a", "t/actions/run.yaml:14:15: parameters.c.position: found position 2, expected 1"}},
		{"duplicate action name", "", "", map[string]string{"t/actions/run2.yaml": "name: run\nrunner_type: noop\n"},
			[]string{"t/actions/run2.yaml:1:1: name: action t.run is defined twice: first at packs/t/actions/run.yaml:1:1"}},
		{"duplicate pack ref", "", "", map[string]string{"u/pack.yaml": "ref: t\nname: u\ndescription: d\nversion: 1.0.0\nauthor: a\n"},
			[]string{"u/pack.yaml:1:1: ref: pack t is defined twice: first in packs/t, again in packs/u", `u/pack.yaml:1:6: ref: the pack's ref is "t" but its directory is "u"`}},
		{"workflow errors", "t/actions/workflows/flow.yaml", "version: 2\ninput: [host]\ntasks:\n  one:\n    action: t.run\n    inptu: {}\n", nil,
			[]string{`t/actions/workflows/flow.yaml:1:10: version: found "2", expected 1.0`, `t/actions/workflows/flow.yaml:6:5: tasks.one: unknown field "inptu" (did you mean "input"?)`}},
		{"workflow task action does not exist", "t/actions/workflows/flow.yaml", "version: 1.0\ninput: [host]\ntasks:\n  one:\n    action: t.rnu\n    input: {cmd: x}\n", nil,
			[]string{`t/actions/workflows/flow.yaml:5:13: tasks.one.action: action t.rnu does not exist (did you mean "t.run"?)`}},
		{"workflow task input", "t/actions/workflows/flow.yaml", "version: 1.0\ninput: [host]\ntasks:\n  one:\n    action: t.run\n    input: {level: 2}\n", nil,
			[]string{"t/actions/workflows/flow.yaml:4:3: tasks.one.input: missing required parameter cmd of t.run"}},
		{"workflow input without a parameter", "t/actions/workflows/flow.yaml", "version: 1.0\ninput: [host, region]\ntasks:\n  one:\n    action: t.run\n    input: {cmd: x}\n", nil,
			[]string{"t/actions/workflows/flow.yaml:2:15: input.region: input region has no default and action t.flow declares no parameter region"}},
		{"sensor trigger type schema", "t/sensors/s.yaml", "class_name: s\ntrigger_types:\n  - name: alert\n    payload_schema:\n      type: object\n      properties:\n        host: {type: strin}\n", nil,
			[]string{"t/sensors/s.yaml:7:22: trigger_types[0].payload_schema.properties.host.type: is not valid JSON Schema: value must be one of 'array', 'boolean'"}},
		{"python sensor", "t/sensors/s.yaml", "class_name: s\nentry_point: s.py\ntrigger_types:\n  - name: alert\n", nil,
			[]string{`t/sensors/s.yaml:2:14: entry_point: found the Python sensor "s.py": Python sensors are not supported by BWC`}},
		{"policy", "t/policies/p.yaml", "name: p\nresource_ref: t.nope\npolicy_type: action.concurency\n", nil,
			[]string{`t/policies/p.yaml:1:1: resource_ref: action t.nope does not exist`, `t/policies/p.yaml:3:14: policy_type: unknown policy type "action.concurency" (did you mean "action.concurrency"?)`}},
		{"policy parameters", "t/policies/p.yaml", "name: p\nresource_ref: t.run\npolicy_type: action.retry\nparameters:\n  retry_on: failure\n  max_retry_count: -1\n", nil,
			[]string{"t/policies/p.yaml:6:20: parameters.max_retry_count: minimum: got -1, want 0 (policy type action.retry)"}},
		{"config schema", "t/config.schema.yaml", "api_url:\n  type: string\n  default: 5\n", nil,
			[]string{"t/config.schema.yaml:3:12: api_url.default: the default 5 does not satisfy the parameter's own schema: got number, want string"}},
		{"pack.yaml", "t/pack.yaml", "name: T Pack\nversion: one\nauthor: a\ndependencies: [nope]\n", nil,
			[]string{`t/pack.yaml:1:1: description: missing`, `t/pack.yaml:1:7: name: "T Pack" is not a valid pack ref`, `t/pack.yaml:2:10: version: found "one", expected a semantic version`, `t/pack.yaml:4:16: dependencies: pack "nope" is not among the loaded packs`}},
		{"second YAML document", "t/policies/p.yaml", "name: p\nresource_ref: t.run\npolicy_type: action.concurrency\nparameters: {threshold: 1}\n---\nname: q\n", nil,
			[]string{"t/policies/p.yaml:5:1: a second YAML document (after ---): expected one document per file"}},
		{"entry point on a runner that takes none", "t/actions/fetch.yaml", "name: fetch\nrunner_type: http-request\nentry_point: fetch.py\nparameters:\n  url: {required: true}\n", nil,
			[]string{`t/actions/fetch.yaml:3:14: entry_point: found "fetch.py", but runner http-request takes no entry point: expected none`}},
		{"go entry point that is not Go", "t/actions/script.yaml", "name: script\nrunner_type: go\nentry_point: script.sh\n", nil,
			[]string{"t/actions/script.yaml:3:14: entry_point: found packs/t/actions/script.sh, expected a Go file (main.go) or its directory"}},
		{"workflow entry point is a directory", "t/actions/flow.yaml", "name: flow\nrunner_type: workflow\nentry_point: workflows\n", nil,
			[]string{"t/actions/flow.yaml:3:14: entry_point: found the directory packs/t/actions/workflows, expected a workflow definition file"}},
		{"tags, notify and output schema", "t/actions/script.yaml", "name: script\nrunner_type: local-shell-script\nentry_point: script.sh\ntags: [x]\nnotify:\n  on-complet: {}\noutput_schema:\n  type: objekt\n", nil,
			[]string{"t/actions/script.yaml:4:8: tags[0]: found a string (\"x\"), expected {name, value}", `t/actions/script.yaml:6:3: notify.on-complet: unknown field (did you mean "on-complete"?)`, "t/actions/script.yaml:8:9: output_schema.type: is not valid JSON Schema"}},
		{"sensor fields", "t/sensors/s.yaml", "class_name: s\npoll_interval: 0\ntrigger_types:\n  - description: no name\n  - name: alert\n    payload_schema: [1]\n", nil,
			[]string{"t/sensors/s.yaml:2:16: poll_interval: found 0, expected seconds (1 or more)", "t/sensors/s.yaml:4:5: trigger_types[0].name: missing", "t/sensors/s.yaml:6:21: trigger_types[1].payload_schema: found a list, expected a mapping"}},
		{"duplicate trigger type", "", "", map[string]string{"t/sensors/s2.yaml": "class_name: s2\ntrigger_types:\n  - name: alert\n"},
			[]string{"t/sensors/s2.yaml:3:5: name: trigger type t.alert is defined twice: first at packs/t/sensors/s.yaml:3:5"}},
		{"rule type and criteria details", "t/rules/r.yaml", "name: r\ntype: {ref: backstop}\ntrigger: {type: t.alert}\ncriteria:\n  trigger.host:\n    pattern: web\n  trigger.x:\n    type: equals\n    pattern: 1\n    condition: any\n  trigger.items:\n    type: search\n    condition: each\n    pattern:\n      item.name: {type: equalz, pattern: a}\naction: {ref: t.run, parameters: {cmd: x}}\n", nil,
			[]string{"t/rules/r.yaml:2:13: type.ref: backstop rules are not supported by BWC", "t/rules/r.yaml:6:5: criteria.trigger.host.type: missing", "t/rules/r.yaml:10:16: criteria.trigger.x.condition: found a condition on operator equals", `t/rules/r.yaml:13:16: criteria.trigger.items.condition: found "each", expected any, all, any2any or all2any`, `t/rules/r.yaml:15:25: criteria.trigger.items.pattern.item.name.type: unknown operator "equalz" (did you mean "equals"?)`}},
		{"trigger parameters on a trigger type without a schema", "t/sensors/s.yaml", "class_name: s\ntrigger_types:\n  - name: alert\n", nil,
			[]string{"t/rules/r.yaml:6:5: trigger.parameters: trigger type t.alert takes no parameters: expected none"}},
		{"workflow action parameter that is not an input", "t/actions/flow.yaml", "name: flow\nrunner_type: workflow\nentry_point: workflows/flow.yaml\nparameters:\n  host: {type: string, required: true}\n  region: {type: string}\n", nil,
			[]string{"t/actions/flow.yaml:6:3: parameters.region: parameter region is not an input of the workflow packs/t/actions/workflows/flow.yaml"}},
		{"broken pack.yaml still loads the pack", "t/pack.yaml", "name: [t\n", map[string]string{"t/rules/r2.yaml": "name: r2\ntrigger: {type: t.alert}\naction: {ref: t.nope}\n"},
			[]string{"t/pack.yaml:1:1: invalid YAML", `t/rules/r2.yaml:3:15: action.ref: action t.nope does not exist`}},
		{"not a pack", "", "", map[string]string{"stray/README.md": "x"},
			[]string{"packs/stray: not a pack: found no pack.yaml"}},
		{"pack field mismatch", "t/actions/script.yaml", "name: script\npack: other\nrunner_type: local-shell-script\nentry_point: script.sh\n", nil,
			[]string{`t/actions/script.yaml:2:7: pack: found "other", expected "t"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := base()
			if tc.file != "" {
				if tc.data == "-" {
					delete(fsys, tc.file)
				} else {
					fsys[tc.file] = &fstest.MapFile{Data: []byte(tc.data)}
				}
			}
			for name, data := range tc.extra {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			_, diags := Load(fsys, "packs")
			got := diags.Error()
			for _, w := range tc.want {
				if !strings.Contains(got, "packs/"+w) && !strings.Contains(got, w) {
					t.Errorf("missing diagnostic\n  %s\ngot:\n%s", w, got)
				}
			}
		})
	}
}

// TestLoadSinglePack loads a directory that is itself a pack, with no
// prefix: positions are paths inside the fs.FS.
func TestLoadSinglePack(t *testing.T) {
	sub := fstest.MapFS{}
	for name, f := range base() {
		if rest, ok := strings.CutPrefix(name, "t/"); ok {
			sub[rest] = f
		}
	}
	set, diags := Load(sub, "")
	if len(diags) != 0 {
		t.Fatalf("unexpected diagnostics:\n%v", diags)
	}
	p := set.Pack("t")
	if p == nil || p.Dir != "." {
		t.Fatalf("pack: %+v", p)
	}
	if got := set.Rule("t.r").Pos.String(); got != "rules/r.yaml:1:1" {
		t.Errorf("rule position %s, want rules/r.yaml:1:1", got)
	}
}

// TestDefaults checks st2's defaults: actions and sensors are enabled unless
// they say otherwise, rules are disabled unless they say enabled: true.
func TestDefaults(t *testing.T) {
	fsys := base()
	fsys["t/rules/r.yaml"] = &fstest.MapFile{Data: []byte("name: r\ntrigger: {type: t.alert}\naction: {ref: t.run, parameters: {cmd: x}}\n")}
	set, diags := Load(fsys, "")
	if len(diags) != 0 {
		t.Fatalf("unexpected diagnostics:\n%v", diags)
	}
	if set.Rule("t.r").Enabled {
		t.Error("a rule without enabled is enabled")
	}
	if !set.Action("t.run").Enabled || !set.Sensor("t.s").Enabled {
		t.Error("an action or sensor without enabled is disabled")
	}
}

// TestEmptyRoot reports a packs directory without packs.
func TestEmptyRoot(t *testing.T) {
	_, diags := Load(fstest.MapFS{"README.md": {Data: []byte("x")}}, "packs")
	if got := diags.Error(); got != "packs: no packs: expected a pack.yaml here, or directories holding one" {
		t.Errorf("got %q", got)
	}
}

// TestST2TriggerNames reads st2's names of the built-in trigger types as
// BWC's.
func TestST2TriggerNames(t *testing.T) {
	fsys := base()
	fsys["t/sensors/core.yaml"] = &fstest.MapFile{Data: []byte("class_name: c\ntrigger_types:\n  - name: webhook\n")}
	fsys["t/rules/r.yaml"] = &fstest.MapFile{Data: []byte("name: r\ntrigger: {type: core.st2.generic.actiontrigger}\naction: {ref: t.run, parameters: {cmd: x}}\n")}
	set, diags := Load(fsys, "")
	if got := set.Rule("t.r").Trigger.Type; got != "core.actiontrigger" {
		t.Errorf("trigger type %q, want core.actiontrigger", got)
	}
	if !strings.Contains(diags.Error(), "trigger type core.actiontrigger does not exist") {
		t.Errorf("diagnostics:\n%v", diags)
	}
}
