package asl

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// resourceInfo splits a Task resource ARN.
type resourceInfo struct {
	kind    string // "lambda" (function ARN), "activity", or the service
	action  string
	pattern string
	direct  bool // a Lambda function ARN: Lambda* history events
	short   string
}

func parseResource(arn string) resourceInfo {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) >= 6 && parts[2] == "lambda" && parts[5] == "function" {
		return resourceInfo{kind: "lambda", direct: true}
	}
	if len(parts) >= 6 && parts[2] == "states" && parts[5] == "activity" {
		return resourceInfo{kind: "activity", direct: true}
	}
	if len(parts) >= 6 && parts[2] == "states" && parts[3] == "" && parts[4] == "" {
		rest := strings.Join(parts[5:], ":") // e.g. "lambda:invoke.waitForTaskToken" or "aws-sdk:s3:listBuckets"
		svc, api, _ := strings.Cut(rest, ":")
		if svc == "aws-sdk" {
			s2, a2, _ := strings.Cut(api, ":")
			svc, api = "aws-sdk:"+s2, a2
		}
		ri := resourceInfo{kind: svc}
		switch {
		case strings.HasSuffix(api, ".waitForTaskToken"):
			ri.pattern, api = "waitForTaskToken", strings.TrimSuffix(api, ".waitForTaskToken")
		case strings.HasSuffix(api, ".sync:2"):
			ri.pattern, api = "sync:2", strings.TrimSuffix(api, ".sync:2")
		case strings.HasSuffix(api, ".sync"):
			ri.pattern, api = "sync", strings.TrimSuffix(api, ".sync")
		}
		ri.action = api
		ri.short = api
		if ri.pattern != "" {
			ri.short = api + "." + ri.pattern
		}
		return ri
	}
	return resourceInfo{kind: "lambda", direct: true}
}

func (r *run) timeoutField(f *frame, st *State, v any, path, field string, input any, states map[string]any) (int, error) {
	if v == nil && path == "" {
		return 0, nil
	}
	if path != "" {
		val, ok, err := r.pathValue(f, path, input)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, &Failure{Name: ErrRuntime, Cause: missingPath(path, input)}
		}
		n, isNum := val.(float64)
		if !isNum || n < 1 || n != math.Trunc(n) {
			return 0, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The %s of state '%s' must be a positive integer", field, st.Name)}
		}
		return int(n), nil
	}
	if s, ok := v.(string); ok {
		val, err := r.jsonataField(f, st, field, s, states)
		if err != nil {
			return 0, err
		}
		n, isNum := val.(float64)
		if !isNum || n < 1 || n != math.Trunc(n) {
			src, _ := jsonataSource(s)
			return 0, &Failure{Name: ErrQueryEvaluationError, Cause: fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected 'integer', but was '%s' for value: %s", st.Name, f.Entered, src, field, jsonTypeName(val), compactJSON(val)), Location: field, State: st.Name}
		}
		return int(n), nil
	}
	n, _ := v.(float64)
	return int(n), nil
}

func (r *run) startTask(f *frame, st *State) {
	ri := parseResource(st.Resource)
	if f.Token == "" {
		f.Token = r.in.ids()
	}
	input := f.Input
	var params any
	var err error
	var timeout, heartbeat int
	if st.QueryLanguage == JSONata {
		states := r.statesVar(f, st, input)
		params = input
		if st.HasArguments {
			if params, err = r.jsonataField(f, st, "Arguments", st.Arguments, states); err != nil {
				r.handle(f, st, asFailure(err))
				return
			}
		}
		if timeout, err = r.timeoutField(f, st, st.TimeoutSeconds, "", "TimeoutSeconds", input, states); err == nil {
			heartbeat, err = r.timeoutField(f, st, st.HeartbeatSeconds, "", "HeartbeatSeconds", input, states)
		}
	} else {
		var eff any
		if eff, err = r.inputPath(f, st, input); err == nil {
			params = eff
			if st.HasParameters {
				params, err = r.parameters(f, st, eff)
			}
		}
		if err == nil {
			if timeout, err = r.timeoutField(f, st, st.TimeoutSeconds, st.TimeoutSecondsPath, "TimeoutSecondsPath", eff, nil); err == nil {
				heartbeat, err = r.timeoutField(f, st, st.HeartbeatSeconds, st.HeartbeatSecondsPath, "HeartbeatSecondsPath", eff, nil)
			}
		}
	}
	if err != nil {
		r.handle(f, st, asFailure(err))
		return
	}
	if size := jsonSize(params, maxPayloadBytes+1); size > maxPayloadBytes {
		r.handle(f, st, &Failure{Name: ErrDataLimitExceeded, Cause: fmt.Sprintf("The state/task '%s' input payload of size %d bytes exceeds the maximum of 262144 bytes", st.Name, size)})
		return
	}
	switch {
	case ri.kind == "activity":
		d := map[string]any{"resource": st.Resource, "input": params}
		if timeout > 0 {
			d["timeoutInSeconds"] = float64(timeout)
		}
		if heartbeat > 0 {
			d["heartbeatInSeconds"] = float64(heartbeat)
		}
		r.x.emit(f, "ActivityScheduled", "activityScheduledEventDetails", d)
	case ri.direct:
		d := map[string]any{"resource": st.Resource, "input": params}
		if timeout > 0 {
			d["timeoutInSeconds"] = float64(timeout)
		}
		r.x.emit(f, "LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", d)
	default:
		d := map[string]any{"resource": ri.short, "resourceType": ri.kind, "parameters": params, "region": r.in.region}
		if timeout > 0 {
			d["timeoutInSeconds"] = float64(timeout)
		}
		if heartbeat > 0 {
			d["heartbeatInSeconds"] = float64(heartbeat)
		}
		r.x.emit(f, "TaskScheduled", "taskScheduledEventDetails", d)
	}
	req := &TaskRequest{ExecutionID: r.x.st.ARN, StateName: st.Name, Resource: st.Resource, Kind: ri.kind, Action: ri.action,
		Pattern: ri.pattern, Parameters: params, TaskToken: f.Token, Attempt: f.RetryCount,
		TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat, Credentials: st.Credentials}
	switch {
	case ri.kind == "activity":
		r.x.emit(f, "ActivityStarted", "activityStartedEventDetails", map[string]any{"workerName": "bwc"})
	case ri.direct:
		r.x.emit(f, "LambdaFunctionStarted", "", nil)
	default:
		r.x.emit(f, "TaskStarted", "taskStartedEventDetails", map[string]any{"resource": ri.short, "resourceType": ri.kind})
	}
	res, err := r.in.tasks.RunTask(r.ctx, req)
	if sub, ok := res.Output.(Submitted); ok && err != nil {
		r.x.emit(f, "TaskSubmitted", "taskSubmittedEventDetails", map[string]any{"output": sub.Submission, "resource": ri.short, "resourceType": ri.kind})
	}
	if err != nil {
		e := asFailure(err)
		r.taskFailed(f, st, e, e.Name == ErrTimeout || e.Name == ErrHeartbeatTimeout)
		return
	}
	if ri.pattern == "waitForTaskToken" || res.Pending {
		if ri.pattern == "waitForTaskToken" || res.Output != nil {
			r.x.emit(f, "TaskSubmitted", "taskSubmittedEventDetails", map[string]any{"output": res.Output, "resource": ri.short, "resourceType": ri.kind})
		}
		now := r.x.now()
		if timeout == 0 && ri.pattern == "waitForTaskToken" {
			timeout = defaultCallbackTimeoutSeconds
		}
		if timeout > 0 {
			f.Deadline = now.Add(time.Duration(timeout) * time.Second)
		}
		if heartbeat > 0 {
			f.Heartbeat = heartbeat
			f.HeartbeatDeadline = now.Add(time.Duration(heartbeat) * time.Second)
		}
		f.Phase = phaseTask
		r.hook()
		return
	}
	r.taskSucceeded(f, st, res.Output)
}

// Submitted lets a TaskPort report, for a .sync task it ran to completion,
// the answer of the submission (StartExecution's answer for
// states:startExecution.sync), recorded as TaskSubmitted before the result.
// Returned as TaskResult.Output together with an error, it records the
// submission before the failure.
type Submitted struct {
	Submission any
	Result     any
}

func (r *run) taskSucceeded(f *frame, st *State, output any) {
	ri := parseResource(st.Resource)
	if s, ok := output.(Submitted); ok {
		r.x.emit(f, "TaskSubmitted", "taskSubmittedEventDetails", map[string]any{"output": s.Submission, "resource": ri.short, "resourceType": ri.kind})
		output = s.Result
	}
	switch {
	case ri.kind == "activity":
		r.x.emit(f, "ActivitySucceeded", "activitySucceededEventDetails", map[string]any{"output": output})
	case ri.direct:
		r.x.emit(f, "LambdaFunctionSucceeded", "lambdaFunctionSucceededEventDetails", map[string]any{"output": output})
	default:
		r.x.emit(f, "TaskSucceeded", "taskSucceededEventDetails", map[string]any{"output": output, "resource": ri.short, "resourceType": ri.kind})
	}
	f.Phase = phaseEnter // not waiting any more
	f.Deadline, f.HeartbeatDeadline = time.Time{}, time.Time{}
	r.complete(f, st, output)
}

func (r *run) taskFailed(f *frame, st *State, e *Failure, timedOut bool) {
	ri := parseResource(st.Resource)
	d := map[string]any{"error": e.Name}
	if e.Cause != "" {
		d["cause"] = e.Cause
	}
	typ, field := "", ""
	switch {
	case ri.kind == "activity":
		typ, field = "ActivityFailed", "activityFailedEventDetails"
		if timedOut {
			typ, field = "ActivityTimedOut", "activityTimedOutEventDetails"
		}
	case ri.direct:
		typ, field = "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails"
		if timedOut {
			typ, field = "LambdaFunctionTimedOut", "lambdaFunctionTimedOutEventDetails"
		}
	default:
		d["resource"], d["resourceType"] = ri.short, ri.kind
		typ, field = "TaskFailed", "taskFailedEventDetails"
		if timedOut {
			typ, field = "TaskTimedOut", "taskTimedOutEventDetails"
		}
	}
	r.x.emit(f, typ, field, d)
	f.Phase = phaseEnter
	f.Token = ""
	f.Deadline, f.HeartbeatDeadline = time.Time{}, time.Time{}
	r.handle(f, st, e)
}

// findToken finds the frame whose task waits with this token.
func (x *Execution) findToken(token string) *frame {
	var found *frame
	var walk func(f *frame)
	walk = func(f *frame) {
		if f == nil || found != nil {
			return
		}
		if f.Phase == phaseTask && f.Token == token {
			found = f
			return
		}
		for _, c := range f.Children {
			walk(c)
		}
	}
	walk(x.st.Root)
	return found
}

// SendTaskSuccess completes the waiting task holding token with output,
// then runs the execution on. ErrTaskTokenNotFound if no task waits with
// this token.
func (x *Execution) SendTaskSuccess(ctx context.Context, token string, output any) error {
	f := x.findToken(token)
	if x.Done() || f == nil {
		return fmt.Errorf("sending task success: %w", ErrTaskTokenNotFound)
	}
	r := &run{x: x, in: x.in, ctx: ctx}
	r.taskSucceeded(f, r.state(f), output)
	return x.Run(ctx)
}

// SendTaskFailure fails the waiting task holding token with an error name
// and cause (Retry and Catch apply), then runs the execution on.
func (x *Execution) SendTaskFailure(ctx context.Context, token, errName, cause string) error {
	f := x.findToken(token)
	if x.Done() || f == nil {
		return fmt.Errorf("sending task failure: %w", ErrTaskTokenNotFound)
	}
	r := &run{x: x, in: x.in, ctx: ctx}
	r.taskFailed(f, r.state(f), &Failure{Name: errName, Cause: cause}, false)
	return x.Run(ctx)
}

// SendTaskHeartbeat restarts the heartbeat timer of the waiting task
// holding token.
func (x *Execution) SendTaskHeartbeat(token string) error {
	f := x.findToken(token)
	if x.Done() || f == nil {
		return fmt.Errorf("sending task heartbeat: %w", ErrTaskTokenNotFound)
	}
	if f.Heartbeat > 0 {
		f.HeartbeatDeadline = x.now().Add(time.Duration(f.Heartbeat) * time.Second)
	}
	return nil
}

// WaitingTasks lists the tokens of the tasks waiting for SendTask*.
func (x *Execution) WaitingTasks() []string {
	var out []string
	var walk func(f *frame)
	walk = func(f *frame) {
		if f == nil {
			return
		}
		if f.Phase == phaseTask && f.Token != "" {
			out = append(out, f.Token)
		}
		for _, c := range f.Children {
			walk(c)
		}
	}
	walk(x.st.Root)
	return out
}
