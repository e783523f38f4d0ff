package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Function is a Lambda function the local cloud invokes. Invoke runs it
// with payload (JSON) and returns its result (JSON); a function error (the
// handler returned an error or panicked) is a *FunctionError; any other
// error means the function could not be reached or answered nonsense.
type Function interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// FunctionFunc adapts a function to [Function].
type FunctionFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke calls f.
func (f FunctionFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// CallbackAnswerer is implemented by a Function that completes the
// .waitForTaskToken tasks it is invoked for itself, by its answer: when
// AnswersCallbacks is true, the function's result completes the task as
// SendTaskSuccess would, and its error as SendTaskFailure would. (A Lambda
// function's answer to such a task is ignored: it hands the token to
// someone who calls SendTask* later.) The engine's in-process runner is
// one: it runs core.ask to its end, until the inquiry is answered.
type CallbackAnswerer interface {
	AnswersCallbacks() bool
}

func answersCallbacks(f Function) bool {
	a, ok := f.(CallbackAnswerer)
	return ok && a.AnswersCallbacks()
}

// FunctionError is the error document of a function that failed, as Lambda
// reports it: ErrorType becomes the ASL error name a state machine's Retry
// and Catch match.
type FunctionError struct {
	ErrorType    string `json:"errorType"`
	ErrorMessage string `json:"errorMessage"`
	StackTrace   any    `json:"stackTrace,omitempty"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.ErrorType, e.ErrorMessage)
}

// RIE invokes a function hosted by aws-lambda-rie (the Lambda Runtime
// Interface Emulator) at a base URL such as http://127.0.0.1:9001.
//
// What aws-lambda-rie answers (checked with the pinned version): a result
// is 200 with the function's JSON; a handler that returns an error is also
// 200, with the body {"errorMessage", "errorType"} and no
// X-Amz-Function-Error header; a handler that panics or a runtime that
// exits is 502 with the same kind of document. So a 200 body that is
// exactly such a document is taken as a function error, as is any non-200
// answer. (A function whose result is an object with just those two keys
// cannot be told apart from a failure; BWC's functions return no such
// result.)
//
// One aws-lambda-rie process is one Lambda instance: it runs one
// invocation at a time, and the pinned version crashes when a second
// invocation arrives while one runs ("ReserveFailed: AlreadyReserved", then
// a nil-pointer panic, and the process exits). So an RIE serializes its
// invocations: callers queue, each until its turn or the end of its
// context. Use one RIE per aws-lambda-rie process, and do not copy it
// after its first use.
type RIE struct {
	URL    string
	Client *http.Client // default http.DefaultClient

	once sync.Once
	turn chan struct{} // capacity 1: held while an invocation runs
}

// InvocationPath is where aws-lambda-rie takes invocations.
const InvocationPath = "/2015-03-31/functions/function/invocations"

// Invoke implements Function. It waits for the invocation under way, if
// any, to end; a context that ends first returns its error, wrapped, and
// invokes nothing.
func (r *RIE) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r.once.Do(func() { r.turn = make(chan struct{}, 1) })
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for %s to finish its invocation under way: %w", r.URL, ctx.Err())
	}
	defer func() { <-r.turn }()
	return r.invoke(ctx, payload)
}

// invoke makes one invocation; the caller holds the turn.
func (r *RIE) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	url := strings.TrimSuffix(r.URL, "/") + InvocationPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoking %s: %w", r.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := r.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoking %s: %w", r.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", r.URL, err)
	}
	if fe, ok := functionError(body); ok {
		return nil, &fe
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		return nil, &FunctionError{ErrorType: "Runtime.Unknown", ErrorMessage: fmt.Sprintf("%s answered %s: %s", r.URL, resp.Status, truncate(string(body), 512))}
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("invoking %s: the answer is not JSON: %s", r.URL, truncate(string(body), 200))
	}
	return body, nil
}

// functionError decodes a function error document; ok is false when body
// is not one (an object whose only keys are errorType, errorMessage and
// optionally stackTrace, with errorType set).
func functionError(body []byte) (fe FunctionError, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || len(m) < 2 || len(m) > 3 {
		return fe, false
	}
	for k := range m {
		if k != "errorType" && k != "errorMessage" && k != "stackTrace" {
			return fe, false
		}
	}
	err := json.Unmarshal(body, &fe)
	return fe, err == nil && fe.ErrorType != ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// asFunctionError returns err's *FunctionError, or one named
// Lambda.ServiceException for an error that is not a function's.
func asFunctionError(err error) *FunctionError {
	var fe *FunctionError
	if errors.As(err, &fe) {
		return fe
	}
	return &FunctionError{ErrorType: "Lambda.ServiceException", ErrorMessage: err.Error()}
}
