package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/sensor/timer"
	"github.com/bwc-project/bwc/internal/workflow"
)

// The Lambda functions of the AWS engine, by the name of their directory
// under functions/ (and of their build directory build/lambda/<fn>/).
const (
	FnWebhook    = "webhook"    // API Gateway: validate, record, PutEvents
	FnTimer      = "timer"      // Scheduler target: record, PutEvents
	FnPoller     = "poller"     // polling sensors: record, PutEvents
	FnEnforcer   = "enforcer"   // EventBridge rule target: StartExecution
	FnRunner     = "runner"     // runs actions for the state machines
	FnCompletion = "completion" // Step Functions status change: execution record, core.actiontrigger
	FnInquiry    = "inquiry"    // inquiry responses: SendTaskSuccess/Failure
	FnAPI        = "api"        // the HTTP API
)

// FunctionNames lists every function, in a fixed order.
func FunctionNames() []string {
	return []string{FnWebhook, FnTimer, FnPoller, FnEnforcer, FnRunner, FnCompletion, FnInquiry, FnAPI}
}

// ActionMachineRef is the reference under which the generic action state
// machine appears in a plan: the machine that runs one non-workflow action
// with the runner, so that every execution is a Step Functions execution.
const ActionMachineRef = "bwc.action"

// How a rule's matched events reach their execution.
const (
	// TargetEnforcer: the EventBridge rule invokes the enforcer Lambda, which
	// checks the residual, renders the parameters, records the enforcement
	// and starts the state machine with the enforcement's execution id.
	TargetEnforcer = "enforcer"
	// TargetDirect: EventBridge starts the state machine itself, its input
	// built by an input transformer from the event.
	TargetDirect = "direct"
)

// Plan is what the stack declares for a compiled pack set.
type Plan struct {
	Rules    []RulePlan
	Machines []MachinePlan
	Timers   []TimerPlan
	// Webhooks are the core.webhook urls, without leading or trailing '/',
	// sorted and unique: each becomes the route POST /api/v1/webhooks/<url>.
	Webhooks []string
}

// RulePlan is one BWC rule as an EventBridge rule.
type RulePlan struct {
	Ref     string
	Enabled bool
	// Pattern is the compiled event pattern, unchanged.
	Pattern json.RawMessage
	// Target is TargetEnforcer or TargetDirect; Reason says why.
	Target string
	Reason string
	// Machine is the reference of the state machine the execution runs: the
	// workflow's, or ActionMachineRef for any other action.
	Machine string
	// InputPaths and InputTemplate are the input transformer of a direct
	// target (placeholder name -> JSON path into the event; the template).
	InputPaths    map[string]string
	InputTemplate string
}

// MachinePlan is one state machine.
type MachinePlan struct {
	Ref string
	// Definition is the ASL with its ${...} substitutions left in place.
	Definition []byte
	// RunsActions: the definition invokes ${RunnerFunctionArn}.
	RunsActions bool
	// Children are the references of the workflows it starts
	// (${StateMachineArn_...}), sorted.
	Children []string
	// WaitsForInquiry: the definition has a .waitForTaskToken task, whose
	// token the inquiry function answers.
	WaitsForInquiry bool
}

// TimerPlan is one timer rule as an EventBridge Scheduler schedule.
type TimerPlan struct {
	Rule       string
	Enabled    bool
	Trigger    string
	Parameters map[string]any
	Expression string
	Timezone   string // "" for rate()
}

// Load reads and compiles the packs of dirs. Any diagnostic fails: the stack
// is not built from packs the embedded engine would refuse.
func Load(dirs ...string) (*content.Compiled, error) {
	set, diags, err := pack.LoadDirs(dirs...)
	if err != nil {
		return nil, fmt.Errorf("loading packs %s: %w", strings.Join(dirs, ", "), err)
	}
	if len(diags) > 0 {
		return nil, fmt.Errorf("loading packs %s: %w", strings.Join(dirs, ", "), diags)
	}
	compiled, diags := content.Compile(set)
	if len(diags) > 0 {
		return nil, fmt.Errorf("compiling packs %s: %w", strings.Join(dirs, ", "), diags)
	}
	return compiled, nil
}

// Build plans the stack for compiled content. It fails on a timer that
// EventBridge Scheduler cannot express and on a workflow that starts a state
// machine that does not exist.
func Build(c *content.Compiled) (*Plan, error) {
	p := &Plan{}
	machines, err := planMachines(c)
	if err != nil {
		return nil, err
	}
	p.Machines = machines
	urls := map[string]bool{}
	for _, r := range c.Rules.Rules {
		rp, err := planRule(r, c.Machines)
		if err != nil {
			return nil, err
		}
		p.Rules = append(p.Rules, rp)
		switch {
		case r.Trigger.Type == "core.webhook":
			url, _ := r.Trigger.Parameters["url"].(string)
			url = strings.Trim(url, "/")
			if url == "" {
				return nil, fmt.Errorf("rule %s: core.webhook needs a url parameter", r.Ref)
			}
			urls[url] = true
		case timer.IsTimer(r.Trigger.Type):
			tp, err := planTimer(r)
			if err != nil {
				return nil, err
			}
			p.Timers = append(p.Timers, tp)
		}
	}
	for u := range urls {
		p.Webhooks = append(p.Webhooks, u)
	}
	sort.Strings(p.Webhooks)
	return p, nil
}

func planTimer(r *rule.Compiled) (TimerPlan, error) {
	s, err := timer.Parse(r.Trigger.Type, r.Trigger.Parameters)
	if err != nil {
		return TimerPlan{}, fmt.Errorf("rule %s: reading timer %s: %w", r.Ref, r.Trigger.Type, err)
	}
	x, err := timer.EventBridgeSchedule(s)
	if err != nil {
		return TimerPlan{}, fmt.Errorf("rule %s: converting timer %s for EventBridge Scheduler: %w", r.Ref, r.Trigger.Type, err)
	}
	return TimerPlan{
		Rule: r.Ref, Enabled: r.Enabled, Trigger: r.Trigger.Type, Parameters: r.Trigger.Parameters,
		Expression: x.Expression, Timezone: x.Timezone,
	}, nil
}

func planMachines(c *content.Compiled) ([]MachinePlan, error) {
	byParam := map[string]string{}
	for _, ref := range c.MachineRefs() {
		byParam[workflow.StateMachineArnParam(ref)] = ref
	}
	out := []MachinePlan{{Ref: ActionMachineRef, Definition: ActionMachineDefinition(), RunsActions: true}}
	for _, ref := range c.MachineRefs() {
		m := c.Machines[ref]
		def, err := m.JSON()
		if err != nil {
			return nil, fmt.Errorf("planning state machine %s: %w", ref, err)
		}
		mp := MachinePlan{Ref: ref, Definition: def, WaitsForInquiry: strings.Contains(string(def), ".waitForTaskToken")}
		for _, s := range m.Substitutions {
			if s == "RunnerFunctionArn" {
				mp.RunsActions = true
				continue
			}
			child, ok := byParam[s]
			if !ok {
				return nil, fmt.Errorf("state machine %s: substitution ${%s} names no compiled workflow", ref, s)
			}
			mp.Children = append(mp.Children, child)
		}
		sort.Strings(mp.Children)
		out = append(out, mp)
	}
	return out, nil
}

// planRule decides how a rule's events reach their execution.
func planRule(r *rule.Compiled, machines map[string]*workflow.Machine) (RulePlan, error) {
	rp := RulePlan{Ref: r.Ref, Enabled: r.Enabled, Pattern: r.Pattern, Target: TargetEnforcer, Machine: ActionMachineRef}
	_, isWorkflow := machines[r.Action.Ref]
	if isWorkflow {
		rp.Machine = r.Action.Ref
	}
	if r.NeedsEnforcer() {
		rp.Reason = "its parameters call $kv, $secret or $config"
		if r.Residual != "" {
			rp.Reason = "the rule has a residual condition the bus cannot check"
		}
		return rp, nil
	}
	paths, tmpl, err := directInput(r, isWorkflow)
	if err != nil {
		if errors.Is(err, errNotTransformable) {
			rp.Reason = err.Error()
			return rp, nil
		}
		return RulePlan{}, fmt.Errorf("rule %s: %w", r.Ref, err)
	}
	rp.Target, rp.Reason = TargetDirect, "the parameters need nothing but the event"
	rp.InputPaths, rp.InputTemplate = paths, tmpl
	return rp, nil
}

var errNotTransformable = errors.New("parameters need JSONata evaluation")

// plainPath matches a template that is only a path into the payload or the
// envelope, which an EventBridge input transformer can copy.
var plainPath = regexp.MustCompile(`^\{%\s*\$(trigger|event)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*%\}$`)

// directInput builds the input transformer of a rule whose parameters are
// constants or plain paths: for a workflow, its input is the parameters; for
// another action, the generic action machine's input {action, parameters,
// context}.
func directInput(r *rule.Compiled, isWorkflow bool) (map[string]string, string, error) {
	t := &transformer{paths: map[string]string{}}
	params, err := t.value(r.Action.Parameters, "parameters")
	if err != nil {
		return nil, "", err
	}
	if isWorkflow {
		return t.paths, params, nil
	}
	t.paths["trigger_instance_id"] = "$.detail.trigger_instance_id"
	t.paths["trace_tag"] = "$.detail.trace_tag"
	action, err := json.Marshal(r.Action.Ref)
	if err != nil {
		return nil, "", fmt.Errorf("encoding action reference: %w", err)
	}
	ref, err := json.Marshal(r.Ref)
	if err != nil {
		return nil, "", fmt.Errorf("encoding rule reference: %w", err)
	}
	tmpl := fmt.Sprintf(`{"action":%s,"parameters":%s,"context":{"rule":%s,"trigger_instance_id":<trigger_instance_id>,"trace_tag":<trace_tag>}}`, action, params, ref)
	return t.paths, tmpl, nil
}

type transformer struct {
	paths map[string]string
}

func (t *transformer) value(v any, at string) (string, error) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			kj, err := literal(k, at)
			if err != nil {
				return "", err
			}
			vj, err := t.value(x[k], at+"."+k)
			if err != nil {
				return "", err
			}
			parts = append(parts, kj+":"+vj)
		}
		return "{" + strings.Join(parts, ",") + "}", nil
	case []any:
		parts := make([]string, 0, len(x))
		for i, e := range x {
			ej, err := t.value(e, fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return "", err
			}
			parts = append(parts, ej)
		}
		return "[" + strings.Join(parts, ",") + "]", nil
	case string:
		if m := plainPath.FindStringSubmatch(x); m != nil {
			path := "$" + m[2]
			if m[1] == "trigger" {
				path = "$.detail.payload" + m[2]
			}
			name := fmt.Sprintf("p%d", len(t.paths))
			t.paths[name] = path
			return "<" + name + ">", nil
		}
		if strings.Contains(x, "{%") {
			return "", fmt.Errorf("%w (%s)", errNotTransformable, at)
		}
	}
	return literal(v, at)
}

// literal encodes a constant. encoding/json escapes '<' and '>' (as \u003c
// and \u003e), so no constant can read as an input template placeholder.
func literal(v any, at string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", at, err)
	}
	return string(b), nil
}

// ActionMachineDefinition is the ASL of the generic action state machine:
// one Task that invokes the runner with {action, parameters, context,
// execution} and ends with the runner's result. The enforcer, the API and
// direct rule targets start it for every action that is not a workflow.
func ActionMachineDefinition() []byte {
	return []byte(`{
  "Comment": "BWC action: runs one action with the runner (generated by the CDK app; do not edit)",
  "QueryLanguage": "JSONata",
  "StartAt": "run",
  "States": {
    "run": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Arguments": {
        "FunctionName": "${RunnerFunctionArn}",
        "Payload": {
          "action": "{% $states.input.action %}",
          "parameters": "{% $states.input.parameters %}",
          "context": "{% $states.input.context %}",
          "execution": "{% $states.context.Execution.Id %}"
        }
      },
      "Retry": [
        {
          "ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
          "IntervalSeconds": 1,
          "MaxAttempts": 3,
          "BackoffRate": 2
        }
      ],
      "Output": "{% $states.result.Payload %}",
      "End": true
    }
  }
}
`)
}
