package cost_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/cost"
)

func TestTypicalRun(t *testing.T) {
	runner := `"Resource": "arn:aws:states:::lambda:invoke", "Arguments": {"FunctionName": "${RunnerFunctionArn}"}`
	tests := []struct {
		name string
		asl  string
		want cost.Run
	}{
		{"one task", `{"StartAt": "a", "States": {"a": {"Type": "Task", ` + runner + `, "End": true}}}`,
			cost.Run{Transitions: 1, Tasks: 1, LogEvents: 2 + 2 + 3}},
		{"choice takes its first rule", `{"StartAt": "c", "States": {
			"c": {"Type": "Choice", "Choices": [{"Condition": "{% true %}", "Next": "a"}, {"Next": "f"}], "Default": "f"},
			"a": {"Type": "Task", ` + runner + `, "Next": "p"},
			"p": {"Type": "Pass", "End": true},
			"f": {"Type": "Fail"}}}`,
			cost.Run{Transitions: 3, Tasks: 1, LogEvents: 2 + 3*2 + 3}},
		{"choice without rules takes its default", `{"StartAt": "c", "States": {
			"c": {"Type": "Choice", "Choices": [], "Default": "s"}, "s": {"Type": "Succeed"}}}`,
			cost.Run{Transitions: 2, LogEvents: 2 + 2*2}},
		{"parallel runs every branch, map one item", `{"StartAt": "par", "States": {
			"par": {"Type": "Parallel", "Next": "m", "Branches": [
				{"StartAt": "x", "States": {"x": {"Type": "Task", ` + runner + `, "End": true}}},
				{"StartAt": "y", "States": {"y": {"Type": "Pass", "End": true}}}]},
			"m": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "z", "States": {"z": {"Type": "Task", ` + runner + `, "End": true}}}}}}`,
			cost.Run{Transitions: 5, Tasks: 2, LogEvents: 2 + 5*2 + 2*3}},
		{"inquiry and child workflow", `{"StartAt": "ask", "States": {
			"ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "Arguments": {"FunctionName": "${RunnerFunctionArn}"}, "Next": "sub"},
			"sub": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2", "Arguments": {"StateMachineArn": "${StateMachineArn_p_child}"}, "Next": "loop"},
			"loop": {"Type": "Choice", "Choices": [{"Next": "ask"}]}}}`,
			cost.Run{Transitions: 3, Tasks: 1, Inquiries: 1, Children: []string{"StateMachineArn_p_child"}, LogEvents: 2 + 3*2 + 2*3}},
		{"a task of another service", `{"StartAt": "d", "States": {"d": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Arguments": "{% $x %}", "End": true}}}`,
			cost.Run{Transitions: 1, LogEvents: 2 + 2 + 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cost.TypicalRun([]byte(tt.asl))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := cost.TypicalRun([]byte(`{"StartAt": "nowhere", "States": {}}`)); err == nil {
		t.Error("a missing state is not an error")
	}
}

// The arithmetic of one trigger of each kind of rule, from the test pack of
// the CDK app (direct rules, a workflow with a child, timers, a poller).
func TestEstimateRules(t *testing.T) {
	c := compileDirs(t, "../../packs", "../../infra/stack/testdata/packs")
	a := cost.DefaultAssumptions()
	prices := cost.ListPrices()
	rep, err := cost.Estimate(c, a, prices)
	if err != nil {
		t.Fatal(err)
	}
	byRule := map[string]cost.RuleCost{}
	for _, rc := range rep.Rules {
		byRule[rc.Rule] = rc
	}
	tests := []struct {
		rule, path, source string
		want               cost.Usage
		transitions        int
	}{
		{
			// webhook (request, function, record, event), direct to the
			// rule's direct machine: no enforcer; one Express request of
			// 80 ms billed as 100 ms at 64 MB, its 14 log events, and the
			// enforcement record; the execution record
			// created by completion; one run: 2 updates + result, 2
			// completions, core.actiontrigger (event + record), one runner
			// task + output
			rule: "infratest.direct_echo", path: "direct", source: cost.SourceWebhook, transitions: 1,
			want: cost.Usage{
				APIRequests: 1, PutEvents: 2, Deliveries: 3,
				Invocations: map[string]float64{"webhook": 1, "completion": 2, "runner": 1},
				Transitions: 1, ExpressRequests: 1, ExpressGBSeconds: 0.1 * 64.0 / 1024,
				WriteUnits: 4 + 4 + 8 + 21 + 4 + 1, ReadUnits: 2,
				LogBytes: 4*1024 + 300 + (2+2+3)*400 + 14*400, Traces: 0.05,
			},
		},
		{
			// the same through the enforcer: its invocation and the enforcement
			rule: "examples.high_load_alert", path: "enforcer", source: cost.SourceWebhook, transitions: 1,
			want: cost.Usage{
				APIRequests: 1, PutEvents: 2, Deliveries: 3,
				Invocations: map[string]float64{"webhook": 1, "enforcer": 1, "completion": 2, "runner": 1},
				Transitions: 1, WriteUnits: 4 + 4 + 8 + 21 + 4 + 1, ReadUnits: 2,
				LogBytes: 5*1024 + 300 + (2+2+3)*400, Traces: 0.05,
			},
		},
		{
			// a timer: Scheduler and the timer function instead of the API
			rule: "examples.health_check", path: "enforcer", source: cost.SourceTimer, transitions: 1,
			want: cost.Usage{
				PutEvents: 2, Deliveries: 3, SchedulerInvocations: 1,
				Invocations: map[string]float64{"timer": 1, "enforcer": 1, "completion": 2, "runner": 1},
				Transitions: 1, WriteUnits: 4 + 4 + 8 + 21 + 4 + 1, ReadUnits: 2,
				LogBytes: 5*1024 + (2+2+3)*400, Traces: 0.05,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			rc, ok := byRule[tt.rule]
			if !ok {
				t.Fatalf("no estimate for %s", tt.rule)
			}
			if rc.Path != tt.path || rc.Source != tt.source || rc.Run.Transitions != tt.transitions {
				t.Errorf("path %s source %s transitions %d, want %s %s %d", rc.Path, rc.Source, rc.Run.Transitions, tt.path, tt.source, tt.transitions)
			}
			if !reflect.DeepEqual(rc.PerTrigger, tt.want) {
				t.Errorf("per trigger\n got %+v\nwant %+v", rc.PerTrigger, tt.want)
			}
			// the lines, priced here by hand
			u, n := tt.want, a.Triggers
			var inv, gbs float64
			for fn, c := range u.Invocations {
				inv += c
				gbs += c * a.DurationMS[fn] / 1000 * 512 / 1024
			}
			each := func(k string) float64 { return prices[k].USD / prices[k].Per }
			want := map[string]float64{
				cost.SvcAPI:      n * u.APIRequests * 1.00 / 1e6,
				cost.SvcEvents:   n * (u.PutEvents*1.00/1e6 + u.SchedulerInvocations*1.00/1e6),
				cost.SvcLambda:   n * (inv*0.20/1e6 + gbs*0.0000133334),
				cost.SvcStates:   n * (u.Transitions*0.025/1000 + u.ExpressRequests*1.00/1e6 + u.ExpressGBSeconds*0.06/3600),
				cost.SvcDynamoDB: n * (u.WriteUnits*0.625 + u.ReadUnits*0.125) / 1e6,
				cost.SvcLogs:     n * u.LogBytes / (1 << 30) * 0.50,
				cost.SvcXRay:     n * u.Traces * each(cost.PriceTrace),
			}
			var sum float64
			for _, l := range rc.Lines {
				if math.Abs(l.USD-want[l.Service]) > 1e-9 {
					t.Errorf("%s: $%v, want $%v", l.Service, l.USD, want[l.Service])
				}
				sum += l.USD
			}
			if len(rc.Lines) != len(want) || math.Abs(sum-rc.USD) > 1e-9 {
				t.Errorf("%d lines summing to %v, total %v", len(rc.Lines), sum, rc.USD)
			}
		})
	}

	t.Run("a workflow with a child", func(t *testing.T) {
		rc := byRule["infratest.direct_workflow"]
		// greet runs tasks and starts infratest.again: its transitions are
		// greet's plus again's
		if rc.Machine != "infratest.greet" || len(rc.Run.Children) != 1 || rc.PerTrigger.Transitions <= float64(rc.Run.Transitions) {
			t.Errorf("machine %s run %+v, %v transitions in all", rc.Machine, rc.Run, rc.PerTrigger.Transitions)
		}
		if got := rc.PerTrigger.Invocations["completion"]; got != 4 {
			t.Errorf("%v completion invocations, want 4 (two state machine runs)", got)
		}
	})

	t.Run("monthly", func(t *testing.T) {
		// the KMS key; the inquiry sweep every minute for 730 hours
		// (Scheduler, the inquiry function for 30 ms, its log, one read
		// unit); and the probe polled every 300 s
		sweeps := 730.0 * 60
		sweep := sweeps * (1.00/1e6 + 0.20/1e6 + 0.5*0.03*0.0000133334 + 1024.0/(1<<30)*0.50 + 0.125/1e6)
		polls := 730.0 * 3600 / 300
		probe := polls * (1.00/1e6 + 0.20/1e6 + 0.5*0.5*0.0000133334 + 1024.0/(1<<30)*0.50)
		if len(rep.Monthly) != 3 || math.Abs(rep.Monthly[0].USD-1) > 1e-9 || math.Abs(rep.Monthly[1].USD-sweep) > 1e-9 ||
			!strings.Contains(rep.Monthly[1].What, "inquiry sweep") || math.Abs(rep.Monthly[2].USD-probe) > 1e-9 ||
			!strings.Contains(rep.Monthly[2].What, "infratest.Probe") {
			t.Errorf("monthly %+v, want the key, the sweep's $%v and the probe's $%v", rep.Monthly, sweep, probe)
		}
	})

	t.Run("triggers scale", func(t *testing.T) {
		a2 := a
		a2.Triggers = 2 * a.Triggers
		rep2, err := cost.Estimate(c, a2, prices)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(rep2.USD-2*rep.USD) > 1e-6 || rep2.MonthlyUSD != rep.MonthlyUSD {
			t.Errorf("twice the triggers: $%v and $%v monthly, want $%v and $%v", rep2.USD, rep2.MonthlyUSD, 2*rep.USD, rep.MonthlyUSD)
		}
	})
}

func TestAssumptionsChecked(t *testing.T) {
	tests := []struct {
		name   string
		change func(*cost.Assumptions)
	}{
		{"negative triggers", func(a *cost.Assumptions) { a.Triggers = -1 }},
		{"memory", func(a *cost.Assumptions) { a.MemoryMB = 64 }},
		{"unknown function", func(a *cost.Assumptions) { a.DurationMS["api"] = 5 }},
		{"zero duration", func(a *cost.Assumptions) { a.DurationMS["runner"] = 0 }},
		{"sampling", func(a *cost.Assumptions) { a.TraceSampling = 2 }},
		{"zero direct duration", func(a *cost.Assumptions) { a.DirectDurationMS = 0 }},
		{"direct duration past Express's 5 minutes", func(a *cost.Assumptions) { a.DirectDurationMS = 300001 }},
		{"zero direct memory", func(a *cost.Assumptions) { a.DirectMemoryMB = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := cost.DefaultAssumptions()
			tt.change(&a)
			if err := a.Check(); !errors.Is(err, cost.ErrAssumption) {
				t.Errorf("err %v, want ErrAssumption", err)
			}
		})
	}
	if err := cost.DefaultAssumptions().Check(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
}

// Express duration is billed per started 100 ms and per started 64 MB.
func TestExpressGBSeconds(t *testing.T) {
	tests := []struct {
		ms, mb, want float64
	}{
		{80, 64, 0.1 * 64.0 / 1024},
		{100, 64, 0.1 * 64.0 / 1024},
		{101, 64, 0.2 * 64.0 / 1024},
		{1, 1, 0.1 * 64.0 / 1024},
		{250, 65, 0.3 * 128.0 / 1024},
		{1000, 1024, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%vms %vMB", tt.ms, tt.mb), func(t *testing.T) {
			if got := cost.ExpressGBSeconds(tt.ms, tt.mb); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("%v GB-s, want %v", got, tt.want)
			}
		})
	}
}
