package content

import (
	"errors"
	"fmt"
	"sort"

	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/workflow"
)

// Compiled is a pack set compiled for the engines.
type Compiled struct {
	Packs *pack.Set
	// Rules holds every rule that compiled, enabled or not.
	Rules *rule.Set
	// Machines maps each workflow action's reference to its state machine.
	Machines map[string]*workflow.Machine
}

// Compile compiles every rule and workflow of set. It returns what compiled
// together with a diagnostic for each problem; diagnostics name the file,
// line and column of the rule or workflow task at fault.
func Compile(set *pack.Set) (*Compiled, pack.Diagnostics) {
	out := &Compiled{Packs: set, Machines: map[string]*workflow.Machine{}}
	var diags pack.Diagnostics

	schemas := map[string]map[string]any{}
	for _, tt := range set.TriggerTypes() {
		schemas[tt.Ref] = tt.PayloadSchema
	}
	var rules []rule.Rule
	for _, r := range set.Rules() {
		rules = append(rules, Rule(r))
	}
	rs, err := rule.CompileSet(rules, schemas)
	if rs == nil {
		rs = &rule.Set{}
	}
	out.Rules = rs
	diags = append(diags, ruleDiagnostics(err)...)

	kinds := Kinds(set)
	for _, a := range set.Actions() {
		if a.RunnerType != pack.RunnerWorkflow || a.Workflow == nil {
			continue
		}
		m, err := workflow.Compile(a.Workflow, a.Ref, kinds)
		if err != nil {
			diags = append(diags, workflowDiagnostics(a, err)...)
			continue
		}
		out.Machines[a.Ref] = m
	}
	return out, diags.Sort()
}

// MachineRefs returns the references of the compiled workflows, sorted.
func (c *Compiled) MachineRefs() []string {
	refs := make([]string, 0, len(c.Machines))
	for r := range c.Machines {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	return refs
}

// HandWritten returns the enabled actions of runner type asl that have an
// entry point (a hand-written ASL definition), sorted by reference. On AWS
// each runs on a state machine of its own, as a workflow does, its
// definition the entry point file.
func (c *Compiled) HandWritten() []*pack.Action {
	if c.Packs == nil {
		return nil
	}
	var out []*pack.Action
	for _, a := range c.Packs.Actions() {
		if isHandWritten(a) {
			out = append(out, a)
		}
	}
	return out
}

func isHandWritten(a *pack.Action) bool {
	return a != nil && a.RunnerType == pack.RunnerASL && a.Enabled && a.EntryPointPath != ""
}

// HasMachine reports whether action ref runs on a state machine of its own
// on AWS: a compiled workflow, or an action of HandWritten. Every other
// action runs on the action machine (ActionMachineRef).
func (c *Compiled) HasMachine(ref string) bool {
	if _, ok := c.Machines[ref]; ok {
		return true
	}
	return c.Packs != nil && isHandWritten(c.Packs.Action(ref))
}

// OwnMachineRefs returns, sorted, the references of every action with a
// state machine of its own (HasMachine): the compiled workflows and the
// hand-written asl actions.
func (c *Compiled) OwnMachineRefs() []string {
	refs := c.MachineRefs()
	for _, a := range c.HandWritten() {
		if _, ok := c.Machines[a.Ref]; !ok {
			refs = append(refs, a.Ref)
		}
	}
	sort.Strings(refs)
	return refs
}

// Kinds resolves action references for the workflow compiler.
func Kinds(set *pack.Set) workflow.ActionKinds {
	return func(ref string) (string, bool) {
		a := set.Action(ref)
		if a == nil {
			return "", false
		}
		return workflow.KindOfRunner(a.RunnerType), true
	}
}

// Rule converts a loaded rule to the rule compiler's input.
func Rule(r *pack.Rule) rule.Rule {
	out := rule.Rule{
		Ref:     r.Ref,
		Pack:    r.Pack,
		Name:    r.Name,
		Enabled: r.Enabled,
		Pos:     r.Pos,
		Trigger: rule.Trigger{Type: r.Trigger.Type, Parameters: r.Trigger.Parameters},
		Action:  rule.Action{Ref: r.Action.Ref, Parameters: r.Action.Parameters, Pos: r.Action.Pos},
	}
	for _, c := range r.Criteria {
		out.Criteria = append(out.Criteria, rule.Criterion{
			Key:       c.Key,
			Op:        c.Type,
			Pattern:   c.Pattern,
			Condition: c.Condition,
			Pos:       c.Pos,
		})
	}
	return out
}

func ruleDiagnostics(err error) pack.Diagnostics {
	if err == nil {
		return nil
	}
	var es rule.Errors
	if !errors.As(err, &es) {
		return pack.Diagnostics{{Message: fmt.Sprintf("compiling rules: %v", err)}}
	}
	out := make(pack.Diagnostics, 0, len(es))
	for _, e := range es {
		field := e.Field
		if e.Rule != "" {
			field = "rule " + e.Rule + ": " + field
			if e.Field == "" {
				field = "rule " + e.Rule
			}
		}
		out = append(out, pack.Diagnostic{
			Pos:     e.Pos,
			Field:   field,
			Message: e.Msg,
		})
	}
	return out
}

func workflowDiagnostics(a *pack.Action, err error) pack.Diagnostics {
	var es workflow.Errors
	if !errors.As(err, &es) {
		return pack.Diagnostics{{Pos: a.Pos, Message: fmt.Sprintf("compiling workflow %s: %v", a.Ref, err)}}
	}
	out := make(pack.Diagnostics, 0, len(es))
	for _, e := range es {
		field := ""
		if e.Task != "" {
			field = "task " + e.Task
		}
		pos := e.Pos
		if pos.File == "" {
			pos = pack.Pos{File: a.EntryPointPath}
		}
		out = append(out, pack.Diagnostic{Pos: pos, Field: field, Message: e.Msg})
	}
	return out
}
