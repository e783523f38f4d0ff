package stack_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bwc-project/bwc/infra/stack"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/sensor/timer"
)

// packDirs are the packs the tests build the stack from: the repository's
// packs and testdata/packs/infratest (a direct rule on an action and on a
// workflow, a cron timer in a time zone, a date timer).
var packDirs = []string{"../../packs", "testdata/packs"}

func loadPlan(t *testing.T) (*content.Compiled, *stack.Plan) {
	t.Helper()
	c, err := stack.Load(packDirs...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := stack.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

func TestBuildRules(t *testing.T) {
	c, p := loadPlan(t)
	plans := map[string]stack.RulePlan{}
	for _, r := range p.Rules {
		plans[r.Ref] = r
	}
	if len(plans) != len(c.Rules.Rules) {
		t.Fatalf("plan has %d rules, compiled set %d", len(plans), len(c.Rules.Rules))
	}
	tests := []struct {
		ref, target, machine string
		paths                map[string]string
		template             string
	}{
		{ref: "examples.disk_alert", target: stack.TargetEnforcer, machine: "examples.remediate_disk"},     // residual
		{ref: "examples.failed_deployment", target: stack.TargetEnforcer, machine: stack.ActionMachineRef}, // $string(...) interpolation
		{ref: "examples.health_check", target: stack.TargetEnforcer, machine: stack.ActionMachineRef},      // $config
		{ref: "examples.high_load_alert", target: stack.TargetEnforcer, machine: stack.ActionMachineRef},   // regex residual
		{
			ref: "infratest.direct_echo", target: stack.TargetDirect, machine: stack.ActionMachineRef,
			paths: map[string]string{"p0": "$.detail.payload.body.text", "trigger_instance_id": "$.detail.trigger_instance_id", "trace_tag": "$.detail.trace_tag"},
			template: `{"action":"core.echo","parameters":{"message":<p0>},` +
				`"context":{"rule":"infratest.direct_echo","trigger_instance_id":<trigger_instance_id>,"trace_tag":<trace_tag>}}`,
		},
		{
			ref: "infratest.direct_workflow", target: stack.TargetDirect, machine: "infratest.greet",
			paths: map[string]string{"p0": "$.detail.payload.body.name"}, template: `{"times":2,"who":<p0>}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			r, ok := plans[tt.ref]
			if !ok {
				t.Fatalf("no plan for rule %s", tt.ref)
			}
			compiled, _ := c.Rules.Get(tt.ref)
			if want := compiled.NeedsEnforcer(); want && r.Target != stack.TargetEnforcer {
				t.Errorf("rule needs the enforcer but is planned %s", r.Target)
			}
			if r.Target != tt.target || r.Machine != tt.machine {
				t.Errorf("target %s machine %s (%s), want %s %s", r.Target, r.Machine, r.Reason, tt.target, tt.machine)
			}
			if r.Reason == "" {
				t.Error("no reason recorded")
			}
			if !reflect.DeepEqual(r.InputPaths, tt.paths) && (len(r.InputPaths) > 0 || len(tt.paths) > 0) {
				t.Errorf("input paths %v, want %v", r.InputPaths, tt.paths)
			}
			if r.InputTemplate != tt.template {
				t.Errorf("input template\n %s\nwant\n %s", r.InputTemplate, tt.template)
			}
		})
	}
}

func TestBuildDirectInput(t *testing.T) {
	tests := []struct {
		name     string
		params   map[string]any
		template string // "" when the rule goes to the enforcer
	}{
		{"constants", map[string]any{"n": 1.5, "s": "x", "l": []any{true, nil}}, `{"l":[true,null],"n":1.5,"s":"x"}`},
		{"event path", map[string]any{"id": "{% $event.id %}"}, `{"id":<p0>}`},
		{"nested payload path", map[string]any{"a": map[string]any{"b": "{%$trigger.x.y_z%}"}}, `{"a":{"b":<p0>}}`},
		{"function call", map[string]any{"n": "{% $number($trigger.x) %}"}, ""},
		{"interpolation", map[string]any{"m": "{% 'a' & $trigger.x %}"}, ""},
		{"array step", map[string]any{"m": "{% $trigger.x[0] %}"}, ""},
		{"angle bracket constant", map[string]any{"m": "<b>"}, `{"m":"\u003cb\u003e"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &rule.Compiled{Ref: "p.r", Pattern: json.RawMessage(`{}`), Action: rule.ActionPlan{Ref: "p.wf", Parameters: tt.params}}
			c := &content.Compiled{Rules: &rule.Set{Rules: []*rule.Compiled{r}}}
			p, err := stack.Build(c)
			if err != nil {
				t.Fatal(err)
			}
			got := p.Rules[0]
			if tt.template == "" {
				if got.Target != stack.TargetEnforcer {
					t.Errorf("planned %s with %s, want the enforcer", got.Target, got.InputTemplate)
				}
				return
			}
			if got.Target != stack.TargetDirect {
				t.Fatalf("planned %s (%s), want direct", got.Target, got.Reason)
			}
			// not a workflow here, so the parameters sit in the action machine's input
			want := `{"action":"p.wf","parameters":` + tt.template + `,"context":{"rule":"p.r","trigger_instance_id":<trigger_instance_id>,"trace_tag":<trace_tag>}}`
			if got.InputTemplate != want {
				t.Errorf("template\n %s\nwant\n %s", got.InputTemplate, want)
			}
		})
	}
}

func TestBuildTimersAndWebhooks(t *testing.T) {
	_, p := loadPlan(t)
	want := map[string]stack.TimerPlan{
		"examples.health_check":  {Expression: "rate(1 minute)"},
		"infratest.weekday_cron": {Expression: "cron(30 9 ? * MON-FRI *)", Timezone: "Europe/Paris"},
		"infratest.new_year":     {Expression: "at(2030-01-01T00:00:00)", Timezone: "America/New_York"},
	}
	if len(p.Timers) != len(want) {
		t.Errorf("%d timers, want %d: %+v", len(p.Timers), len(want), p.Timers)
	}
	for _, tp := range p.Timers {
		w, ok := want[tp.Rule]
		if !ok {
			t.Errorf("unexpected timer %s", tp.Rule)
			continue
		}
		if tp.Expression != w.Expression || tp.Timezone != w.Timezone {
			t.Errorf("timer %s: %s %q, want %s %q", tp.Rule, tp.Expression, tp.Timezone, w.Expression, w.Timezone)
		}
	}
	if w := []string{"infratest/echo", "infratest/greet", "monitoring/alert"}; !reflect.DeepEqual(p.Webhooks, w) {
		t.Errorf("webhooks %v, want %v", p.Webhooks, w)
	}
}

func TestBuildRefusesInexpressibleTimer(t *testing.T) {
	r := &rule.Compiled{
		Ref: "p.every_second", Pattern: json.RawMessage(`{}`),
		Trigger: rule.Trigger{Type: "core.IntervalTimer", Parameters: map[string]any{"unit": "seconds", "delta": 30}},
		Action:  rule.ActionPlan{Ref: "core.noop"},
	}
	_, err := stack.Build(&content.Compiled{Rules: &rule.Set{Rules: []*rule.Compiled{r}}})
	if !errors.Is(err, timer.ErrNotExpressible) {
		t.Fatalf("err %v, want ErrNotExpressible", err)
	}
}

func TestBuildPollers(t *testing.T) {
	_, p := loadPlan(t)
	want := []stack.PollerPlan{{Sensor: "infratest.Probe", Pack: "infratest", PollSeconds: 300, Expression: "rate(5 minutes)"}}
	if !reflect.DeepEqual(p.Pollers, want) {
		t.Errorf("pollers %+v, want %+v", p.Pollers, want)
	}
}

func TestBuildRefusesInexpressiblePoller(t *testing.T) {
	fsys := fstest.MapFS{
		"p/pack.yaml": {Data: []byte("ref: p\nname: p\ndescription: d\nversion: 1.0.0\nauthor: a\n")},
		"p/sensors/fast.yaml": {Data: []byte("class_name: Fast\nentry_point: fast/main.go\npoll_interval: 30\n" +
			"trigger_types:\n  - name: tick\n    payload_schema: {type: object}\n")},
		"p/sensors/fast/main.go": {Data: []byte("package main\n\nfunc main() {}\n")},
	}
	set, diags := pack.Load(fsys, "packs")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	c, diags := content.Compile(set)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	_, err := stack.Build(c)
	if !errors.Is(err, timer.ErrNotExpressible) || !strings.Contains(err.Error(), "p.Fast") {
		t.Fatalf("err %v, want ErrNotExpressible naming p.Fast", err)
	}
}

// An enabled asl action becomes a machine of its own, its definition the
// file as it is; a substitution the stack cannot fill is refused at synth,
// naming the action and the substitution.
func TestBuildHandWrittenMachines(t *testing.T) {
	const task = `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"%s","Payload":{}},"End":true}}}`
	tests := []struct {
		name         string
		def          string
		wantErr      []string // what the error says; none for success
		wantRuns     bool
		wantChildren []string
	}{
		{name: "runner", def: fmt.Sprintf(task, "${RunnerFunctionArn}"), wantRuns: true},
		{name: "child", def: fmt.Sprintf(task, "${StateMachineArn_p_other}"), wantChildren: []string{"p.other"}},
		{name: "no substitution", def: fmt.Sprintf(task, "arn:aws:lambda:us-east-1:1:function:x")},
		{name: "unknown substitution", def: fmt.Sprintf(task, "${TableName}"), wantErr: []string{"action p.hand: state machine", "substitution ${TableName} cannot be filled"}},
		{name: "disabled child", def: fmt.Sprintf(task, "${StateMachineArn_p_off}"), wantErr: []string{"action p.hand", "${StateMachineArn_p_off} cannot be filled"}},
		{name: "not JSON", def: "States: {}", wantErr: []string{"action p.hand", "expected an ASL definition in JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "p")
			files := map[string]string{
				"pack.yaml":                    "ref: p\nname: p\nversion: 1.0.0\ndescription: test\nauthor: bwc\n",
				"actions/hand.yaml":            "name: hand\nrunner_type: asl\nentry_point: ../statemachines/hand.asl.json\n",
				"actions/other.yaml":           "name: other\nrunner_type: asl\nentry_point: ../statemachines/other.asl.json\n",
				"actions/off.yaml":             "name: off\nrunner_type: asl\nenabled: false\nentry_point: ../statemachines/other.asl.json\n",
				"statemachines/hand.asl.json":  tt.def,
				"statemachines/other.asl.json": `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			}
			for name, data := range files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c, err := stack.Load(filepath.Dir(dir))
			if err != nil {
				t.Fatal(err)
			}
			p, err := stack.Build(c)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Build succeeded, want an error with %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Build: %v, want an error with %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			byRef := map[string]stack.MachinePlan{}
			var refs []string
			for _, m := range p.Machines {
				byRef[m.Ref] = m
				refs = append(refs, m.Ref)
			}
			if want := []string{stack.ActionMachineRef, "p.hand", "p.other"}; !reflect.DeepEqual(refs, want) {
				t.Errorf("machines %v, want %v", refs, want)
			}
			m := byRef["p.hand"]
			if string(m.Definition) != tt.def || m.RunsActions != tt.wantRuns || !reflect.DeepEqual(m.Children, tt.wantChildren) {
				t.Errorf("p.hand planned as %+v (definition %s), want runs actions %v, children %v", m, m.Definition, tt.wantRuns, tt.wantChildren)
			}
		})
	}
}
