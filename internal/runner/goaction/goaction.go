// Package goaction is the small SDK of BWC's Go actions, and the definition
// of the JSON protocol between the go runner and an action's program.
//
// A Go action is a main package in packs/<pack>/actions/<name>/main.go:
//
//	func main() {
//		goaction.Run(func(ctx context.Context, req goaction.Request) (any, error) {
//			name, _ := req.Parameters["name"].(string)
//			if name == "" {
//				return nil, goaction.Errorf("examples.NoName", false, "parameter name is empty")
//			}
//			return map[string]any{"greeting": "hello " + name}, nil
//		})
//	}
//
// The protocol (embedded engine): the runner starts the built program with a
// [Request] as one JSON document on its standard input and reads one
// [Response] JSON document from its standard output. The exit status is 0 when
// the response holds a result and 1 when it holds an error. Standard error is
// the action's log, streamed to the execution's output while it runs; Run
// points os.Stdout at standard error too, so that fmt.Println in an action
// cannot corrupt the response. On SIGTERM (timeout, cancellation) the
// context passed to the handler is canceled; SIGKILL follows after a grace
// period.
//
// On AWS the same program is the action's Lambda function: the event is the
// same Request JSON, the result is the Lambda's result, and an error's Name
// becomes the Lambda errorType (so ASL Retry/Catch ErrorEquals matches it).
// Run does not start the Lambda runtime yet: that wiring lives with the
// runner Lambda.
//
// A program that does not use this package speaks the protocol by reading
// the request from stdin and printing {"result": ...} or
// {"error": {"name": ..., "message": ...}} to stdout.
//
// Concurrency: Run and Serve call the handler once, from one goroutine.
package goaction

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Request is what an action receives.
type Request struct {
	// ExecutionID identifies the execution.
	ExecutionID string `json:"execution_id"`
	// Action is the action reference, pack.name.
	Action string `json:"action"`
	// Parameters are the action's parameters, validated and defaulted.
	Parameters map[string]any `json:"parameters"`
	// Context is the execution context (user, rule, trace tag, parent...).
	Context map[string]any `json:"context,omitempty"`
}

// Response is what an action answers: exactly one of Result (which may be
// JSON null) or Error.
type Response struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Error is a failure with a stable name.
type Error struct {
	// Name is the stable error name (e.g. "mypack.NotFound"); empty means
	// bwc.ActionFailed.
	Name string `json:"name"`
	// Message says what happened.
	Message string `json:"message"`
	// Retryable hints that running the action again may succeed.
	Retryable bool `json:"retryable,omitempty"`
}

func (e *Error) Error() string {
	if e.Name == "" {
		return e.Message
	}
	return e.Name + ": " + e.Message
}

// Errorf returns an *Error with a name, for handlers to return.
func Errorf(name string, retryable bool, format string, args ...any) error {
	return &Error{Name: name, Retryable: retryable, Message: fmt.Sprintf(format, args...)}
}

// Handler is an action's code.
type Handler func(ctx context.Context, req Request) (any, error)

// Run serves one request from stdin to stdout and exits: status 0 on success,
// 1 when the handler failed, 2 when the request could not be read.
func Run(h Handler) {
	out := os.Stdout
	os.Stdout = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := Serve(ctx, os.Stdin, out, h)
	stop()
	var protoErr *protocolError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &protoErr):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	default:
		os.Exit(1)
	}
}

type protocolError struct{ err error }

func (e *protocolError) Error() string { return "goaction: " + e.err.Error() }
func (e *protocolError) Unwrap() error { return e.err }

// Serve reads one Request from in, calls h and writes its Response to out.
// It returns nil when h succeeded, h's error (already written to out) when it
// failed, and an error when in or out failed. A panic in h is an error
// response too.
func Serve(ctx context.Context, in io.Reader, out io.Writer, h Handler) error {
	var req Request
	dec := json.NewDecoder(in)
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return &protocolError{fmt.Errorf("reading the request: %w", err)}
	}
	result, herr := call(ctx, h, req)
	var resp Response
	if herr != nil {
		var e *Error
		if !errors.As(herr, &e) {
			e = &Error{Message: herr.Error()}
		} else if e.Message != herr.Error() && e.Name != "" && herr.Error() != e.Error() {
			// Keep the context the handler wrapped around the named error.
			e = &Error{Name: e.Name, Retryable: e.Retryable, Message: herr.Error()}
		}
		resp.Error = e
	} else {
		b, err := json.Marshal(result)
		if err != nil {
			resp.Error = &Error{Message: fmt.Sprintf("encoding the result: %v", err)}
			herr = resp.Error
		} else {
			resp.Result = b
		}
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return &protocolError{fmt.Errorf("encoding the response: %w", err)}
	}
	if _, err := out.Write(append(b, '\n')); err != nil {
		return &protocolError{fmt.Errorf("writing the response: %w", err)}
	}
	return herr
}

func call(ctx context.Context, h Handler, req Request) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Message: fmt.Sprintf("panic: %v", r)}
		}
	}()
	return h(ctx, req)
}
