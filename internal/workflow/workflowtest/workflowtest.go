// Package workflowtest runs compiled workflows on BWC's ASL interpreter with
// scripted actions, for tests of the workflow compiler and of shipped packs:
// it checks what the generated state machines do, not their text.
package workflowtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/workflow"
)

// RunnerARN is the runner function's ARN substituted into the machines.
const RunnerARN = "arn:aws:lambda:us-east-1:123456789012:function:bwc-runner"

// Call is one action invocation a machine made.
type Call struct {
	Task    string
	Action  string
	Params  map[string]any
	Attempt int
	Token   string
	Kind    string // lambda:invoke, waitForTaskToken, startExecution
}

// Answer is what a scripted action returns: a result, a failure (an ASL
// error name and cause), or Pending for an action that answers later.
type Answer struct {
	Result  any
	Fail    *asl.Failure
	Pending bool
}

// actions is the task port: it records every call and answers from the
// script.
type actions struct {
	mu     sync.Mutex
	Calls  []Call
	script func(c Call, n int) Answer
}

// RunTask implements asl.TaskPort.
func (a *actions) RunTask(_ context.Context, req *asl.TaskRequest) (asl.TaskResult, error) {
	params, _ := req.Parameters.(map[string]any)
	c := Call{Attempt: req.Attempt, Token: req.TaskToken}
	var inner map[string]any
	switch {
	case req.Kind == "lambda" && req.Action == "invoke":
		if params["FunctionName"] != RunnerARN {
			return asl.TaskResult{}, fmt.Errorf("FunctionName = %v, want the substituted runner ARN", params["FunctionName"])
		}
		inner, _ = params["Payload"].(map[string]any)
		c.Kind = "lambda:invoke"
		if req.Pattern == "waitForTaskToken" {
			c.Kind = "waitForTaskToken"
			if inner["task_token"] != req.TaskToken {
				return asl.TaskResult{}, fmt.Errorf("payload task_token %v, want the task's token", inner["task_token"])
			}
		}
		c.Action, _ = inner["action"].(string)
	case req.Kind == "states" && req.Action == "startExecution" && req.Pattern == "sync:2":
		c.Kind = "startExecution"
		c.Action, _ = params["StateMachineArn"].(string)
		inner, _ = params["Input"].(map[string]any)
	default:
		return asl.TaskResult{}, fmt.Errorf("unexpected resource %s", req.Resource)
	}
	ctx, _ := inner["context"].(map[string]any)
	c.Task, _ = ctx["task"].(string)
	c.Params, _ = inner["parameters"].(map[string]any)
	a.mu.Lock()
	n := 0
	for _, p := range a.Calls {
		if p.Task == c.Task {
			n++
		}
	}
	a.Calls = append(a.Calls, c)
	a.mu.Unlock()
	ans := a.script(c, n)
	if ans.Fail != nil {
		return asl.TaskResult{}, ans.Fail
	}
	if ans.Pending || c.Kind == "waitForTaskToken" {
		return asl.TaskResult{Pending: true}, nil
	}
	if c.Kind == "startExecution" {
		return asl.TaskResult{Output: map[string]any{"Output": ans.Result, "Status": "SUCCEEDED"}}, nil
	}
	return asl.TaskResult{Output: map[string]any{"Payload": ans.Result, "StatusCode": 200}}, nil
}

// Tasks lists the tasks called, in order.
func (a *actions) Tasks() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, len(a.Calls))
	for i, c := range a.Calls {
		out[i] = c.Task
	}
	return out
}

// Last is the latest call of a task.
func (a *actions) Last(task string) Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.Calls) - 1; i >= 0; i-- {
		if a.Calls[i].Task == task {
			return a.Calls[i]
		}
	}
	return Call{}
}

// Harness is a running workflow.
type Harness struct {
	t       *testing.T
	X       *asl.Execution
	Actions *actions
	Clock   *asl.ManualClock
}

// Start runs a compiled workflow on the ASL interpreter with a manual clock
// and a task port that plays the actions with script (n counts earlier
// calls of the same task), until it ends or waits for an inquiry.
func Start(t *testing.T, m *workflow.Machine, input map[string]any, script func(c Call, n int) Answer) *Harness {
	t.Helper()
	def, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	clock := asl.NewManualClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	acts := &actions{script: script}
	in := asl.New(asl.WithTaskPort(acts), asl.WithClock(clock), asl.WithRandom(func() float64 { return 0.5 }))
	subs := map[string]string{"RunnerFunctionArn": RunnerARN}
	for _, s := range m.Substitutions {
		if strings.HasPrefix(s, "StateMachineArn_") {
			subs[s] = "arn:aws:states:us-east-1:123456789012:stateMachine:" + s
		}
	}
	machine, err := in.Parse(def, asl.WithSubstitutions(subs))
	if err != nil {
		t.Fatalf("the interpreter rejects the compiled machine: %v", err)
	}
	x, err := in.Start(context.Background(), machine, input, asl.StartOptions{StateMachineName: m.Ref})
	if err != nil {
		t.Fatal(err)
	}
	h := &Harness{t: t, X: x, Actions: acts, Clock: clock}
	h.Run()
	return h
}

// Run advances the execution until it ends or waits for a task token.
func (h *Harness) Run() {
	h.t.Helper()
	if err := h.X.RunUntilDone(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// Respond answers the pending inquiry of a task and runs on.
func (h *Harness) Respond(task string, response any) {
	h.t.Helper()
	c := h.Actions.Last(task)
	if c.Kind != "waitForTaskToken" {
		h.t.Fatalf("task %s is not waiting for a task token: %+v", task, c)
	}
	if err := h.X.SendTaskSuccess(context.Background(), c.Token, response); err != nil {
		h.t.Fatal(err)
	}
	h.Run()
}

// Reject fails the pending inquiry of a task and runs on.
func (h *Harness) Reject(task, errName, cause string) {
	h.t.Helper()
	c := h.Actions.Last(task)
	if err := h.X.SendTaskFailure(context.Background(), c.Token, errName, cause); err != nil {
		h.t.Fatal(err)
	}
	h.Run()
}

// Expect checks the status, the output (JSON; "" skips it) and the tasks
// run, in order.
func (h *Harness) Expect(status string, output string, tasks ...string) {
	h.t.Helper()
	d := h.X.Describe()
	if d.Status != status {
		h.t.Fatalf("status %s (%s: %s), want %s; tasks run: %v", d.Status, d.Error, d.Cause, status, h.Actions.Tasks())
	}
	if output != "" {
		got, _ := json.Marshal(d.Output)
		if string(got) != output {
			h.t.Errorf("output %s, want %s", got, output)
		}
	}
	if got := strings.Join(h.Actions.Tasks(), ","); got != strings.Join(tasks, ",") {
		h.t.Errorf("tasks run: %s, want %s", got, strings.Join(tasks, ","))
	}
}

// Stdout is a shell action's result with the given stdout.
func Stdout(s string) Answer { return Answer{Result: map[string]any{"stdout": s, "return_code": 0}} }

// ShellFailure is a failed shell action's error, as the runner reports it.
func ShellFailure(stderr string) *asl.Failure {
	// The cause is the failed execution's result as the engine records it
	// (and as the runner Lambda reports it): the command's output plus
	// {"error": {"name", "message"}}.
	cause, _ := json.Marshal(map[string]any{"stdout": "", "stderr": stderr, "return_code": 1,
		"error": map[string]any{"name": "bwc.ActionFailed", "message": "the command exited with code 1"}})
	return &asl.Failure{Name: "bwc.ActionFailed", Cause: string(cause)}
}
