package lambdafn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/bwc-project/bwc/internal/aws/stepfunctions"
	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
)

// RunnerEvent is what the runner function receives: from a workflow's
// lambda:invoke task, the Payload the workflow compiler writes
// ({action, parameters, context: {task, workflow, workflow_execution}},
// plus task_token for a .waitForTaskToken task); from the action machine,
// {action, parameters, context, execution}.
type RunnerEvent struct {
	Action     string         `json:"action"`
	Parameters map[string]any `json:"parameters"`
	Context    map[string]any `json:"context"`
	// Execution is the action machine's execution ARN, whose name is the
	// BWC execution id.
	Execution string `json:"execution,omitempty"`
	// TaskToken is the callback token of a .waitForTaskToken task
	// (core.ask).
	TaskToken string `json:"task_token,omitempty"`
}

// Actions with a meaning of their own to the runner.
const (
	// AskAction waits for a response (runner type inquirer).
	AskAction = "core.ask"
	// InjectTriggerAction puts its result on the bus as a trigger
	// instance (runner.InjectTrigger).
	InjectTriggerAction = runner.InjectTriggerAction
	// InquiryTrigger is emitted when an inquiry is created.
	InquiryTrigger = "core.inquiry"
)

// Stable error names of core.inject_trigger (the embedded engine's).
const (
	ErrNameUnknownTrigger = runner.ErrNameUnknownTrigger
	ErrNameInvalidPayload = runner.ErrNameInvalidPayload
)

// Runner is the runner function's handler.
type Runner struct{ d *Deps }

// NewRunner builds the runner function's handler.
func NewRunner(d *Deps) *Runner {
	d.init()
	return &Runner{d: d}
}

// Handle runs one action. Outcomes:
//   - the action succeeded: its result (the task's Payload, or the action
//     machine's output);
//   - it failed: a function error whose errorType is the action's stable
//     error name (bwc.ActionFailed, bwc.ActionTimeout, ...), so that the
//     state machine's Retry and Catch match it;
//   - core.ask with a task token: the inquiry's id at once; the task waits
//     until the inquiry function answers its token;
//   - bwc.InvalidTask for an unknown action or invalid parameters,
//     bwc.BadEvent for an input that is not a runner event, bwc.Internal
//     for a storage error.
//
// A workflow task's execution is recorded as a child of the workflow's
// (its id derived from the workflow, the task and the invocation); the
// action machine's execution is the one the enforcer or the API recorded
// (or, for a direct rule target, recorded here). Either way the runner
// moves it to running and records its output, its end (with the action's
// result, also on failure, as the embedded engine does) and
// core.actiontrigger; the completion function finishes only what the
// runner did not (a crash, a timeout, an abort).
func (h *Runner) Handle(ctx context.Context, in RunnerEvent) (any, error) {
	if in.Action == "" {
		return nil, FunctionError(ErrNameBadEvent, `expected {"action", "parameters", "context"} (a workflow task) or {"action", "parameters", "context", "execution"} (the action machine)`)
	}
	log := h.d.logger(ctx, "runner").With("action", in.Action, "trace_tag", str(in.Context, "trace_tag"))
	a := h.d.Content.Packs.Action(in.Action)
	if a == nil {
		return nil, FunctionError(ErrNameInvalidTask, fmt.Sprintf("no action %q is loaded in the runner's packs", in.Action))
	}
	if !a.Enabled {
		return nil, FunctionError(ErrNameInvalidTask, fmt.Sprintf("action %s is disabled", a.Ref))
	}
	if in.Execution != "" {
		return h.runMachine(ctx, log, a, in)
	}
	prep, err := h.d.valid.Parameters(ctx, a, in.Parameters)
	if err != nil {
		return nil, FunctionError(ErrNameInvalidTask, err.Error())
	}
	return h.runTask(ctx, log, a, in, prep.Parameters, prep.Secret)
}

// runMachine runs the action of an action machine execution. Its
// parameters were validated and defaulted by whoever recorded the
// execution (the enforcer, the API); an execution nobody recorded (a
// direct rule target) has its parameters validated here.
func (h *Runner) runMachine(ctx context.Context, log *slog.Logger, a *pack.Action, in RunnerEvent) (any, error) {
	id := stepfunctions.ExecutionName(in.Execution)
	log = log.With("execution", id)
	params := in.Parameters
	ex, err := h.d.Store.GetExecution(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		prep, verr := h.d.valid.Parameters(ctx, a, in.Parameters)
		if verr != nil {
			return nil, FunctionError(ErrNameInvalidTask, verr.Error())
		}
		params = prep.Parameters
		ex, err = h.create(ctx, store.Execution{
			ID: id, Action: a.Ref, Runner: a.RunnerType, Parameters: params, SecretParameters: prep.Secret,
			Context: execContext(in.Context),
		})
	}
	if err != nil {
		log.Error("reading the execution", "err", err)
		return nil, FunctionError(ErrNameInternal, err.Error())
	}
	if ex.Status.Finished() {
		// Run before (a retried invocation): answer how it ended.
		return finishedAnswer(ex)
	}
	if a.RunnerType == pack.RunnerInquirer {
		return nil, FunctionError(ErrNameUnsupported, "core.ask runs on AWS only as a workflow task (lambda:invoke.waitForTaskToken): there is no task token to answer")
	}
	// The machine's input carries the secret parameters masked: their
	// values come from the record, decrypted just before the run.
	params, msg := h.withSecrets(ctx, log, ex, params)
	if msg != "" {
		if _, _, err := h.d.finish(context.WithoutCancel(ctx), log, id, store.StatusFailed, runner.WithError(nil, ErrNameInvalidTask, msg)); err != nil {
			log.Error("recording the end of the execution", "err", err)
		}
		return nil, FunctionError(ErrNameInvalidTask, msg)
	}
	if _, err := h.d.advance(ctx, id, store.StatusRunning); err != nil {
		log.Error("marking the execution running", "err", err)
		return nil, FunctionError(ErrNameInternal, err.Error())
	}
	return h.runAndFinish(ctx, log, ex, a, params)
}

// withSecrets puts the values of an execution's secret parameters, read
// from its record (store.ExecutionSecrets), in place of their masks in
// params. It returns why it cannot (values not kept, or not decrypting);
// neither the values nor the cipher's error text are logged.
func (h *Runner) withSecrets(ctx context.Context, log *slog.Logger, ex store.Execution, params map[string]any) (map[string]any, string) {
	if len(ex.SecretParameters) == 0 {
		return params, ""
	}
	kept, err := h.d.Store.ExecutionSecrets(ctx, ex.ID)
	if err != nil {
		log.Error("reading the secret parameters of the execution", "error_kind", secretsErrorKind(err))
		return nil, fmt.Sprintf("the secret parameters of execution %s cannot be read back: %s", ex.ID, secretsErrorKind(err))
	}
	out, missing := store.WithSecrets(params, ex.SecretParameters, kept)
	if len(missing) > 0 {
		return nil, fmt.Sprintf("the secret parameters %s of execution %s were not kept (the store has no cipher: set %s)", strings.Join(missing, ", "), ex.ID, EnvKMSKey)
	}
	return out, ""
}

// resolveSecretRefs puts, in a workflow task's parameters, the values of
// the secret references (store.SecretRef) its workflow's input
// passed on, for the parameters the task's action declares secret. A
// reference resolves only to a secret of the task's workflow execution or
// of one of the workflows above it, so that a value put in an event cannot
// read another execution's secrets.
func (h *Runner) resolveSecretRefs(ctx context.Context, params map[string]any, secret []string, parentID string) (map[string]any, error) {
	var out map[string]any
	for _, name := range secret {
		id, pname, ok := store.ParseSecretRef(params[name])
		if !ok {
			continue
		}
		if !h.isAncestor(ctx, id, parentID) {
			return nil, fmt.Errorf("parameter %s: a secret reference to execution %s, which is not a workflow this task runs in", name, id)
		}
		kept, err := h.d.Store.ExecutionSecrets(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: reading the secret parameters of execution %s: %s", name, id, secretsErrorKind(err))
		}
		v, ok := kept[pname]
		if !ok {
			return nil, fmt.Errorf("parameter %s: execution %s kept no value for its secret parameter %s (the store has no cipher: set %s)", name, id, pname, EnvKMSKey)
		}
		if out == nil {
			out = make(map[string]any, len(params))
			for k, x := range params {
				out[k] = x
			}
		}
		out[name] = v
	}
	if out == nil {
		return params, nil
	}
	return out, nil
}

// maxWorkflowDepth bounds the walk up a task's workflows.
const maxWorkflowDepth = 16

// isAncestor reports whether execution id is the workflow execution
// parentID or one of the executions above it.
func (h *Runner) isAncestor(ctx context.Context, id, parentID string) bool {
	for range maxWorkflowDepth {
		if parentID == "" {
			return false
		}
		if parentID == id {
			return true
		}
		ex, err := h.d.Store.GetExecution(ctx, parentID)
		if err != nil {
			return false
		}
		parentID = ex.ParentID
	}
	return false
}

// secretsErrorKind names what went wrong reading secrets without quoting
// the cipher's error.
func secretsErrorKind(err error) string {
	switch {
	case errors.Is(err, store.ErrNoCipher):
		return "the store has no cipher (set " + EnvKMSKey + ")"
	case errors.Is(err, store.ErrNotFound):
		return "no such execution"
	}
	return "they do not decrypt with the store's key"
}

// runAndFinish runs the action of a running execution and records its end
// (status, the result as the embedded executor writes it — with the
// action's own result also on failure — and core.actiontrigger), then
// answers the result or the function error named by the action's error.
func (h *Runner) runAndFinish(ctx context.Context, log *slog.Logger, ex store.Execution, a *pack.Action, params map[string]any) (any, error) {
	res, err := h.run(ctx, log, ex, a, params)
	to, result := store.StatusSucceeded, res.Value
	if err != nil {
		name := runner.ErrorName(err)
		to, result = store.StatusFailed, runner.WithError(res.Value, name, runner.ErrorMessage(err))
		if name == runner.ErrNameActionTimeout {
			to = store.StatusTimeout
		}
	}
	fin, _, ferr := h.d.finish(context.WithoutCancel(ctx), log, ex.ID, to, result)
	if ferr != nil {
		log.Error("recording the end of the execution", "err", ferr)
	}
	if err != nil {
		log.Info("action failed", "error", runner.ErrorName(err))
		return nil, FunctionError(runner.ErrorName(err), runner.ErrorMessage(err))
	}
	log.Info("action succeeded", "status", fin.Status)
	return res.Value, nil
}

// runTask runs a workflow task (or a direct invocation) as its own
// execution, recorded from start to end here.
func (h *Runner) runTask(ctx context.Context, log *slog.Logger, a *pack.Action, in RunnerEvent, params map[string]any, secret []string) (any, error) {
	parentArn := str(in.Context, "workflow_execution")
	task := str(in.Context, "task")
	ec := execContext(in.Context)
	var parentID string
	if parentArn != "" {
		parentID = stepfunctions.ExecutionName(parentArn)
		// As the embedded engine records a task: the workflow's user,
		// trigger instance and trace tag (the rule started the workflow,
		// not the task).
		ec = store.ExecutionContext{}
		if parent, err := h.d.Store.GetExecution(ctx, parentID); err == nil {
			ec = store.ExecutionContext{User: parent.Context.User, TriggerInstanceID: parent.Context.TriggerInstanceID, TraceTag: parent.Context.TraceTag}
		}
		ec.WorkflowTask = task
	}
	attempt := in.TaskToken
	if attempt == "" {
		attempt = requestID(ctx)
	}
	id := childID(parentID, task, attempt)
	log = log.With("execution", id, "parent", parentID, "task", task, "trace_tag", ec.TraceTag)
	params, err := h.resolveSecretRefs(ctx, params, secret, parentID)
	if err != nil {
		return nil, FunctionError(ErrNameInvalidTask, err.Error())
	}
	ex, err := h.create(ctx, store.Execution{
		ID: id, Action: a.Ref, Runner: a.RunnerType, Parameters: params, SecretParameters: secret,
		ParentID: parentID, Context: ec,
	})
	if err != nil {
		log.Error("recording the task's execution", "err", err)
		return nil, FunctionError(ErrNameInternal, err.Error())
	}
	if ex.Status.Finished() {
		// The same attempt delivered twice: answer what it ended with.
		return finishedAnswer(ex)
	}
	if a.RunnerType == pack.RunnerInquirer {
		return h.ask(ctx, log, ex, params, in.TaskToken)
	}
	return h.runAndFinish(ctx, log, ex, a, params)
}

// finishedAnswer is the answer for an execution that has already ended.
func finishedAnswer(ex store.Execution) (any, error) {
	var result any
	if len(ex.Result) > 0 {
		_ = json.Unmarshal(ex.Result, &result)
	}
	if ex.Status == store.StatusSucceeded {
		return result, nil
	}
	name, msg := runner.ErrNameActionFailed, string(ex.Status)
	if m, ok := result.(map[string]any); ok {
		if e, ok := m["error"].(map[string]any); ok {
			if n, ok := e["name"].(string); ok && n != "" {
				name = n
			}
			if s, ok := e["message"].(string); ok {
				msg = s
			}
		}
	}
	return nil, FunctionError(name, msg)
}

// create records an execution that starts running now (requested,
// scheduled and running at once); an existing one is returned as stored.
func (h *Runner) create(ctx context.Context, ex store.Execution) (store.Execution, error) {
	at := h.d.Now()
	ex.Status = store.StatusRunning
	ex.StartedAt = at
	ex.StatusLog = []store.StatusChange{{Status: store.StatusRequested, At: at}, {Status: store.StatusScheduled, At: at}, {Status: store.StatusRunning, At: at}}
	got, err := h.d.Store.CreateExecution(ctx, ex)
	if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return store.Execution{}, fmt.Errorf("creating execution %s of %s: %w", ex.ID, ex.Action, err)
	}
	return got, nil
}

// run runs the action with the runners, streaming its output to the store.
func (h *Runner) run(ctx context.Context, log *slog.Logger, ex store.Execution, a *pack.Action, params map[string]any) (runner.Result, error) {
	req := runner.NewRequest(ex, a, params, h.d.APIURL)
	req.Output = runner.StoreOutput(context.WithoutCancel(ctx), h.d.Store, ex.ID, h.d.Now, func(seq int64, err error) {
		log.Error("storing output", "execution", ex.ID, "seq", seq, "err", err)
	})
	// The action stops before the function's own timeout, so that its end
	// (a bwc.ActionTimeout) is recorded: at the timeout Lambda ends the
	// invocation and nothing more runs.
	ctx, cancel := workContext(ctx)
	defer cancel()
	res, err := h.d.Runners.Run(ctx, req)
	if err == nil && a.Ref == InjectTriggerAction {
		res, err = runner.InjectTrigger(ctx, h.d.Events, h.d.Content.Packs.TriggerType, ex.ID, ex.Context.TraceTag, res)
	}
	return res, err
}

// ask records the inquiry of a core.ask task with the task's token, moves
// its execution to pending and emits core.inquiry; the inquiry function
// answers the token.
func (h *Runner) ask(ctx context.Context, log *slog.Logger, ex store.Execution, params map[string]any, token string) (any, error) {
	if token == "" {
		return nil, FunctionError(ErrNameUnsupported, "core.ask runs on AWS only as a workflow task (lambda:invoke.waitForTaskToken): there is no task token to answer")
	}
	inq, err := enforcer.NewInquiry(ex.ID, func(name string) any { return params[name] }, h.d.Now())
	if err != nil {
		return nil, FunctionError(runner.ErrNameInvalidParameters, err.Error())
	}
	// The inquiry function's sweep times it out (SweepInquiries).
	inq.TaskToken = token
	id := inq.ID
	_, err = h.d.Store.CreateInquiry(ctx, inq)
	if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return nil, FunctionError(ErrNameInternal, fmt.Sprintf("recording inquiry %s: %v", id, err))
	}
	if _, err := h.d.advance(ctx, ex.ID, store.StatusPending); err != nil {
		return nil, FunctionError(ErrNameInternal, err.Error())
	}
	route, _ := params["route"].(string)
	if _, err := h.d.Events.PutEvents(ctx, []bus.Entry{{
		ID: "inquiry:" + id, Trigger: InquiryTrigger, Payload: map[string]any{"id": id, "route": route}, TraceTag: ex.Context.TraceTag,
	}}); err != nil {
		log.Error("emitting core.inquiry", "inquiry", id, "err", err)
	}
	log.Info("inquiry waiting for a response", "inquiry", id)
	return map[string]any{"inquiry": id}, nil
}

// childID is the id of the execution a workflow task attempt runs as.
func childID(parent, task, attempt string) string {
	sum := sha256.Sum256([]byte(parent + "\x00" + task + "\x00" + attempt))
	return "ex-" + hex.EncodeToString(sum[:12])
}

// execContext reads the execution context the action machine's input
// carries ({user, rule, trigger_instance_id, trace_tag}).
func execContext(c map[string]any) store.ExecutionContext {
	return store.ExecutionContext{
		User:              str(c, "user"),
		Rule:              str(c, "rule"),
		TriggerInstanceID: str(c, "trigger_instance_id"),
		TraceTag:          str(c, "trace_tag"),
	}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
