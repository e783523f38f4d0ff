package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/bwc-project/bwc/internal/aws/direct"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/sensor/sdk"
	"github.com/bwc-project/bwc/internal/sensor/timer"
	"github.com/bwc-project/bwc/internal/store"
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
const ActionMachineRef = content.ActionMachineRef

// How a rule's matched events reach their execution.
const (
	// TargetEnforcer: the EventBridge rule invokes the enforcer Lambda, which
	// checks the residual, renders the parameters, records the enforcement
	// and starts the state machine with the enforcement's execution id.
	TargetEnforcer = content.PathEnforcer
	// TargetDirect: EventBridge starts the rule's direct machine, its input
	// built by an input transformer from the event; the direct machine
	// records the enforcement and starts the state machine.
	TargetDirect = content.PathDirect
)

// Plan is what the stack declares for a compiled pack set.
type Plan struct {
	Rules    []RulePlan
	Machines []MachinePlan
	Timers   []TimerPlan
	// Pollers are the packs' Go polling sensors, sorted by reference.
	Pollers []PollerPlan
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
	// workflow's or hand-written asl action's own, or ActionMachineRef for
	// any other action.
	Machine string
	// InputPaths and InputTemplate build, for a direct target, the input of
	// Machine from the event (placeholder name -> JSON path into the event;
	// the template), as content.RulePath and `bwc rule explain` show them.
	InputPaths    map[string]string
	InputTemplate string
	// For a direct target: DirectMachine is the reference of the state
	// machine EventBridge starts (content.DirectMachineRef), which records
	// the enforcement in the table and starts Machine; DirectDefinition is
	// its ASL (internal/aws/direct, with ${TableName} and Machine's
	// ${StateMachineArn_...} left in place); TargetInputPaths and
	// TargetInputTemplate are the target's input transformer
	// (content.AWSPath.DirectTarget: the ids and InputTemplate's input).
	DirectMachine       string
	DirectDefinition    []byte
	TargetInputPaths    map[string]string
	TargetInputTemplate string
}

// MachinePlan is one state machine: the action machine, a compiled
// workflow's, or an enabled asl action's (its hand-written definition).
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

// PollerPlan is one Go polling sensor as an EventBridge Scheduler schedule
// that invokes the poller function with {"pack", "sensor", "scheduled_time"}.
type PollerPlan struct {
	Sensor      string // the sensor's reference, pack.name
	Pack        string
	PollSeconds int
	Expression  string // rate(...)
}

// DefaultPollSeconds is a polling sensor's interval when it sets no
// poll_interval (internal/sensor/sdk's default).
const DefaultPollSeconds = int(sdk.DefaultPollInterval / time.Second)

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
// EventBridge Scheduler cannot express, on a workflow that starts a state
// machine that does not exist, and on a hand-written (asl) definition that
// cannot be read or uses a substitution the stack cannot fill.
func Build(c *content.Compiled) (*Plan, error) {
	p := &Plan{}
	machines, err := planMachines(c)
	if err != nil {
		return nil, err
	}
	p.Machines = machines
	if p.Pollers, err = planPollers(c); err != nil {
		return nil, err
	}
	urls := map[string]bool{}
	for _, r := range c.Rules.Rules {
		rp, err := planRule(r, c)
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
	for _, ref := range c.OwnMachineRefs() {
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
				return nil, fmt.Errorf("state machine %s: substitution ${%s} names no compiled workflow or enabled asl action", ref, s)
			}
			mp.Children = append(mp.Children, child)
		}
		sort.Strings(mp.Children)
		out = append(out, mp)
	}
	for _, a := range c.HandWritten() {
		if _, ok := c.Machines[a.Ref]; ok {
			continue
		}
		mp, err := planHandWritten(a, byParam)
		if err != nil {
			return nil, err
		}
		out = append(out, mp)
	}
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i].Ref < out[1+j].Ref })
	return out, nil
}

// substitution matches a ${...} definition substitution.
var substitution = regexp.MustCompile(`\$\{([^}]*)\}`)

// planHandWritten plans the state machine of an asl action: its entry
// point file as it is, with the substitutions the workflows' machines get
// (${RunnerFunctionArn}, ${StateMachineArn_<ref>} of a workflow or another
// hand-written machine); any other ${...} is refused, since CloudFormation
// would deploy it unfilled.
func planHandWritten(a *pack.Action, byParam map[string]string) (MachinePlan, error) {
	def, err := os.ReadFile(filepath.FromSlash(a.EntryPointPath))
	if err != nil {
		return MachinePlan{}, fmt.Errorf("action %s (%s): reading its state machine: %w", a.Ref, a.Pos, err)
	}
	if !json.Valid(def) {
		return MachinePlan{}, fmt.Errorf("action %s: state machine %s: expected an ASL definition in JSON", a.Ref, a.EntryPointPath)
	}
	mp := MachinePlan{Ref: a.Ref, Definition: def, WaitsForInquiry: strings.Contains(string(def), ".waitForTaskToken")}
	children := map[string]bool{}
	for _, sm := range substitution.FindAllStringSubmatch(string(def), -1) {
		name := sm[1]
		if name == "RunnerFunctionArn" {
			mp.RunsActions = true
			continue
		}
		child, ok := byParam[name]
		if !ok {
			return MachinePlan{}, fmt.Errorf("action %s: state machine %s: substitution ${%s} cannot be filled: expected ${RunnerFunctionArn} or ${StateMachineArn_<ref>} of a workflow or enabled asl action", a.Ref, a.EntryPointPath, name)
		}
		if !children[child] {
			children[child] = true
			mp.Children = append(mp.Children, child)
		}
	}
	sort.Strings(mp.Children)
	return mp, nil
}

// planRule decides how a rule's events reach their execution: the same
// decision `bwc rule explain` shows (content.RulePath).
func planRule(r *rule.Compiled, c *content.Compiled) (RulePlan, error) {
	path, err := c.RulePath(r)
	if err != nil {
		return RulePlan{}, err
	}
	rp := RulePlan{
		Ref: r.Ref, Enabled: r.Enabled, Pattern: r.Pattern,
		Target: path.Path, Reason: path.Reason, Machine: path.Machine,
		InputPaths: path.InputPaths, InputTemplate: path.InputTemplate,
	}
	if path.Path == TargetDirect {
		def, err := direct.Definition(r.Ref, path, store.DefaultRetention.Enforcements)
		if err != nil {
			return RulePlan{}, err
		}
		rp.DirectMachine, rp.DirectDefinition = path.DirectMachine, def
		rp.TargetInputPaths, rp.TargetInputTemplate = path.DirectTarget()
	}
	return rp, nil
}

// planPollers plans a schedule for every enabled Go polling sensor (a
// sensor with an entry point) at its poll interval, which must be whole
// minutes: EventBridge Scheduler's finest rate.
func planPollers(c *content.Compiled) ([]PollerPlan, error) {
	var out []PollerPlan
	var sensors []*pack.Sensor
	if c.Packs != nil {
		sensors = c.Packs.Sensors()
	}
	for _, s := range sensors {
		if !s.Enabled || s.EntryPointPath == "" {
			continue
		}
		seconds := s.PollInterval
		if seconds <= 0 {
			seconds = DefaultPollSeconds
		}
		x, err := timer.EventBridgeSchedule(timer.Interval{Every: time.Duration(seconds) * time.Second})
		if err != nil {
			return nil, fmt.Errorf("sensor %s (%s): poll_interval %d: %w", s.Ref, s.Pos, seconds, err)
		}
		out = append(out, PollerPlan{Sensor: s.Ref, Pack: s.Pack, PollSeconds: seconds, Expression: x.Expression})
	}
	return out, nil
}

// ActionMachineDefinition is the ASL of the generic action state machine
// (content.ActionMachineDefinition): one Task that invokes the runner with
// {action, parameters, context, execution} and ends with the runner's result.
// The enforcer, the API and direct rule targets start it for every action
// that is not a workflow.
func ActionMachineDefinition() []byte {
	return content.ActionMachineDefinition()
}
