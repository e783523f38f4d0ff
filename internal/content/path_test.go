package content

import (
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bwc-project/bwc/internal/pack"

	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/workflow"
)

func TestRulePath(t *testing.T) {
	machines := map[string]*workflow.Machine{"p.flow": {}}
	tests := []struct {
		name     string
		residual string
		action   string
		params   map[string]any
		want     AWSPath
	}{
		{
			name: "residual", residual: `$contains($trigger.msg, /x/)`, action: "core.echo",
			want: AWSPath{Path: PathEnforcer, Machine: ActionMachineRef, Reason: "the rule has a residual condition the bus cannot check"},
		},
		{
			name: "secret and config", action: "p.flow",
			params: map[string]any{"a": "{% $secret('k') %}", "b": []any{"{% $config('c') & 'x' %}"}},
			want:   AWSPath{Path: PathEnforcer, Machine: "p.flow", Reason: "its parameters call $config, $secret, which only the enforcer provides"},
		},
		{
			name: "interpolation", action: "core.echo",
			params: map[string]any{"m": map[string]any{"n": "{% 'host ' & $trigger.host %}"}},
			want:   AWSPath{Path: PathEnforcer, Machine: ActionMachineRef, Reason: "parameter m.n needs JSONata evaluation, which an EventBridge input transformer cannot do"},
		},
		{
			name: "direct action", action: "core.echo",
			params: map[string]any{"message": "{% $trigger.body.text %}", "n": 2.0},
			want: AWSPath{
				Path: PathDirect, Machine: ActionMachineRef, DirectMachine: "p.r.direct", Reason: "its parameters need nothing but the event (constants and plain paths)",
				InputPaths: map[string]string{"p0": "$.detail.payload.body.text", "trigger_instance_id": "$.detail.trigger_instance_id", "trace_tag": "$.detail.trace_tag"},
				InputTemplate: `{"action":"core.echo","parameters":{"message":<p0>,"n":2},` +
					`"context":{"rule":"p.r","trigger_instance_id":<trigger_instance_id>,"trace_tag":<trace_tag>}}`,
			},
		},
		{
			name: "direct workflow", action: "p.flow",
			params: map[string]any{"who": "{% $event.detail.trace_tag %}", "tag": "<p0>"},
			want: AWSPath{
				Path: PathDirect, Machine: "p.flow", DirectMachine: "p.r.direct", Reason: "its parameters need nothing but the event (constants and plain paths)",
				InputPaths:    map[string]string{"p0": "$.detail.trace_tag"},
				InputTemplate: `{"tag":"\u003cp0\u003e","who":<p0>}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &rule.Compiled{Ref: "p.r", Residual: tt.residual, Action: rule.ActionPlan{Ref: tt.action, Parameters: tt.params}}
			got, err := RulePath(r, machines)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RulePath:\n got %+v\nwant %+v", got, tt.want)
			}
			if r.NeedsEnforcer() && got.Path != PathEnforcer {
				t.Errorf("the rule needs the enforcer, path %s", got.Path)
			}
		})
	}
}

func TestDirectTarget(t *testing.T) {
	tests := []struct {
		name      string
		path      AWSPath
		wantPaths map[string]string
		wantTmpl  string
	}{
		{name: "enforcer", path: AWSPath{Path: PathEnforcer, Machine: ActionMachineRef}},
		{
			name:      "direct",
			path:      AWSPath{Path: PathDirect, Machine: "p.flow", InputPaths: map[string]string{"p0": "$.detail.payload.x"}, InputTemplate: `{"x":<p0>}`},
			wantPaths: map[string]string{"p0": "$.detail.payload.x", "event_id": "$.id", "trigger_instance_id": "$.detail.trigger_instance_id", "trace_tag": "$.detail.trace_tag"},
			wantTmpl:  `{"event_id":<event_id>,"trigger_instance_id":<trigger_instance_id>,"trace_tag":<trace_tag>,"input":{"x":<p0>}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			paths, tmpl := tt.path.DirectTarget()
			if !reflect.DeepEqual(paths, tt.wantPaths) || tmpl != tt.wantTmpl {
				t.Errorf("DirectTarget() = %v, %s; want %v, %s", paths, tmpl, tt.wantPaths, tt.wantTmpl)
			}
		})
	}
}

// A rule that sets a secret parameter keeps the enforcer, which seals it;
// the same rule without it goes direct.
func TestCompiledRulePathKeepsSecretsOffTheDirectPath(t *testing.T) {
	rules := map[string]string{
		"with":    "  parameters:\n    token: \"{{ trigger.token }}\"\n    msg: \"{{ trigger.msg }}\"\n",
		"without": "  parameters:\n    msg: \"{{ trigger.msg }}\"\n",
	}
	fsys := fstest.MapFS{
		"p/pack.yaml":      {Data: []byte("ref: p\nname: p\nversion: 1.0.0\ndescription: test\nauthor: bwc\n")},
		"p/sensors/s.yaml": {Data: []byte("class_name: s\ntrigger_types:\n  - name: event\n    payload_schema:\n      type: object\n")},
		"p/actions/a.yaml": {Data: []byte("name: a\nrunner_type: noop\nparameters:\n  msg: {type: string}\n  token: {type: string, secret: true}\n")},
	}
	for name, params := range rules {
		fsys["p/rules/"+name+".yaml"] = &fstest.MapFile{Data: []byte("name: " + name + "\npack: p\nenabled: true\ntrigger:\n  type: p.event\naction:\n  ref: p.a\n" + params)}
	}
	set, diags := pack.Load(fsys, "packs")
	if len(diags) > 0 {
		t.Fatalf("loading: %v", diags)
	}
	c, cdiags := Compile(set)
	if len(cdiags) > 0 {
		t.Fatalf("compiling: %v", cdiags)
	}
	for ref, want := range map[string]AWSPath{
		"p.with":    {Path: PathEnforcer, Machine: ActionMachineRef, Reason: "it sets the secret parameter token of p.a, which only the enforcer seals"},
		"p.without": {Path: PathDirect, Machine: ActionMachineRef, DirectMachine: "p.without.direct"},
	} {
		r, ok := c.Rules.Get(ref)
		if !ok {
			t.Fatalf("no compiled rule %s", ref)
		}
		got, err := c.RulePath(r)
		if err != nil {
			t.Fatal(err)
		}
		if got.Path != want.Path || got.Machine != want.Machine || got.DirectMachine != want.DirectMachine || (want.Reason != "" && got.Reason != want.Reason) {
			t.Errorf("%s: path %+v, want %+v", ref, got, want)
		}
	}
}

// An enabled asl action runs on a state machine of its own, as a workflow:
// its rules name that machine, and a direct rule's input is the parameters
// (not the action machine's {action, parameters, context}). A disabled one
// has no machine.
func TestCompiledRulePathOfHandWrittenActions(t *testing.T) {
	fsys := fstest.MapFS{
		"p/pack.yaml":                   {Data: []byte("ref: p\nname: p\nversion: 1.0.0\ndescription: test\nauthor: bwc\n")},
		"p/sensors/s.yaml":              {Data: []byte("class_name: s\ntrigger_types:\n  - name: event\n    payload_schema:\n      type: object\n")},
		"p/actions/hand.yaml":           {Data: []byte("name: hand\nrunner_type: asl\nentry_point: ../statemachines/hand.asl.json\nparameters:\n  msg: {type: string}\n")},
		"p/actions/off.yaml":            {Data: []byte("name: off\nrunner_type: asl\nenabled: false\nentry_point: ../statemachines/hand.asl.json\nparameters:\n  msg: {type: string}\n")},
		"p/statemachines/hand.asl.json": {Data: []byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)},
	}
	for _, name := range []string{"hand", "off"} {
		fsys["p/rules/"+name+".yaml"] = &fstest.MapFile{Data: []byte("name: " + name + "\npack: p\nenabled: true\ntrigger:\n  type: p.event\naction:\n  ref: p." + name + "\n  parameters:\n    msg: \"{{ trigger.msg }}\"\n")}
	}
	set, diags := pack.Load(fsys, "packs")
	if len(diags) > 0 {
		t.Fatalf("loading: %v", diags)
	}
	c, cdiags := Compile(set)
	if len(cdiags) > 0 {
		t.Fatalf("compiling: %v", cdiags)
	}
	var hand []string
	for _, a := range c.HandWritten() {
		hand = append(hand, a.Ref)
	}
	if len(hand) != 1 || hand[0] != "p.hand" || !c.HasMachine("p.hand") || c.HasMachine("p.off") || strings.Join(c.OwnMachineRefs(), ",") != "p.hand" {
		t.Errorf("hand-written %v, own machines %v, want p.hand only", hand, c.OwnMachineRefs())
	}
	for _, tc := range []struct {
		rule, machine, template string
	}{
		{rule: "p.hand", machine: "p.hand", template: `{"msg":<p0>}`},
		{rule: "p.off", machine: ActionMachineRef},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			r, ok := c.Rules.Get(tc.rule)
			if !ok {
				t.Fatalf("no compiled rule %s", tc.rule)
			}
			got, err := c.RulePath(r)
			if err != nil {
				t.Fatal(err)
			}
			if got.Path != PathDirect || got.Machine != tc.machine {
				t.Errorf("path %s on %s, want direct on %s", got.Path, got.Machine, tc.machine)
			}
			if tc.template != "" && got.InputTemplate != tc.template {
				t.Errorf("input template %s, want %s", got.InputTemplate, tc.template)
			}
			if tc.template == "" && !strings.Contains(got.InputTemplate, `"action":`) {
				t.Errorf("input template %s, want the action machine's input", got.InputTemplate)
			}
		})
	}
}
