package lambdafn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/bwc-project/bwc/internal/aws/stepfunctions"
	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/sensor/payload"
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
	// instance.
	InjectTriggerAction = "core.inject_trigger"
	// InquiryTrigger is emitted when an inquiry is created.
	InquiryTrigger = "core.inquiry"
)

// Stable error names of core.inject_trigger (as the embedded engine's).
const (
	ErrNameUnknownTrigger = "bwc.UnknownTrigger"
	ErrNameInvalidPayload = "bwc.InvalidPayload"
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
	if _, err := h.d.advance(ctx, id, store.StatusRunning); err != nil {
		log.Error("marking the execution running", "err", err)
		return nil, FunctionError(ErrNameInternal, err.Error())
	}
	return h.runAndFinish(ctx, log, ex, a, params)
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
		to, result = store.StatusFailed, withError(res.Value, name, errorMessage(err))
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
		return nil, FunctionError(runner.ErrorName(err), errorMessage(err))
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
	out := &outputWriter{d: h.d, ctx: context.WithoutCancel(ctx), id: ex.ID, log: log}
	req := h.request(ex, a, params)
	req.Output = out.write
	res, err := h.d.Runners.Run(ctx, req)
	if err == nil && a.Ref == InjectTriggerAction {
		res, err = h.inject(ctx, ex, res)
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
	schema, err := json.Marshal(params["schema"])
	if err != nil {
		return nil, FunctionError(runner.ErrNameInvalidParameters, fmt.Sprintf("schema: %v", err))
	}
	id := InquiryID(ex.ID)
	_, err = h.d.Store.CreateInquiry(ctx, store.Inquiry{
		ID: id, ExecutionID: ex.ID, Schema: schema, TaskToken: token,
		Users: stringList(params["users"]), Roles: stringList(params["roles"]),
	})
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

// InquiryID is the id of the inquiry an execution of core.ask creates (the
// embedded engine's).
func InquiryID(executionID string) string {
	sum := sha256.Sum256([]byte("inquiry\x00" + executionID))
	return "iq-" + hex.EncodeToString(sum[:12])
}

// childID is the id of the execution a workflow task attempt runs as.
func childID(parent, task, attempt string) string {
	sum := sha256.Sum256([]byte(parent + "\x00" + task + "\x00" + attempt))
	return "ex-" + hex.EncodeToString(sum[:12])
}

// inject puts the trigger instance a core.inject_trigger execution returned
// on the bus, as the embedded executor does.
func (h *Runner) inject(ctx context.Context, ex store.Execution, res runner.Result) (runner.Result, error) {
	m, _ := res.Value.(map[string]any)
	trigger, _ := m["trigger"].(string)
	p, _ := m["payload"].(map[string]any)
	tag, _ := m["trace_tag"].(string)
	if tag == "" {
		tag = ex.Context.TraceTag
	}
	tt := h.d.Content.Packs.TriggerType(trigger)
	if tt == nil {
		return res, &runner.ActionError{Name: ErrNameUnknownTrigger, Err: fmt.Errorf("no loaded pack declares trigger type %q", trigger)}
	}
	var doc any
	if len(tt.PayloadSchema) > 0 {
		doc = tt.PayloadSchema
	}
	sch, err := payload.Compile(doc)
	if err != nil {
		return res, &runner.ActionError{Name: ErrNameInvalidPayload, Err: fmt.Errorf("the payload_schema of %s: %w", trigger, err)}
	}
	if err := sch.Check(trigger, p); err != nil {
		return res, &runner.ActionError{Name: ErrNameInvalidPayload, Err: err}
	}
	out, err := h.d.Events.PutEvents(ctx, []bus.Entry{{ID: "inject:" + ex.ID, Trigger: trigger, Payload: p, TraceTag: tag}})
	if err == nil && out.FailedEntryCount > 0 {
		err = errors.New(out.Entries[0].ErrorMessage)
	}
	if err != nil {
		return res, &runner.ActionError{Name: runner.ErrNameActionFailed, Retryable: true, Err: fmt.Errorf("putting the trigger instance on the bus: %w", err)}
	}
	v := map[string]any{}
	for k, e := range m {
		v[k] = e
	}
	v["trigger_instance_id"] = out.Entries[0].TriggerInstanceID
	return runner.Result{Value: v}, nil
}

// request builds the runner request of an execution (as the embedded
// executor does).
func (h *Runner) request(ex store.Execution, a *pack.Action, params map[string]any) runner.Request {
	req := runner.Request{
		ExecutionID: ex.ID,
		Action: runner.Action{
			Ref:        a.Ref,
			RunnerType: a.RunnerType,
			EntryPoint: absPath(a.EntryPointPath),
			Parameters: map[string]runner.ParameterInfo{},
		},
		Parameters:       map[string]any{},
		RunnerParameters: map[string]any{},
		Context: map[string]any{
			"user":                ex.Context.User,
			"rule":                ex.Context.Rule,
			"trigger_instance_id": ex.Context.TriggerInstanceID,
			"trace_tag":           ex.Context.TraceTag,
			"parent_id":           ex.ParentID,
			"workflow_task":       ex.Context.WorkflowTask,
		},
		APIURL: h.d.APIURL,
	}
	if a.EntryPointPath != "" {
		req.Action.PackDir = packDir(req.Action.EntryPoint)
	}
	for _, p := range a.Effective {
		typ, _, _ := strings.Cut(p.Type, "|")
		req.Action.Parameters[p.Name] = runner.ParameterInfo{Type: typ, Position: p.Position, Secret: p.Secret}
		v, ok := params[p.Name]
		if !ok {
			continue
		}
		if p.Runner != "" {
			req.RunnerParameters[p.Name] = v
		} else {
			req.Parameters[p.Name] = v
		}
	}
	return req
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(filepath.FromSlash(p)); err == nil {
		return abs
	}
	return p
}

// packDir finds the pack directory above an entry point: the parent of the
// "actions" directory.
func packDir(entry string) string {
	dir := filepath.Dir(entry)
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if filepath.Base(d) == "actions" {
			return filepath.Dir(d)
		}
	}
	return dir
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

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
