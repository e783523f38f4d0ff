package asl

import (
	"context"
	"encoding/json"
	"fmt"
)

// ChildExecutions is a TaskPort that runs arn:aws:states:::states:startExecution
// tasks (plain, .sync and .sync:2) as child executions on an interpreter,
// and passes every other task to Next. Children run in-process to
// completion within the parent's task; a child that stops to wait for a
// task token fails the parent's task (States.TaskFailed) — the embedded
// engine runs such children itself, through its own port.
//
// Build it, pass it to New with WithTaskPort, then set Interpreter:
//
//	cp := &asl.ChildExecutions{Machines: lookup, Next: port}
//	in := asl.New(asl.WithTaskPort(cp))
//	cp.Interpreter = in
type ChildExecutions struct {
	// Interpreter runs the children (usually the parent's).
	Interpreter *Interpreter
	// Machines resolves a StateMachineArn; an error fails the task with
	// States.TaskFailed (StateMachineDoesNotExist on AWS).
	Machines func(arn string) (*Machine, error)
	// Next runs every other task.
	Next TaskPort
}

// RunTask implements TaskPort.
func (c *ChildExecutions) RunTask(ctx context.Context, req *TaskRequest) (TaskResult, error) {
	if req.Kind != "states" || req.Action != "startExecution" {
		if c.Next == nil {
			return TaskResult{}, &Failure{Name: ErrTaskFailed, Cause: fmt.Sprintf("no task port for %s", req.Resource)}
		}
		return c.Next.RunTask(ctx, req)
	}
	params, _ := req.Parameters.(map[string]any)
	arn, _ := params["StateMachineArn"].(string)
	m, err := c.Machines(arn)
	if err != nil {
		return TaskResult{}, &Failure{Name: "StepFunctions.StateMachineDoesNotExistException", Cause: fmt.Sprintf("State Machine Does Not Exist: '%s': %v", arn, err)}
	}
	input := params["Input"]
	if s, ok := input.(string); ok {
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			input = v
		}
	}
	if input == nil {
		input = map[string]any{}
	}
	name, _ := params["Name"].(string)
	x, err := c.Interpreter.Start(ctx, m, input, StartOptions{Name: name, StateMachineName: machineName(arn)})
	if err != nil {
		return TaskResult{}, fmt.Errorf("starting child execution of %s: %w", arn, err)
	}
	d := x.Describe()
	submission := map[string]any{"ExecutionArn": d.ExecutionARN, "StartDate": float64(d.StartDate.UnixMilli())}
	if req.Pattern == "" {
		return TaskResult{Output: submission}, nil
	}
	if err := x.RunUntilDone(ctx); err != nil {
		return TaskResult{}, fmt.Errorf("running child execution %s: %w", d.ExecutionARN, err)
	}
	d = x.Describe()
	desc := map[string]any{
		"ExecutionArn": d.ExecutionARN, "StateMachineArn": d.StateMachineARN, "Name": d.Name, "Status": d.Status,
		"StartDate": float64(d.StartDate.UnixMilli()), "StopDate": float64(d.StopDate.UnixMilli()),
		"Input": jsonOrString(d.Input, req.Pattern), "InputDetails": map[string]any{"Included": true},
	}
	switch d.Status {
	case StatusSucceeded:
		desc["Output"] = jsonOrString(d.Output, req.Pattern)
		desc["OutputDetails"] = map[string]any{"Included": true}
		return TaskResult{Output: Submitted{Submission: submission, Result: desc}}, nil
	case StatusRunning:
		return TaskResult{Output: Submitted{Submission: submission}}, &Failure{Name: ErrTaskFailed,
			Cause: fmt.Sprintf("child execution %s waits for a task token; in-process child executions must run to completion", d.ExecutionARN)}
	}
	desc["Error"], desc["Cause"] = d.Error, d.Cause
	return TaskResult{Output: Submitted{Submission: submission}}, &Failure{Name: ErrTaskFailed, Cause: compactJSON(desc)}
}

// jsonOrString gives .sync:2 its JSON values and .sync its JSON text.
func jsonOrString(v any, pattern string) any {
	if pattern == "sync:2" {
		return v
	}
	return compactJSON(v)
}
