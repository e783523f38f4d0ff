package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/store"
)

// reRunState is the name of the Pass state a workflow re-run from a task
// starts with: it restores the variables and the task's input, and goes
// on to the task's state.
const reRunState = "bwc.rerun"

// ReRunTasks starts a new execution of the workflow of execution id that
// starts at the given task (st2's `re-run --tasks`), with the workflow's
// variables and the task's input as the original run had them when it
// last entered the task; nothing else of the original is reused (the task
// and those after it run again). The task must be a top-level state of
// the workflow's state machine: ASL cannot start inside a Parallel branch
// (a fork) or a Map iteration (with items), and runs one top-level state
// at a time, so one task is given.
//
// Outcomes: the new execution (status requested or scheduled);
// store.ErrNotFound (no such execution); an error matching
// store.ErrConflict (not a workflow, the workflow is no longer loaded or
// is disabled, or the original predates the recording of its tasks'
// starting points); a *enforcer.ParameterError with pointers under /tasks
// naming unknown tasks, tasks the original never reached, tasks inside a
// branch, or more than one task; a storage error.
func (x *Executor) ReRunTasks(ctx context.Context, id string, tasks []string, user string) (store.Execution, error) {
	orig, err := x.st.GetExecution(ctx, id)
	if err != nil {
		return store.Execution{}, fmt.Errorf("re-running %s: %w", id, err)
	}
	if orig.Runner != pack.RunnerWorkflow && orig.Runner != pack.RunnerASL {
		return store.Execution{}, fmt.Errorf("re-running %s from tasks: it ran %s, a %s action; only workflows re-run from tasks: %w", id, orig.Action, orig.Runner, store.ErrConflict)
	}
	a := x.actions.Action(orig.Action)
	var m *asl.Machine
	if x.workflows != nil {
		m = x.workflows.machines[orig.Action]
	}
	switch {
	case a == nil || m == nil:
		return store.Execution{}, fmt.Errorf("re-running %s: workflow %s is not loaded (or its state machine did not parse): %w", id, orig.Action, store.ErrConflict)
	case !a.Enabled:
		return store.Execution{}, fmt.Errorf("re-running %s: %w", id, ErrActionDisabled)
	}
	children, err := x.children(ctx, id)
	if err != nil {
		return store.Execution{}, fmt.Errorf("re-running %s: %w", id, err)
	}
	known := taskNames(m)
	var problems []enforcer.Problem
	var starts []*store.WorkflowState
	if len(tasks) == 0 {
		problems = append(problems, enforcer.Problem{Pointer: "", Message: "no task given: name the task to start at"})
	}
	for i, task := range tasks {
		ptr := fmt.Sprintf("/%d", i)
		if !known[task] {
			problems = append(problems, enforcer.Problem{Pointer: ptr, Message: fmt.Sprintf("workflow %s has no task %q (its tasks: %s)", orig.Action, task, strings.Join(sortedNames(known), ", "))})
			continue
		}
		// Children are listed newest first: the last time the task ran.
		i := slices.IndexFunc(children, func(c store.Execution) bool { return c.Context.WorkflowTask == task })
		if i < 0 {
			problems = append(problems, enforcer.Problem{Pointer: ptr, Message: fmt.Sprintf("task %s never ran in execution %s: a re-run starts at a task the original reached", task, id)})
			continue
		}
		ws := children[i].Context.WorkflowState
		if ws == nil {
			return store.Execution{}, fmt.Errorf("re-running %s from task %s: its child execution %s was recorded without the workflow's state (it predates re-runs from tasks): %w", id, task, children[i].ID, store.ErrConflict)
		}
		if ws.State == "" || !topStates(m)[ws.State] || len(ws.Vars) == 0 {
			problems = append(problems, enforcer.Problem{Pointer: ptr, Message: fmt.Sprintf("task %s runs inside a Parallel branch (a fork) or a Map iteration (with items), as state %s: a re-run cannot start inside one; start at a task before the fork or the items", task, ws.State)})
			continue
		}
		starts = append(starts, ws)
	}
	if len(problems) == 0 && len(tasks) > 1 {
		problems = append(problems, enforcer.Problem{Pointer: "", Message: fmt.Sprintf("%d tasks given (%s): a workflow runs one top-level task at a time, so a re-run starts at one", len(tasks), strings.Join(tasks, ", "))})
	}
	if len(problems) > 0 {
		return store.Execution{}, &enforcer.ParameterError{Action: orig.Action, In: "/tasks", Problems: problems}
	}
	start := *starts[0]
	return x.Start(ctx, enforcer.StartRequest{
		ExecutionID: x.opts.NewID(),
		Action:      a,
		Parameters:  orig.Parameters,
		Secret:      orig.SecretParameters,
		Context: store.ExecutionContext{
			User:       user,
			TraceTag:   orig.Context.TraceTag,
			ReRunOf:    orig.ID,
			ReRunTasks: tasks,
			ReRunStart: &start,
		},
	})
}

// children lists every child execution of id, newest first.
func (x *Executor) children(ctx context.Context, id string) ([]store.Execution, error) {
	var all []store.Execution
	q := store.ExecutionQuery{ParentID: id, Limit: store.MaxLimit}
	for {
		page, err := x.st.ListExecutions(ctx, q)
		if err != nil {
			return all, fmt.Errorf("listing the children of %s: %w", id, err)
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		q.Token = page.Next
	}
}

// taskNames lists the workflow tasks of a machine: the task each Task
// state names in its payload's context.
func taskNames(m *asl.Machine) map[string]bool {
	out := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if c, ok := t["context"].(map[string]any); ok {
				if name, ok := c["task"].(string); ok && name != "" {
					out[name] = true
				}
			}
			for _, e := range t {
				walk(e)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(m.Definition())
	return out
}

func sortedNames(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// reRunMachine is m starting at the state of start: a Pass state first
// restores the variables (from the execution's input, see reRunInput) and
// hands the state its input; the states it cannot reach are left out.
func reRunMachine(m *asl.Machine, start *store.WorkflowState) (*asl.Machine, error) {
	raw, err := json.Marshal(m.Definition())
	if err != nil {
		return nil, fmt.Errorf("copying the definition: %w", err)
	}
	var def map[string]any
	if err := json.Unmarshal(raw, &def); err != nil {
		return nil, fmt.Errorf("copying the definition: %w", err)
	}
	states, _ := def["States"].(map[string]any)
	if _, ok := states[start.State]; !ok {
		return nil, fmt.Errorf("the state machine has no top-level state %s", start.State)
	}
	if _, ok := states[reRunState]; ok {
		return nil, fmt.Errorf("the state machine has a state named %s already", reRunState)
	}
	var vars map[string]json.RawMessage
	if len(start.Vars) > 0 {
		if err := json.Unmarshal(start.Vars, &vars); err != nil {
			return nil, fmt.Errorf("the recorded variables: %w", err)
		}
	}
	pass := map[string]any{
		"Type":          "Pass",
		"QueryLanguage": "JSONata",
		"Comment":       "re-run: the variables and input the original run had at " + start.State,
		"Output":        "{% $states.input.input %}",
		"Next":          start.State,
	}
	if len(vars) > 0 {
		assign := map[string]any{}
		for name := range vars {
			assign[name] = "{% $lookup($states.input.vars, " + jsonString(name) + ") %}"
		}
		pass["Assign"] = assign
	}
	states[reRunState] = pass
	def["StartAt"] = reRunState
	// ASL refuses states that cannot be reached: those only before the
	// start are left out.
	reached := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		st, ok := states[name].(map[string]any)
		if !ok || reached[name] {
			return
		}
		reached[name] = true
		for _, f := range []string{"Next", "Default"} {
			if next, ok := st[f].(string); ok {
				visit(next)
			}
		}
		for _, f := range []string{"Choices", "Catch"} {
			list, _ := st[f].([]any)
			for _, e := range list {
				if rule, ok := e.(map[string]any); ok {
					if next, ok := rule["Next"].(string); ok {
						visit(next)
					}
				}
			}
		}
	}
	visit(reRunState)
	for name := range states {
		if !reached[name] {
			delete(states, name)
		}
	}
	rm, err := asl.ParseValue(def)
	if err != nil {
		return nil, fmt.Errorf("parsing the re-run's state machine: %w", err)
	}
	return rm, nil
}

// reRunInput is the input of a re-run's execution: the variables and the
// state's input, which the first state (reRunMachine) takes apart.
func reRunInput(start *store.WorkflowState) map[string]any {
	if start == nil {
		return nil
	}
	in := map[string]any{"vars": map[string]any{}, "input": nil}
	var vars map[string]any
	if json.Unmarshal(start.Vars, &vars) == nil && vars != nil {
		in["vars"] = vars
	}
	var input any
	if json.Unmarshal(start.Input, &input) == nil {
		in["input"] = input
	}
	return in
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
