package stepfunctions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/bwc-project/bwc/internal/store"
)

// ErrTaskGone is returned when a task token no longer names a waiting task
// (it was answered, timed out, or its execution ended); it matches
// store.ErrConflict.
var ErrTaskGone = fmt.Errorf("the task no longer waits for an answer: %w", store.ErrConflict)

// tokenAPI is the Step Functions calls Tasks makes.
type tokenAPI interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

var _ tokenAPI = (*sfn.Client)(nil)

// Tasks answers the .waitForTaskToken tasks of state machines.
type Tasks struct{ api tokenAPI }

// NewTasks returns Tasks using api.
func NewTasks(api tokenAPI) *Tasks { return &Tasks{api: api} }

// Succeed ends the task waiting on token with output (encoded as JSON).
// Outcomes: nil; ErrTaskGone; another Step Functions error.
func (t *Tasks) Succeed(ctx context.Context, token string, output any) error {
	raw, err := json.Marshal(output)
	if err != nil {
		return fmt.Errorf("answering a task: encoding its output: %w", err)
	}
	_, err = t.api.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(raw))})
	return taskError("answering a task with success", err)
}

// Fail fails the task waiting on token with the error name and cause.
// Outcomes as Succeed's.
func (t *Tasks) Fail(ctx context.Context, token, name, cause string) error {
	_, err := t.api.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String(name), Cause: aws.String(cause)})
	return taskError("answering a task with failure "+name, err)
}

func taskError(doing string, err error) error {
	if err == nil {
		return nil
	}
	var gone *types.TaskDoesNotExist
	var timedOut *types.TaskTimedOut
	var invalid *types.InvalidToken
	if errors.As(err, &gone) || errors.As(err, &timedOut) || errors.As(err, &invalid) {
		return fmt.Errorf("%s: %w: %w", doing, ErrTaskGone, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// stopAPI is the Step Functions call the Stopper makes.
type stopAPI interface {
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
}

var _ stopAPI = (*sfn.Client)(nil)

// Stopper stops Step Functions executions.
type Stopper struct {
	api      stopAPI
	machines Machines
}

// NewStopper returns a Stopper for the deployment's machines.
func NewStopper(api stopAPI, m Machines) *Stopper { return &Stopper{api: api, machines: m} }

// Stop stops the execution named id of the state machine that runs action
// ref, with the error name and cause. Outcomes: nil (also when it had
// ended: StopExecution is accepted then); store.ErrNotFound when no such
// execution exists; another Step Functions error.
func (s *Stopper) Stop(ctx context.Context, id, ref, name, cause string) error {
	arn := s.machines.ExecutionARN(s.machines.MachineRef(ref), id)
	_, err := s.api.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn), Error: aws.String(name), Cause: aws.String(cause)})
	var missing *types.ExecutionDoesNotExist
	switch {
	case err == nil:
		return nil
	case errors.As(err, &missing):
		return fmt.Errorf("stopping execution %s: %w", arn, store.ErrNotFound)
	default:
		return fmt.Errorf("stopping execution %s: %w", arn, err)
	}
}
