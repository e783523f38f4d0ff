package lambdafn

import (
	"context"

	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/bwc-project/bwc/internal/aws/stepfunctions"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
)

// StatusChangeEvent is the EventBridge event Step Functions sends when an
// execution changes status (source aws.states, detail-type "Step Functions
// Execution Status Change").
type StatusChangeEvent struct {
	ID         string       `json:"id"`
	DetailType string       `json:"detail-type"`
	Source     string       `json:"source"`
	Time       time.Time    `json:"time"`
	Detail     StatusChange `json:"detail"`
}

// StatusChange is the detail of a status change event. Input and Output
// are JSON texts (null when over 256 KiB); dates are milliseconds since
// the epoch.
type StatusChange struct {
	ExecutionARN    string  `json:"executionArn"`
	StateMachineARN string  `json:"stateMachineArn"`
	Name            string  `json:"name"`
	Status          string  `json:"status"`
	StartDate       int64   `json:"startDate"`
	StopDate        *int64  `json:"stopDate"`
	Input           *string `json:"input"`
	Output          *string `json:"output"`
	Error           *string `json:"error"`
	Cause           *string `json:"cause"`
}

// CompletionResult says what the completion function recorded.
type CompletionResult struct {
	Execution string `json:"execution"`
	Status    string `json:"status"`
	// Recorded is false when the execution had already ended (a
	// redelivered event).
	Recorded bool `json:"recorded"`
}

// Completion is the completion function's handler.
type Completion struct {
	d *Deps
}

// NewCompletion builds the completion function's handler.
func NewCompletion(d *Deps) *Completion {
	d.init()
	return &Completion{d: d}
}

// Handle records a Step Functions execution's status change on the BWC
// execution named by it: RUNNING moves it to running; SUCCEEDED, FAILED,
// TIMED_OUT and ABORTED finish it, unless it has finished already (the
// runner records the end of the action machine's executions itself):
// succeeded with the output as result; failed, timeout or canceled with
// {"error": {"name", "message"}}; and emit core.actiontrigger. An execution started without a record (a direct
// rule target) is recorded from the event. Outcomes: what was recorded;
// bwc.BadEvent for another event; an error on a storage failure, so that
// the event is delivered again.
func (h *Completion) Handle(ctx context.Context, ev StatusChangeEvent) (CompletionResult, error) {
	c := ev.Detail
	if c.ExecutionARN == "" || c.Status == "" {
		return CompletionResult{}, FunctionError(ErrNameBadEvent, "expected a Step Functions Execution Status Change event (detail.executionArn, detail.status)")
	}
	id := c.Name
	if id == "" {
		id = stepfunctions.ExecutionName(c.ExecutionARN)
	}
	log := h.d.logger(ctx, "completion").With("execution", id, "sfn_status", c.Status)
	ref := h.machineRef(ctx, c.StateMachineARN)
	if err := h.ensure(ctx, id, ref, c); err != nil {
		log.Error("recording the execution", "err", err)
		return CompletionResult{}, FunctionError(ErrNameInternal, err.Error())
	}
	var to store.ExecutionStatus
	var result any
	switch c.Status {
	case "RUNNING":
		got, err := h.d.advance(ctx, id, store.StatusRunning)
		if err != nil {
			log.Error("marking the execution running", "err", err)
			return CompletionResult{}, FunctionError(ErrNameInternal, err.Error())
		}
		return CompletionResult{Execution: id, Status: string(got.Status), Recorded: got.Status == store.StatusRunning}, nil
	case "SUCCEEDED":
		to = store.StatusSucceeded
		if c.Output == nil {
			// Over 256 KiB, the output is not in the event.
			desc, err := h.d.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(c.ExecutionARN)})
			if err != nil {
				log.Error("reading the execution's output", "err", err)
				return CompletionResult{}, FunctionError(ErrNameInternal, fmt.Sprintf("reading the output of %s: %v", c.ExecutionARN, err))
			}
			c.Output = desc.Output
		}
		if c.Output != nil {
			if err := json.Unmarshal([]byte(*c.Output), &result); err != nil {
				result = *c.Output
			}
		}
	case "FAILED":
		to, result = store.StatusFailed, h.failure(ref, c)
	case "TIMED_OUT":
		to, result = store.StatusTimeout, h.failure(ref, c)
	case "ABORTED":
		to, result = store.StatusCanceled, h.failure(ref, c)
	default:
		log.Info("status change ignored")
		return CompletionResult{Execution: id, Status: c.Status}, nil
	}
	got, recorded, err := h.d.finish(ctx, log, id, to, result)
	if err != nil {
		log.Error("recording the end of the execution", "err", err)
		return CompletionResult{}, FunctionError(ErrNameInternal, err.Error())
	}
	log.Info("execution ended", "status", got.Status, "recorded", recorded, "trace_tag", got.Context.TraceTag)
	return CompletionResult{Execution: id, Status: string(got.Status), Recorded: recorded}, nil
}

// machineRef finds the reference of the state machine an ARN names.
func (h *Completion) machineRef(ctx context.Context, arn string) string {
	name := stepfunctions.MachineNameOf(arn)
	if name == stepfunctions.MachineName(h.d.Name, content.ActionMachineRef) {
		return content.ActionMachineRef
	}
	for _, ref := range h.d.Content.OwnMachineRefs() {
		if stepfunctions.MachineName(h.d.Name, ref) == name {
			return ref
		}
	}
	_ = ctx
	return ""
}

// ensure records an execution that Step Functions runs but BWC did not
// start (a direct rule target), from the event's input.
func (h *Completion) ensure(ctx context.Context, id, ref string, c StatusChange) error {
	if _, err := h.d.Store.GetExecution(ctx, id); !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var input map[string]any
	if c.Input != nil {
		_ = json.Unmarshal([]byte(*c.Input), &input)
	}
	ex := store.Execution{ID: id, Status: store.StatusRunning, StartedAt: time.UnixMilli(c.StartDate).UTC()}
	switch ref {
	case "":
		return fmt.Errorf("execution %s of state machine %s: the machine is none of this deployment's", id, c.StateMachineARN)
	case content.ActionMachineRef:
		ex.Action = str(input, "action")
		ex.Parameters, _ = input["parameters"].(map[string]any)
		ctxMap, _ := input["context"].(map[string]any)
		ex.Context = execContext(ctxMap)
	default:
		ex.Action = ref
		ex.Parameters = input
	}
	if a := h.d.Content.Packs.Action(ex.Action); a != nil {
		ex.Runner = a.RunnerType
	}
	if ex.Context.TraceTag == "" {
		ex.Context.TraceTag = id
	}
	ex.StatusLog = []store.StatusChange{{Status: store.StatusRequested, At: ex.StartedAt}, {Status: store.StatusScheduled, At: ex.StartedAt}, {Status: store.StatusRunning, At: ex.StartedAt}}
	if _, err := h.d.Store.CreateExecution(ctx, ex); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("recording execution %s started by Step Functions: %w", id, err)
	}
	return nil
}

// failure is the result of an execution that did not succeed. A workflow's
// is the embedded engine's ({"cause", "error": {"name", "message"}}); the
// action machine's names the runner's error (its errorType and
// errorMessage, which Step Functions puts in the cause).
func (h *Completion) failure(ref string, c StatusChange) any {
	name, cause := deref(c.Error), deref(c.Cause)
	if name == "" {
		switch c.Status {
		case "TIMED_OUT":
			name = "bwc.ActionTimeout"
		case "ABORTED":
			name = "bwc.ActionCanceled"
		default:
			name = "bwc.WorkflowFailed"
		}
	}
	if ref == content.ActionMachineRef {
		msg := cause
		var doc struct {
			ErrorMessage string `json:"errorMessage"`
		}
		if strings.HasPrefix(cause, "{") && json.Unmarshal([]byte(cause), &doc) == nil && doc.ErrorMessage != "" {
			msg = doc.ErrorMessage
		}
		return runner.WithError(nil, name, msg)
	}
	return runner.WithError(map[string]any{"cause": cause}, name, cause)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
