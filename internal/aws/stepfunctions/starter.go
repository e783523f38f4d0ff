package stepfunctions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/store"
)

// ErrNoMachine is returned when the state machine of an action does not
// exist (the stack was deployed without it).
var ErrNoMachine = errors.New("no such state machine")

// MaxInputBytes is the largest execution input Step Functions takes
// (256 KiB of UTF-8 JSON).
const MaxInputBytes = 256 * 1024

// ErrInputTooLarge is returned when an execution's input (the action's
// parameters, for the action machine with the action and its context) is
// over MaxInputBytes: Step Functions would refuse it. It matches
// store.ErrInvalid (the API answers 400).
var ErrInputTooLarge = fmt.Errorf("execution input too large for Step Functions: %w", store.ErrInvalid)

// startAPI is the Step Functions call the Starter makes.
type startAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

var _ startAPI = (*sfn.Client)(nil)

// ExecutionCreator records executions; store.Executions satisfies it.
type ExecutionCreator interface {
	// CreateExecution stores e: the stored record, or the existing one and
	// store.ErrAlreadyExists.
	CreateExecution(ctx context.Context, e store.Execution) (store.Execution, error)
}

// Context is the execution context the action machine receives in its
// input (and passes to the runner), as direct rule targets write it.
type Context struct {
	User              string `json:"user,omitempty"`
	Rule              string `json:"rule,omitempty"`
	TriggerInstanceID string `json:"trigger_instance_id,omitempty"`
	TraceTag          string `json:"trace_tag,omitempty"`
}

// ActionInput is the input of the action machine (content.ActionMachineRef).
// A workflow's machine, and a hand-written asl action's, gets the action's
// parameters as its input instead.
type ActionInput struct {
	Action     string         `json:"action"`
	Parameters map[string]any `json:"parameters"`
	Context    Context        `json:"context"`
}

// Starter creates executions in the store and starts them as Step
// Functions executions. It implements enforcer.Starter.
type Starter struct {
	api      startAPI
	st       ExecutionCreator
	machines Machines
	now      func() time.Time
}

var _ enforcer.Starter = (*Starter)(nil)

// NewStarter returns a Starter; now is the clock (nil: time.Now).
func NewStarter(api startAPI, st ExecutionCreator, m Machines, now func() time.Time) *Starter {
	if now == nil {
		now = time.Now
	}
	return &Starter{api: api, st: st, machines: m, now: now}
}

// Start records the execution (status scheduled, as the embedded executor
// records an execution no policy holds back; the store keeps its secret
// parameters encrypted beside the record) and starts the state machine of
// its action, named by the execution id. The machine's input holds no
// secret value (Step Functions shows an execution's input and history in
// its console and keeps them for 90 days): see [MachineParameters].
// Outcomes: the execution as
// stored (also when it existed: nothing is started twice); an error
// matching ErrInputTooLarge, before anything is recorded; an error
// matching ErrNoMachine; a storage or Step Functions error, after which
// calling Start again with the same request is safe.
func (s *Starter) Start(ctx context.Context, req enforcer.StartRequest) (store.Execution, error) {
	params := MachineParameters(s.machines, req.ExecutionID, req.Action.Ref, req.Parameters, req.Secret)
	if _, err := s.input(req.ExecutionID, req.Action.Ref, params, req.Context); err != nil {
		return store.Execution{}, err
	}
	at := s.now()
	ex := store.Execution{
		ID:               req.ExecutionID,
		Action:           req.Action.Ref,
		Runner:           req.Action.RunnerType,
		Parameters:       req.Parameters,
		SecretParameters: req.Secret,
		Status:           store.StatusScheduled,
		StatusLog:        []store.StatusChange{{Status: store.StatusRequested, At: at}, {Status: store.StatusScheduled, At: at}},
		StartedAt:        at,
		ParentID:         req.ParentID,
		Context:          req.Context,
	}
	got, err := s.st.CreateExecution(ctx, ex)
	if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return store.Execution{}, fmt.Errorf("creating execution %s of %s: %w", ex.ID, ex.Action, err)
	}
	if err := s.StartMachine(ctx, req.ExecutionID, req.Action.Ref, params, req.Context); err != nil {
		return got, err
	}
	return got, nil
}

// MachineParameters returns the parameters of execution id of action ref
// as its state machine's input carries them: without the values of the
// secret parameters. The action machine gets them masked (store.Masked):
// the runner function reads the values back from the execution record
// (store.ExecutionSecrets) just before it runs the action. A workflow's
// (or a hand-written asl action's) machine gets a reference in their place ([SecretRef]), which its tasks
// pass on: the runner function resolves it, for a task parameter its
// action declares secret, from the record of the workflow execution.
func MachineParameters(m Machines, id, ref string, params map[string]any, secret []string) map[string]any {
	if m.MachineRef(ref) != ref {
		return store.MaskParameters(params, secret)
	}
	if params == nil {
		return nil
	}
	out := make(map[string]any, len(params))
	for k, v := range params {
		out[k] = v
	}
	for _, name := range secret {
		if v, ok := out[name]; ok && v != store.Masked {
			out[name] = store.SecretRef(id, name)
		}
	}
	return out
}

// StartMachine starts the state machine that runs action ref under the
// execution name id, with the parameters (and, for the action machine,
// the action and its context) as input. An execution of that name that
// exists already is success. params must hold no secret value (see
// [MachineParameters]). An input over MaxInputBytes fails with
// ErrInputTooLarge without a call.
func (s *Starter) StartMachine(ctx context.Context, id, ref string, params map[string]any, ec store.ExecutionContext) error {
	raw, err := s.input(id, ref, params, ec)
	if err != nil {
		return err
	}
	arn := s.machines.ARN(s.machines.MachineRef(ref))
	_, err = s.api.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(arn),
		Name:            aws.String(id),
		Input:           aws.String(string(raw)),
	})
	var exists *types.ExecutionAlreadyExists
	var noMachine *types.StateMachineDoesNotExist
	switch {
	case err == nil, errors.As(err, &exists):
		return nil
	case errors.As(err, &noMachine):
		return fmt.Errorf("starting execution %s of %s on %s: %w", id, ref, arn, ErrNoMachine)
	default:
		return fmt.Errorf("starting execution %s of %s on %s: %w", id, ref, arn, err)
	}
}

// input is the JSON input of the state machine that runs action ref.
func (s *Starter) input(id, ref string, params map[string]any, ec store.ExecutionContext) ([]byte, error) {
	if params == nil {
		params = map[string]any{}
	}
	var input any = params
	if s.machines.MachineRef(ref) != ref {
		input = ActionInput{Action: ref, Parameters: params, Context: Context{
			User: ec.User, Rule: ec.Rule, TriggerInstanceID: ec.TriggerInstanceID, TraceTag: ec.TraceTag,
		}}
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("starting execution %s of %s: encoding its input: %w", id, ref, err)
	}
	if len(raw) > MaxInputBytes {
		return nil, fmt.Errorf("starting execution %s of %s: its input (the parameters) is %d bytes of JSON, over the %d bytes Step Functions takes: pass large data by reference (a datastore key, a URL): %w", id, ref, len(raw), MaxInputBytes, ErrInputTooLarge)
	}
	return raw, nil
}
