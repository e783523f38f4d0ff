package runner

import (
	"errors"
	"fmt"
)

// Stable error names. They are part of BWC's contract with users (ASL
// Retry/Catch ErrorEquals, rules on core.actiontrigger): never rename one.
const (
	// ErrNameActionFailed: the action ran and failed: non-zero exit status
	// (on any host, for remote runners), HTTP status outside 2xx, a Go action
	// that returned an error without a name, or that broke the protocol.
	ErrNameActionFailed = "bwc.ActionFailed"
	// ErrNameActionTimeout: the runner parameter timeout (or the deadline of
	// the context) passed; the process group was killed.
	ErrNameActionTimeout = "bwc.ActionTimeout"
	// ErrNameActionCanceled: the context was canceled; the process group was
	// killed.
	ErrNameActionCanceled = "bwc.ActionCanceled"
	// ErrNameInvalidParameters: a runner parameter is missing or malformed
	// (no cmd, a bad URL, a timeout that is not a number...).
	ErrNameInvalidParameters = "bwc.InvalidRunnerParameters"
	// ErrNameStartFailed: the process could not be started (entry point
	// missing or not runnable, sudo or go not installed...).
	ErrNameStartFailed = "bwc.ActionStartFailed"
	// ErrNameUnknownRunner: no runner is registered under the action's
	// runner type.
	ErrNameUnknownRunner = "bwc.UnknownRunner"
	// ErrNameHTTPRequestFailed: the HTTP request got no response (DNS,
	// connection refused, TLS, reset). Retryable.
	ErrNameHTTPRequestFailed = "bwc.HTTPRequestFailed"
	// ErrNameRemoteConnectionFailed: SSH connection or authentication to at
	// least one host failed (and no host timed out). Retryable unless
	// authentication or the host key check failed.
	ErrNameRemoteConnectionFailed = "bwc.RemoteConnectionFailed"
	// ErrNameSecretLookupFailed: a *_ref runner parameter named a secret that
	// could not be read.
	ErrNameSecretLookupFailed = "bwc.SecretLookupFailed"
	// ErrNameGoBuildFailed: `go build` of a Go action failed; the message
	// holds the compiler's output.
	ErrNameGoBuildFailed = "bwc.GoBuildFailed"
)

// ActionError is a failed execution with a stable name.
type ActionError struct {
	// Name is the stable error name (the Lambda errorType on AWS).
	Name string
	// Retryable hints that running the action again may succeed.
	Retryable bool
	// Err says what happened.
	Err error
}

func (e *ActionError) Error() string {
	if e.Err == nil {
		return e.Name
	}
	return e.Name + ": " + e.Err.Error()
}

func (e *ActionError) Unwrap() error { return e.Err }

// ErrorName returns the name of the *ActionError in err's chain, or
// ErrNameActionFailed when there is none, or "" for a nil err.
func ErrorName(err error) string {
	if err == nil {
		return ""
	}
	var ae *ActionError
	if errors.As(err, &ae) {
		return ae.Name
	}
	return ErrNameActionFailed
}

func actionErr(name string, retryable bool, format string, args ...any) *ActionError {
	return &ActionError{Name: name, Retryable: retryable, Err: fmt.Errorf(format, args...)}
}

func invalidParam(format string, args ...any) *ActionError {
	return actionErr(ErrNameInvalidParameters, false, format, args...)
}
