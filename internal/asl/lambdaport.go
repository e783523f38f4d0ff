package asl

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// FunctionError is the error a Lambda function returns: its errorType
// becomes the ASL error name (which Retry and Catch match), and the cause
// is the function's error document, as on AWS.
type FunctionError struct {
	Type    string
	Message string
	Trace   []string
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// LambdaFunctions is a TaskPort for Lambda tasks, whichever way the
// definition names them: a function ARN (the task's result is the
// function's result) or arn:aws:states:::lambda:invoke (the result is the
// invoke response, with the function's result under "Payload"). Invoke
// runs the function with its event; a *FunctionError it returns fails the
// task with the function's errorType. Every other task goes to Next.
type LambdaFunctions struct {
	// Invoke runs a function (name or ARN, as the definition gives it).
	Invoke func(ctx context.Context, function string, event any) (any, error)
	// Next runs every other task.
	Next TaskPort
}

// RunTask implements TaskPort.
func (l *LambdaFunctions) RunTask(ctx context.Context, req *TaskRequest) (TaskResult, error) {
	if req.Kind != "lambda" {
		if l.Next == nil {
			return TaskResult{}, &Failure{Name: ErrTaskFailed, Cause: fmt.Sprintf("no task port for %s", req.Resource)}
		}
		return l.Next.RunTask(ctx, req)
	}
	function, event := req.Resource, req.Parameters
	envelope := req.Action == "invoke"
	if envelope {
		p, _ := req.Parameters.(map[string]any)
		function, _ = p["FunctionName"].(string)
		event = p["Payload"]
	}
	if req.Pattern == "waitForTaskToken" {
		if _, err := l.Invoke(ctx, function, event); err != nil {
			return TaskResult{}, functionFailure(err)
		}
		return TaskResult{Pending: true}, nil
	}
	out, err := l.Invoke(ctx, function, event)
	if err != nil {
		return TaskResult{}, functionFailure(err)
	}
	if !envelope {
		return TaskResult{Output: out}, nil
	}
	return TaskResult{Output: map[string]any{
		"ExecutedVersion": "$LATEST",
		"Payload":         out,
		"StatusCode":      200.0,
		"SdkHttpMetadata": map[string]any{"HttpStatusCode": 200.0},
	}}, nil
}

func functionFailure(err error) error {
	var fe *FunctionError
	if errors.As(err, &fe) {
		trace := make([]any, len(fe.Trace))
		for i, t := range fe.Trace {
			trace[i] = t
		}
		name := fe.Type
		if name == "" || strings.HasPrefix(name, "States.") {
			name = "Lambda.Unknown"
		}
		return &Failure{Name: name, Cause: compactJSON(map[string]any{"errorMessage": fe.Message, "errorType": fe.Type, "stackTrace": trace})}
	}
	return asFailure(err)
}
