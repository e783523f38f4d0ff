package asl

import (
	"errors"
	"fmt"
)

// Reserved error names raised by the interpreter, as Step Functions names
// them.
const (
	ErrALL                    = "States.ALL"
	ErrTimeout                = "States.Timeout"
	ErrHeartbeatTimeout       = "States.HeartbeatTimeout"
	ErrTaskFailed             = "States.TaskFailed"
	ErrPermissions            = "States.Permissions"
	ErrResultPathMatchFailure = "States.ResultPathMatchFailure"
	ErrParameterPathFailure   = "States.ParameterPathFailure"
	ErrBranchFailed           = "States.BranchFailed"
	ErrNoChoiceMatched        = "States.NoChoiceMatched"
	ErrIntrinsicFailure       = "States.IntrinsicFailure"
	ErrExceedToleratedFailure = "States.ExceedToleratedFailureThreshold"
	ErrQueryEvaluationError   = "States.QueryEvaluationError"
	ErrRuntime                = "States.Runtime"
	ErrDataLimitExceeded      = "States.DataLimitExceeded"
	ErrItemReaderFailed       = "States.ItemReaderFailed"
	ErrResultWriterFailed     = "States.ResultWriterFailed"
)

const (
	maxPayloadBytes               = 256 * 1024 // States.DataLimitExceeded beyond
	defaultCallbackTimeoutSeconds = 99999999   // a .waitForTaskToken task without TimeoutSeconds
	historyEventLimit             = 25000      // Step Functions' execution history limit
)

// Sentinel errors of the Execution API.
var (
	// ErrTaskTokenNotFound: SendTask* with a token no waiting task holds
	// (unknown, already completed, or timed out). Step Functions: TaskDoesNotExist / InvalidToken.
	ErrTaskTokenNotFound = errors.New("task token not found")
	// ErrExecutionNotRunning: the call needs a running execution.
	ErrExecutionNotRunning = errors.New("execution is not running")
	// ErrInvalidSnapshot: Resume was given data that is not a snapshot of
	// this machine.
	ErrInvalidSnapshot = errors.New("invalid execution snapshot")
)

// Failure is an ASL error: a name that Retry and Catch match, and a cause.
// A TaskPort returns a *Failure (or a *TaskError, the same thing) to fail a
// task with a given error name, e.g. a Lambda function's errorType.
type Failure struct {
	Name  string `json:"error"`
	Cause string `json:"cause"`
	// location and state are set for States.QueryEvaluationError.
	Location string `json:"location,omitempty"`
	State    string `json:"state,omitempty"`
}

func (f *Failure) Error() string {
	if f.Cause == "" {
		return f.Name
	}
	return fmt.Sprintf("%s: %s", f.Name, f.Cause)
}

// TaskError is the error a TaskPort returns to fail a task with an ASL
// error name (Lambda errorType, service exception name) and cause.
type TaskError = Failure

// asFailure turns any error into a Failure: *Failure as it is, anything
// else as States.TaskFailed with the error text as cause.
func asFailure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return &Failure{Name: ErrTaskFailed, Cause: err.Error()}
}

// matches reports whether an ErrorEquals list matches the error name.
// States.Runtime is never caught or retried.
func matches(list []string, name string) bool {
	if name == ErrRuntime {
		return false
	}
	for _, e := range list {
		switch e {
		case name, ErrALL:
			return true
		case ErrTaskFailed:
			if name != ErrTimeout && name != ErrRuntime && name != ErrDataLimitExceeded && name != ErrHeartbeatTimeout &&
				name != ErrQueryEvaluationError && name != ErrBranchFailed && name != ErrNoChoiceMatched && name != ErrIntrinsicFailure &&
				name != ErrResultPathMatchFailure && name != ErrParameterPathFailure && name != ErrExceedToleratedFailure {
				return true
			}
		}
	}
	return false
}
