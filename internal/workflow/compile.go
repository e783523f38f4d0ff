package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/bwc-project/bwc/internal/jsonata"
	"github.com/bwc-project/bwc/internal/spell"
)

// Action kinds, as the compiler needs them: how a task invokes its action.
const (
	KindRunner   = "runner"   // run by the runner function (shell, http, ssh, go, noop...)
	KindInquiry  = "inquiry"  // core.ask: waits for a response (task token)
	KindWorkflow = "workflow" // a child state machine (workflow or asl runner)
)

// ActionKinds tells the compiler what kind each action reference is; ok is
// false for an action that does not exist.
type ActionKinds func(ref string) (kind string, ok bool)

// KindOfRunner maps a pack action's runner type to the compiler's kind.
func KindOfRunner(runnerType string) string {
	switch runnerType {
	case "inquirer":
		return KindInquiry
	case "workflow", "asl":
		return KindWorkflow
	}
	return KindRunner
}

// Definition substitutions the CDK app (and the embedded engine) fill in.
const (
	RunnerFunctionArn = "${RunnerFunctionArn}"
	lambdaInvoke      = "arn:aws:states:::lambda:invoke"
	lambdaInvokeToken = "arn:aws:states:::lambda:invoke.waitForTaskToken"
	startExecSync2    = "arn:aws:states:::states:startExecution.sync:2"
	stateStart        = "bwc.start"
	stateVars         = "bwc.vars"
	stateEnd          = "bwc.end"
	stateFailCommand  = "bwc.fail"
	// FailCommandError is the error of a workflow failed by `do: fail`.
	FailCommandError = "bwc.WorkflowFailed"
)

// StateMachineArnParam is the definition substitution naming the state
// machine of a workflow action.
func StateMachineArnParam(ref string) string {
	var b strings.Builder
	for _, c := range ref {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return "StateMachineArn_" + b.String()
}

// Machine is a compiled workflow.
type Machine struct {
	Ref        string
	Definition map[string]any
	// States lists, for each task, the ASL states it became, in order.
	States map[string][]string
	// Substitutions are the ${...} names the definition uses.
	Substitutions []string
}

// JSON returns the definition as indented, deterministic JSON with a
// trailing newline.
func (m *Machine) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m.Definition); err != nil {
		return nil, fmt.Errorf("encoding state machine %s: %w", m.Ref, err)
	}
	return buf.Bytes(), nil
}

type compiler struct {
	w        *Workflow
	ref      string
	kinds    ActionKinds
	errs     Errors
	cur      *scope // where states are being added
	all      map[string]bool
	names    map[string][]string
	subs     map[string]bool
	incoming map[string][]string
	owner    map[string]*region
	forkAt   map[string]map[int]*fork
	isJoin   map[string]bool
}

// scope is the States map being filled: the machine's top level or a
// Parallel branch.
type scope struct {
	states  map[string]any
	end     string // where a finished path goes
	failCmd string // where `do: fail` goes
	stop    string // the join task that ends this branch, if any
	failed  bool   // some transition goes to failCmd
}

// addFailCommand adds the scope's Fail state for `do: fail` when a
// transition uses it (Step Functions rejects unreachable states).
func (c *compiler) addFailCommand() {
	if !c.cur.failed {
		return
	}
	c.add("", c.cur.failCmd, map[string]any{
		"Type":  "Fail",
		"Error": FailCommandError,
		"Cause": "a task transitioned to the fail command",
	})
}

func (c *compiler) errorf(pos Pos, task, format string, args ...any) {
	c.errs = append(c.errs, &Error{Pos: pos, Task: task, Msg: fmt.Sprintf(format, args...)})
}

// Compile compiles a parsed workflow to a state machine. ref is the
// workflow action's reference; kinds resolves the actions its tasks call.
func Compile(w *Workflow, ref string, kinds ActionKinds) (*Machine, error) {
	c := &compiler{w: w, ref: ref, kinds: kinds, all: map[string]bool{}, names: map[string][]string{}, subs: map[string]bool{}, incoming: map[string][]string{}, isJoin: map[string]bool{}}
	c.cur = &scope{states: map[string]any{}, end: stateEnd, failCmd: stateFailCommand}
	top := c.cur
	c.checkGraph()
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	starts := c.startTasks()
	if len(starts) != 1 {
		// checkGraph reported it
		return nil, c.errs
	}
	main := c.planRegions(starts[0])
	for _, name := range w.Order {
		if c.owner[name] == nil {
			c.errorf(w.Tasks[name].Pos, name, "this task is never reached from the start task %s", starts[0])
		}
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	c.compileStart(starts[0])
	for _, name := range w.Order {
		if c.owner[name] == main {
			c.compileTask(w.Tasks[name])
		}
	}
	c.compileEnd()
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	def := map[string]any{
		"Comment":       strings.TrimSpace(fmt.Sprintf("%s (BWC workflow %s, generated; do not edit)", w.Description, ref)),
		"QueryLanguage": "JSONata",
		"StartAt":       stateStart,
		"States":        top.states,
	}
	m := &Machine{Ref: ref, Definition: def, States: c.names}
	for s := range c.subs {
		m.Substitutions = append(m.Substitutions, s)
	}
	sort.Strings(m.Substitutions)
	return m, nil
}

// checkGraph validates references between tasks and the shape of the graph.
func (c *compiler) checkGraph() {
	for _, name := range c.w.Order {
		t := c.w.Tasks[name]
		if _, ok := c.kinds(t.Action); !ok && t.Action != "" {
			c.errorf(t.Pos, name, "action %q does not exist", t.Action)
		}
		for _, tr := range t.Next {
			for _, d := range tr.Do {
				switch {
				case d == CmdFail || d == CmdNoop || d == CmdContinue:
				case c.w.Tasks[d] == nil:
					c.errorf(tr.Pos, name, "do: task %q does not exist%s", d, spell.Suggest(d, c.w.Order))
				default:
					c.incoming[d] = append(c.incoming[d], name)
				}
			}
		}
	}
	starts := c.startTasks()
	switch {
	case len(starts) == 0 && len(c.w.Order) > 0:
		c.errorf(c.w.Tasks[c.w.Order[0]].Pos, "", "no start task: every task is the target of a transition; the first task to run must have none")
	case len(starts) > 1:
		c.errorf(c.w.Tasks[starts[1]].Pos, "", "several start tasks (%s): tasks with no incoming transition all start at once, which needs a fork; make one task the start and chain the others", strings.Join(starts, ", "))
	}
}

func (c *compiler) startTasks() []string {
	var out []string
	for _, name := range c.w.Order {
		if len(c.incoming[name]) == 0 {
			out = append(out, name)
		}
	}
	return out
}

func (c *compiler) add(task, state string, def map[string]any) {
	if c.all[state] {
		c.errorf(Pos{File: c.w.File}, task, "state name %q is used twice; rename the task", state)
		return
	}
	c.all[state] = true
	c.cur.states[state] = def
	if task != "" {
		c.names[task] = append(c.names[task], state)
	}
}

// entry is the first state of a task.
func (c *compiler) entry(task string) string {
	if c.w.Tasks[task].Delay != nil {
		return task + ".delay"
	}
	return task
}

func (c *compiler) compileStart(first string) {
	assign := map[string]any{}
	for _, in := range c.w.Input {
		field := "$states.input." + jsonataName(in.Name)
		if in.HasDefault {
			if expr, ok := templateExpr(in.Value); ok {
				assign[in.Name] = "{% $exists(" + field + ") ? " + field + " : (" + expr + ") %}"
			} else {
				assign[in.Name] = "{% $exists(" + field + ") ? " + field + " : " + literal(in.Value) + " %}"
			}
			continue
		}
		assign[in.Name] = "{% " + field + " %}"
	}
	for _, name := range c.w.Order {
		if r := c.w.Tasks[name].Retry; r != nil && !retryOnFailureOnly(r.When) {
			assign[retryCounter(name)] = 0
		}
	}
	next := c.entry(first)
	if len(c.w.Vars) > 0 {
		next = stateVars
	}
	start := map[string]any{"Type": "Pass", "Comment": "workflow input", "Next": next}
	if len(assign) > 0 {
		start["Assign"] = assign
	}
	c.add("", stateStart, start)
	if len(c.w.Vars) > 0 {
		vars := map[string]any{}
		for _, v := range c.w.Vars {
			vars[v.Name] = c.expression(v.Value, Pos{}, "", "vars."+v.Name)
		}
		c.add("", stateVars, map[string]any{"Type": "Pass", "Comment": "workflow vars", "Assign": vars, "Next": c.entry(first)})
	}
}

func (c *compiler) compileEnd() {
	end := map[string]any{"Type": "Pass", "Comment": "workflow output", "End": true}
	out := map[string]any{}
	for _, o := range c.w.Output {
		out[o.Name] = c.expression(o.Value, o.Pos, "", "output."+o.Name)
	}
	end["Output"] = out
	c.add("", stateEnd, end)
	c.addFailCommand()
}

var (
	reSucceeded = regexp.MustCompile(`\$succeeded\(\s*\)`)
	reFailed    = regexp.MustCompile(`\$failed\(\s*\)`)
	reResult    = regexp.MustCompile(`\$result\b`)
	reOr        = regexp.MustCompile(`\bor\b`)
)

// condition rewrites a transition's when for one path (success or failure):
// $succeeded() and $failed() become true or false, $result the state's
// input. It reports whether the condition can hold on that path: one that is
// then false outright, or false conjoined with more (and no `or` anywhere,
// which could rescue it), is left out.
func condition(when string, success bool) (string, bool) {
	if when == "" {
		return "true", true
	}
	expr, ok := templateExpr(when)
	if !ok {
		return "", false
	}
	s, f := "true", "false"
	if !success {
		s, f = "false", "true"
	}
	expr = reSucceeded.ReplaceAllString(expr, s)
	expr = reFailed.ReplaceAllString(expr, f)
	expr = reResult.ReplaceAllString(expr, "$$states.input")
	t := strings.TrimSpace(expr)
	if t == "false" || strings.HasPrefix(t, "false and ") && !reOr.MatchString(t) {
		return "", false
	}
	return expr, true
}

func (c *compiler) compileTask(t *Task) {
	name := t.Name
	kind, _ := c.kinds(t.Action)

	if t.Delay != nil {
		wait := map[string]any{"Type": "Wait", "Next": name}
		switch d := t.Delay.(type) {
		case float64:
			if d < 0 {
				c.errorf(t.Pos, name, "delay: found %v, expected seconds (a non-negative number)", d)
			}
			wait["Seconds"] = d
		case string:
			if _, ok := templateExpr(d); !ok {
				c.errorf(t.Pos, name, "delay: found %q, expected seconds or an expression \"{%% ... %%}\"", d)
			}
			wait["Seconds"] = c.expression(d, t.Pos, name, "delay")
		default:
			c.errorf(t.Pos, name, "delay: expected seconds")
		}
		c.add(name, name+".delay", wait)
	}

	params := map[string]any{}
	for _, k := range sortedKeys(t.Input) {
		params[k] = c.expression(t.Input[k], t.Pos, name, "input."+k)
	}
	// In a task's input, $result is the result of the task that led here
	// (the state's input). A with-items task's input sees the item instead,
	// and a join's the branches' results, so there it is an error.
	if usesResult(params) {
		switch {
		case t.With != nil:
			c.errorf(t.Pos, name, "input: $result is not available in a task with `with` (its input sees $item); publish what you need from the previous task and use the variable")
		case t.Join != "":
			c.errorf(t.Pos, name, "input: $result is not available in a join task; publish what you need in each branch and use the variables")
		default:
			params, _ = rewriteResult(params).(map[string]any)
		}
	}
	state := c.invoke(t, kind, params)

	successRules, failureRules := c.rules(t)
	next := c.cur.end
	if len(successRules) > 0 {
		next = name + ".next"
	}
	catchTarget := name + ".fail"
	if len(failureRules) > 0 {
		catchTarget = name + ".failed"
	}
	if t.Retry != nil {
		if retryOnFailureOnly(t.Retry.When) {
			c.retry(t, state)
		} else {
			next, catchTarget = c.retryLoop(t, next, catchTarget)
		}
	}
	state["Next"] = next
	state["Catch"] = []any{map[string]any{
		"ErrorEquals": []any{"States.ALL"},
		"Next":        catchTarget,
		"Output":      "{% ($e := $states.errorOutput; $c := $e.Cause; $merge([($type($c) = \"string\" and $substring($c, 0, 1) = \"{\" ? $parse($c) : {}), {\"error\": $e.Error, \"cause\": $c}])) %}",
	}}
	c.add(name, name, state)
	if len(successRules) > 0 {
		c.add(name, name+".next", map[string]any{"Type": "Choice", "Choices": successRules, "Default": c.cur.end})
	}
	if len(failureRules) > 0 {
		c.add(name, name+".failed", map[string]any{"Type": "Choice", "Choices": failureRules, "Default": name + ".fail"})
	}
	c.add(name, name+".fail", map[string]any{
		"Type":    "Fail",
		"Comment": "task " + name + " failed and no transition handles it",
		"Error":   "{% $type($states.input.error) = \"string\" ? $states.input.error : \"States.TaskFailed\" %}",
		"Cause":   "{% $type($states.input.cause) = \"string\" ? $states.input.cause : $string($states.input) %}",
	})
	forks := c.forkAt[name]
	idx := make([]int, 0, len(forks))
	for i := range forks {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		c.compileFork(forks[i])
	}
}

// invoke builds the state that runs a task's action.
func (c *compiler) invoke(t *Task, kind string, params map[string]any) map[string]any {
	ctxArg := map[string]any{
		"workflow_execution": "{% $states.context.Execution.Id %}",
		"workflow":           c.ref,
		"task":               t.Name,
	}
	var task map[string]any
	switch kind {
	case KindWorkflow:
		p := StateMachineArnParam(t.Action)
		c.subs[p] = true
		task = map[string]any{
			"Type":     "Task",
			"Resource": startExecSync2,
			"Arguments": map[string]any{
				"StateMachineArn": "${" + p + "}",
				"Input":           map[string]any{"parameters": params, "context": ctxArg},
			},
			"Output": "{% $states.result.Output %}",
		}
	case KindInquiry:
		c.subs["RunnerFunctionArn"] = true
		task = map[string]any{
			"Type":     "Task",
			"Resource": lambdaInvokeToken,
			"Arguments": map[string]any{
				"FunctionName": RunnerFunctionArn,
				"Payload": map[string]any{
					"action": t.Action, "parameters": params, "context": ctxArg,
					"task_token": "{% $states.context.Task.Token %}",
				},
			},
			"Output": "{% $states.result %}",
		}
	default:
		c.subs["RunnerFunctionArn"] = true
		task = map[string]any{
			"Type":     "Task",
			"Resource": lambdaInvoke,
			"Arguments": map[string]any{
				"FunctionName": RunnerFunctionArn,
				"Payload":      map[string]any{"action": t.Action, "parameters": params, "context": ctxArg},
			},
			"Output": "{% $states.result.Payload %}",
		}
	}
	if t.With == nil {
		return task
	}
	// with-items: a Map state whose item processor binds $item and runs
	// the action once per item.
	items := c.expression(t.With.Items, t.With.Pos, t.Name, "with.items")
	task["End"] = true
	processor := map[string]any{
		"ProcessorConfig": map[string]any{"Mode": "INLINE"},
		"StartAt":         t.Name + ".item",
		"States": map[string]any{
			t.Name + ".item":   map[string]any{"Type": "Pass", "Assign": map[string]any{"item": "{% $states.input %}"}, "Next": t.Name + ".action"},
			t.Name + ".action": task,
		},
	}
	m := map[string]any{"Type": "Map", "Items": items, "ItemProcessor": processor}
	switch cc := t.With.Concurrency.(type) {
	case nil:
	case float64:
		if cc < 0 || cc != float64(int(cc)) {
			c.errorf(t.With.Pos, t.Name, "with.concurrency: found %v, expected a non-negative integer", cc)
		}
		m["MaxConcurrency"] = cc
	case string:
		m["MaxConcurrency"] = c.expression(cc, t.With.Pos, t.Name, "with.concurrency")
	default:
		c.errorf(t.With.Pos, t.Name, "with.concurrency: expected a number")
	}
	return m
}

// rules builds the Choice rules of a task's success and failure paths.
func (c *compiler) rules(t *Task) (success, failure []any) {
	for i, tr := range t.Next {
		target := c.cur.end
		switch {
		case c.forkAt[t.Name][i] != nil:
			target = c.forkAt[t.Name][i].state
		case len(tr.Do) == 1:
			switch d := tr.Do[0]; {
			case d == CmdFail:
				target = c.cur.failCmd
				c.cur.failed = true
			case d == CmdNoop || d == CmdContinue || d == c.cur.stop:
				target = c.cur.end
			case c.w.Tasks[d] != nil:
				target = c.entry(d)
			}
		}
		if tr.When != "" {
			if _, ok := templateExpr(tr.When); !ok {
				c.errorf(tr.Pos, t.Name, "next[%d].when: found %q, expected a JSONata condition \"{%% ... %%}\"", i, tr.When)
				continue
			}
		}
		for _, okPath := range []bool{true, false} {
			cond, holds := condition(tr.When, okPath)
			if !holds {
				continue
			}
			c.checkExpr(cond, tr.Pos, t.Name, fmt.Sprintf("next[%d].when", i))
			rule := map[string]any{"Condition": "{% " + cond + " %}", "Next": target}
			if len(tr.Publish) > 0 {
				assign := map[string]any{}
				for _, p := range tr.Publish {
					v := c.expression(p.Value, p.Pos, t.Name, "publish."+p.Name)
					assign[p.Name] = rewriteResult(v)
				}
				rule["Assign"] = assign
			}
			if okPath {
				success = append(success, rule)
			} else {
				failure = append(failure, rule)
			}
		}
	}
	return success, failure
}

// retryOnFailureOnly reports whether a retry's when is empty or only
// $failed(): retries that a Retry block expresses.
func retryOnFailureOnly(when string) bool {
	if when == "" {
		return true
	}
	expr, ok := templateExpr(when)
	return ok && strings.TrimSpace(reFailed.ReplaceAllString(expr, "")) == ""
}

// retry adds a Retry block to a task state: the action runs again when it
// fails, Count more times, Delay seconds apart.
func (c *compiler) retry(t *Task, state map[string]any) {
	r := t.Retry
	interval := int(r.Delay)
	if interval < 1 {
		interval = 1
	}
	state["Retry"] = []any{map[string]any{
		"ErrorEquals":     []any{"States.ALL"},
		"MaxAttempts":     r.Count,
		"IntervalSeconds": interval,
		"BackoffRate":     1,
	}}
}

// retryCounter is the variable that counts a task's counted retries.
func retryCounter(task string) string {
	var b strings.Builder
	b.WriteString("bwc_retries_")
	for _, r := range task {
		if isIdentRune(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// retryLoop compiles a retry whose when looks at the result into a counted
// loop: after the action, a Choice runs it again (after the delay) while
// the condition holds and fewer than Count retries were made; otherwise the
// counter is reset and the task's transitions follow. It returns the new
// targets of the task's success and failure paths.
func (c *compiler) retryLoop(t *Task, next, catchTarget string) (string, string) {
	r, name := t.Retry, t.Name
	expr, ok := templateExpr(r.When)
	if !ok {
		c.errorf(r.Pos, name, "retry.when: found %q, expected a JSONata condition \"{%% ... %%}\"", r.When)
		return next, catchTarget
	}
	c.checkExpr(expr, r.Pos, name, "retry.when")
	if reg := c.owner[name]; reg != nil && reg.parent != nil {
		c.errorf(r.Pos, name, "retry.when: a retry that looks at the result is not supported inside a fork's branch yet; use `when: \"{%% $failed() %%}\"` or move the task out of the fork")
		return next, catchTarget
	}
	counter := retryCounter(name)
	again := name
	if r.Delay > 0 {
		again = name + ".retry-wait"
		c.add(name, again, map[string]any{"Type": "Wait", "Comment": "delay before retrying task " + name, "Seconds": r.Delay, "Next": name})
	}
	loop := func(success bool, target, choice, reset string) string {
		cond, holds := condition(r.When, success)
		if !holds {
			return target
		}
		c.add(name, choice, map[string]any{
			"Type":    "Choice",
			"Comment": "retry task " + name + " while its retry.when holds",
			"Choices": []any{map[string]any{
				"Condition": fmt.Sprintf("{%% (%s) and $%s < %d %%}", cond, counter, r.Count),
				"Assign":    map[string]any{counter: "{% $" + counter + " + 1 %}"},
				"Next":      again,
			}},
			"Default": reset,
		})
		c.add(name, reset, map[string]any{"Type": "Pass", "Assign": map[string]any{counter: 0}, "Next": target})
		return choice
	}
	next = loop(true, next, name+".retry", name+".retry-done")
	catchTarget = loop(false, catchTarget, name+".retry-failed", name+".retry-failed-done")
	return next, catchTarget
}

// expression checks and rewrites a value that may hold JSONata templates.
func (c *compiler) expression(v any, pos Pos, task, field string) any {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "{{") {
			c.errorf(pos, task, "%s: %q: workflows use JSONata templates \"{%% ... %%}\", not {{ }}", field, x)
			return x
		}
		expr, ok := templateExpr(x)
		if !ok {
			if strings.Contains(x, "{%") {
				c.errorf(pos, task, "%s: %q: a JSONata template must be the whole value, \"{%% ... %%}\"", field, x)
			}
			return x
		}
		c.checkExpr(expr, pos, task, field)
		return "{% " + expr + " %}"
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = c.expression(e, pos, task, fmt.Sprintf("%s[%d]", field, i))
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for _, k := range sortedKeys(x) {
			out[k] = c.expression(x[k], pos, task, field+"."+k)
		}
		return out
	}
	return v
}

func (c *compiler) checkExpr(expr string, pos Pos, task, field string) {
	if _, err := jsonata.Compile(expr); err != nil {
		c.errorf(pos, task, "%s: invalid JSONata %q: %v", field, expr, err)
	}
}

func usesResult(v any) bool {
	switch x := v.(type) {
	case string:
		expr, ok := templateExpr(x)
		return ok && reResult.MatchString(expr)
	case []any:
		for _, e := range x {
			if usesResult(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if usesResult(e) {
				return true
			}
		}
	}
	return false
}

func rewriteResult(v any) any {
	switch x := v.(type) {
	case string:
		return reResult.ReplaceAllString(x, "$$states.input")
	case []any:
		for i := range x {
			x[i] = rewriteResult(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = rewriteResult(x[k])
		}
	}
	return v
}

func templateExpr(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	t := strings.TrimSpace(s)
	if len(t) >= 4 && strings.HasPrefix(t, "{%") && strings.HasSuffix(t, "%}") {
		return strings.TrimSpace(t[2 : len(t)-2]), true
	}
	return "", false
}

func literal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func jsonataName(n string) string {
	if isIdent(n) {
		return n
	}
	return "`" + n + "`"
}
