package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/workflow"
)

// Stable error names of workflow tasks, besides the runners'.
const (
	// ErrNameTaskUnsupported: a Task state's resource is not one the
	// embedded engine runs.
	ErrNameTaskUnsupported = "bwc.TaskUnsupported"
	// ErrNameInvalidTask: a task's action is unknown or its parameters
	// are invalid.
	ErrNameInvalidTask = "bwc.InvalidTask"
	// ErrNameWorkflowFailed is used when a failed state machine names no
	// error.
	ErrNameWorkflowFailed = "bwc.WorkflowFailed"
)

// localRunnerARN is what ${RunnerFunctionArn} becomes in the embedded
// engine; machineARNPrefix prefixes the machine a sub-workflow task names.
const (
	localRunnerARN     = "arn:aws:lambda:local:000000000000:function:bwc-runner"
	machineARNPrefix   = "arn:aws:states:local:000000000000:stateMachine:"
	executionARNPrefix = "arn:aws:states:local:000000000000:execution:"
)

// workflowRunner runs workflow actions on the ASL interpreter. Each task
// starts a child execution through the executor, as any execution starts,
// and the workflow waits for it.
type workflowRunner struct {
	x        *Executor
	machines map[string]*asl.Machine
	now      func() time.Time
	// cps keeps a checkpoint per running workflow (nil: none are kept).
	cps store.Checkpoints

	mu       sync.Mutex
	controls map[string]*control // running workflows, by execution id
}

// control carries pause and resume requests to a running workflow.
type control struct {
	pause, resume chan struct{}
}

func (w *workflowRunner) register(id string) *control {
	c := &control{pause: make(chan struct{}, 1), resume: make(chan struct{}, 1)}
	w.mu.Lock()
	w.controls[id] = c
	w.mu.Unlock()
	return c
}

func (w *workflowRunner) unregister(id string) {
	w.mu.Lock()
	delete(w.controls, id)
	w.mu.Unlock()
}

// signal asks a workflow running here to pause or resume.
func (w *workflowRunner) signal(id string, pause bool) {
	w.mu.Lock()
	c := w.controls[id]
	w.mu.Unlock()
	if c == nil {
		return
	}
	ch := c.resume
	if pause {
		ch = c.pause
	}
	select {
	case ch <- struct{}{}:
	default:
	}
}

// checkpoint is what is saved of a running workflow after each step: the
// interpreter's snapshot, the child execution each waiting task waits for,
// and how many times each task identity has started a child (see
// taskPort.childID).
type checkpoint struct {
	ASL   json.RawMessage    `json:"asl"`
	Tasks map[string]taskRef `json:"tasks"` // by task token
	Seen  map[string]int     `json:"seen,omitempty"`
}

type taskRef struct {
	Child string `json:"child"`
	Kind  string `json:"kind"`
}

// newWorkflowRunner parses the compiled state machines; checkpoints are
// kept in cps.
//
// Actions of runner type asl (hand-written state machines, their entry
// point an ASL JSON file) run the same way; aslActions lists them.
func newWorkflowRunner(x *Executor, compiled map[string]*workflow.Machine, aslActions []*pack.Action, cps store.Checkpoints) (*workflowRunner, error) {
	w := &workflowRunner{x: x, machines: map[string]*asl.Machine{}, now: time.Now, cps: cps, controls: map[string]*control{}}
	x.workflows = w
	subs := map[string]string{"RunnerFunctionArn": localRunnerARN}
	for ref := range compiled {
		subs[workflow.StateMachineArnParam(ref)] = machineARNPrefix + ref
	}
	for _, a := range aslActions {
		subs[workflow.StateMachineArnParam(a.Ref)] = machineARNPrefix + a.Ref
	}
	var errs []error
	for ref, m := range compiled {
		// Through JSON: the interpreter reads definitions as JSON decodes
		// them (float64 numbers).
		def, err := m.JSON()
		if err == nil {
			var am *asl.Machine
			if am, err = asl.Parse(def, asl.WithSubstitutions(subs)); err == nil {
				w.machines[ref] = am
				continue
			}
		}
		errs = append(errs, fmt.Errorf("parsing the state machine of %s: %w", ref, err))
	}
	for _, a := range aslActions {
		def, err := os.ReadFile(filepath.FromSlash(a.EntryPointPath))
		if err == nil {
			var am *asl.Machine
			if am, err = asl.Parse(def, asl.WithSubstitutions(subs)); err == nil {
				w.machines[a.Ref] = am
				continue
			}
		}
		errs = append(errs, fmt.Errorf("reading the state machine of %s (%s): %w", a.Ref, a.EntryPointPath, err))
	}
	return w, errors.Join(errs...)
}

// taskDone is a child execution's end, for the task waiting on it.
type taskDone struct {
	token string
	ex    store.Execution
	kind  string // the task's kind: "lambda" or "states"
}

// Run implements runner.Runner: it runs the workflow until it ends, and
// returns its output, or its error as an *runner.ActionError.
func (w *workflowRunner) Run(ctx context.Context, req runner.Request) (runner.Result, error) {
	m := w.machines[req.Action.Ref]
	if m == nil {
		return runner.Result{}, &runner.ActionError{Name: runner.ErrNameStartFailed, Err: fmt.Errorf("the state machine of %s did not compile or parse; bwc pack validate and the engine's log say why", req.Action.Ref)}
	}
	parent, err := w.x.st.GetExecution(ctx, req.ExecutionID)
	if err != nil {
		return runner.Result{}, &runner.ActionError{Name: runner.ErrNameStartFailed, Err: fmt.Errorf("reading workflow execution %s: %w", req.ExecutionID, err)}
	}
	start := parent.Context.ReRunStart
	if start != nil {
		// A re-run from a task: the machine starts at the task's state,
		// with the variables and input the original run had there.
		if m, err = reRunMachine(m, start); err != nil {
			return runner.Result{}, &runner.ActionError{Name: runner.ErrNameStartFailed, Err: fmt.Errorf("re-running workflow %s from state %s: %w", req.Action.Ref, start.State, err)}
		}
	}
	done := make(chan taskDone, 16)
	port := newTaskPort(w, parent, m, done)
	defer close(port.quit)
	in := asl.New(asl.WithTaskPort(port), asl.WithTransitionHook(func(x *asl.Execution) { port.x = x }))
	var x *asl.Execution
	cps := &checkpointer{w: w, id: req.ExecutionID}
	if cp, ok := cps.load(ctx); ok {
		// Resumed after a restart: pick up from the last checkpoint.
		if x, err = in.Resume(m, cp.ASL); err != nil {
			return runner.Result{}, &runner.ActionError{Name: runner.ErrNameStartFailed, Err: fmt.Errorf("resuming workflow %s: %w", req.ExecutionID, err)}
		}
		port.x = x
		port.tasks = cp.Tasks
		if port.tasks == nil {
			port.tasks = map[string]taskRef{}
		}
		if cp.Seen != nil {
			port.seen = cp.Seen
		}
		for _, token := range x.WaitingTasks() {
			if ref, ok := cp.Tasks[token]; ok {
				port.follow(ctx, token, ref)
			}
		}
		err = x.Run(ctx)
	} else {
		// A new run, or one resumed with no checkpoint saved yet: the
		// tasks it had started already are found again by their ids.
		var input any = reRunInput(start)
		if start == nil {
			params := map[string]any{}
			for k, v := range req.Parameters {
				params[k] = v
			}
			input = params
		}
		x, err = in.Start(ctx, m, input, asl.StartOptions{Name: req.ExecutionID, StateMachineName: req.Action.Ref})
		if err != nil && x == nil {
			return runner.Result{}, &runner.ActionError{Name: runner.ErrNameStartFailed, Err: fmt.Errorf("starting workflow %s: %w", req.Action.Ref, err)}
		}
	}
	ctl := w.register(req.ExecutionID)
	defer w.unregister(req.ExecutionID)
	// Paused, the workflow starts no task: the ends of its running tasks
	// are held until it resumes.
	paused := parent.Status == store.StatusPausing || parent.Status == store.StatusPaused
	var held []taskDone
	for !x.Done() {
		if err != nil && ctx.Err() == nil {
			cps.remove(ctx)
			return runner.Result{}, &runner.ActionError{Name: ErrNameWorkflowFailed, Err: err}
		}
		cps.save(ctx, x, port)
		if paused && len(held) == len(port.tasks) {
			// Every running task has ended: pausing becomes paused.
			_, _ = w.x.st.UpdateExecution(context.WithoutCancel(ctx), req.ExecutionID, store.ExecutionUpdate{From: store.StatusPausing, To: store.StatusPaused, At: w.now()})
		}
		var timer <-chan time.Time
		var tm *time.Timer
		if t, ok := x.NextWake(); ok && !paused {
			tm = time.NewTimer(time.Until(t))
			timer = tm.C
		}
		select {
		case <-ctl.pause:
			paused = true
		case <-ctl.resume:
			paused = false
			for _, d := range held {
				delete(port.tasks, d.token)
				if err = w.deliver(ctx, x, d); err != nil {
					break
				}
			}
			held = nil
			if err == nil {
				err = x.Run(ctx)
			}
		case d := <-done:
			if paused {
				held = append(held, d)
				break
			}
			delete(port.tasks, d.token)
			err = w.deliver(ctx, x, d)
		case <-ctx.Done():
			if w.x.root.Err() != nil {
				// The engine stops: keep the checkpoint, to resume.
				return runner.Result{}, &runner.ActionError{Name: runner.ErrNameActionCanceled, Err: errors.New("the engine stopped")}
			}
			_ = x.Stop(runner.ErrNameActionCanceled, "the workflow was canceled")
			cps.remove(ctx)
			return runner.Result{}, &runner.ActionError{Name: runner.ErrNameActionCanceled, Err: errors.New("the workflow was canceled")}
		case <-timer:
			err = x.Run(ctx)
		}
		if tm != nil {
			tm.Stop()
		}
	}
	cps.remove(ctx)
	desc := x.Describe()
	switch desc.Status {
	case asl.StatusSucceeded:
		return runner.Result{Value: desc.Output}, nil
	case asl.StatusTimedOut:
		return runner.Result{Value: failureValue(desc)}, &runner.ActionError{Name: runner.ErrNameActionTimeout, Err: errors.New(desc.Cause)}
	default:
		name := desc.Error
		if name == "" {
			name = ErrNameWorkflowFailed
		}
		return runner.Result{Value: failureValue(desc)}, &runner.ActionError{Name: name, Err: errors.New(desc.Cause)}
	}
}

func failureValue(d asl.Description) any {
	return map[string]any{"error": d.Error, "cause": d.Cause}
}

// deliver hands a finished child execution to the task waiting on it.
func (w *workflowRunner) deliver(ctx context.Context, x *asl.Execution, d taskDone) error {
	var result any
	if len(d.ex.Result) > 0 {
		_ = json.Unmarshal(d.ex.Result, &result)
	}
	if d.ex.Status == store.StatusSucceeded {
		out := result
		switch d.kind {
		case "states":
			out = map[string]any{"Output": result, "Status": "SUCCEEDED"}
		case "lambda-invoke":
			out = map[string]any{"Payload": result, "StatusCode": 200}
		}
		return x.SendTaskSuccess(ctx, d.token, out)
	}
	name := errorName(result, d.ex.Status)
	if d.kind == "states" {
		// A failed child execution fails a startExecution.sync task with
		// States.TaskFailed, the cause being the child's description with
		// its own error and cause (as Step Functions reports it).
		desc, _ := json.Marshal(map[string]any{
			"ExecutionArn": executionARNPrefix + d.ex.Action + ":" + d.ex.ID, "Status": sfnStatus(d.ex.Status),
			"Error": name, "Cause": compactResult(result),
		})
		return x.SendTaskFailure(ctx, d.token, asl.ErrTaskFailed, string(desc))
	}
	cause, _ := json.Marshal(result)
	return x.SendTaskFailure(ctx, d.token, name, string(cause))
}

// sfnStatus is the Step Functions status of a finished execution.
func sfnStatus(st store.ExecutionStatus) string {
	switch st {
	case store.StatusSucceeded:
		return "SUCCEEDED"
	case store.StatusTimeout:
		return "TIMED_OUT"
	case store.StatusCanceled, store.StatusAbandoned:
		return "ABORTED"
	}
	return "FAILED"
}

// compactResult is a result as the JSON text a Step Functions cause holds.
func compactResult(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// errorName is the error a failed child execution's task fails with.
func errorName(result any, st store.ExecutionStatus) string {
	if m, ok := result.(map[string]any); ok {
		if e, ok := m["error"].(map[string]any); ok {
			if n, ok := e["name"].(string); ok && n != "" {
				return n
			}
		}
	}
	switch st {
	case store.StatusTimeout:
		return runner.ErrNameActionTimeout
	case store.StatusCanceled:
		return runner.ErrNameActionCanceled
	case store.StatusAbandoned:
		return ErrNameAbandoned
	}
	return runner.ErrNameActionFailed
}

// taskPort runs a workflow's Task states as child executions. It is used
// on the workflow's goroutine only (the interpreter calls RunTask there).
type taskPort struct {
	w      *workflowRunner
	parent store.Execution
	done   chan taskDone
	quit   chan struct{}      // closed when the workflow's Run returns
	tasks  map[string]taskRef // the child of each waiting task, by token
	// seen counts the children started per task identity (childID).
	seen map[string]int
	// x is the execution (set by the interpreter's transition hook, so
	// also during Start); top are the names of its machine's top-level
	// states; fold follows its history for workflowState.
	x    *asl.Execution
	top  map[string]bool
	fold historyFold
}

// follow waits for a task's child execution to finish (at once when it has
// already) and delivers it.
func (p *taskPort) follow(ctx context.Context, token string, ref taskRef) {
	watch := p.w.x.watch(ref.Child)
	go func() {
		bg := context.WithoutCancel(ctx)
		fin, err := p.w.x.st.GetExecution(bg, ref.Child)
		if err == nil && fin.Status.Finished() {
			p.w.x.unwatch(ref.Child)
		} else {
			select {
			case fin = <-watch:
				if full, err := p.w.x.st.GetExecution(bg, fin.ID); err == nil {
					fin = full
				}
			case <-p.quit:
				return
			}
		}
		select {
		case p.done <- taskDone{token: token, ex: fin, kind: ref.Kind}:
		case <-p.quit:
		}
	}()
}

// RunTask starts the child execution of a task and returns Pending; the
// child's end is delivered through done.
func (p *taskPort) RunTask(ctx context.Context, req *asl.TaskRequest) (asl.TaskResult, error) {
	args, _ := req.Parameters.(map[string]any)
	var actionRef string
	var params map[string]any
	var task string
	kind := "lambda-invoke"
	switch {
	case req.Kind == "lambda" && req.Action == "invoke":
		payload, _ := args["Payload"].(map[string]any)
		actionRef, _ = payload["action"].(string)
		params, _ = payload["parameters"].(map[string]any)
		if c, ok := payload["context"].(map[string]any); ok {
			task, _ = c["task"].(string)
		}
		if req.Pattern == "waitForTaskToken" {
			kind = "token"
		}
	case req.Kind == "states" && req.Action == "startExecution":
		arn, _ := args["StateMachineArn"].(string)
		actionRef = strings.TrimPrefix(arn, machineARNPrefix)
		input, _ := args["Input"].(map[string]any)
		params, _ = input["parameters"].(map[string]any)
		if c, ok := input["context"].(map[string]any); ok {
			task, _ = c["task"].(string)
		}
		kind = "states"
	default:
		return asl.TaskResult{}, &asl.TaskError{Name: ErrNameTaskUnsupported, Cause: fmt.Sprintf("state %s: resource %s is not run by the embedded engine", req.StateName, req.Resource)}
	}
	a := p.w.x.actions.Action(actionRef)
	if a == nil {
		return asl.TaskResult{}, &asl.TaskError{Name: ErrNameInvalidTask, Cause: fmt.Sprintf("task %s: no action %q is loaded", task, actionRef)}
	}
	prep, err := p.w.x.valid.Parameters(ctx, a, params)
	if err != nil {
		return asl.TaskResult{}, &asl.TaskError{Name: ErrNameInvalidTask, Cause: fmt.Sprintf("task %s: %v", task, err)}
	}
	id, err := p.childID(req, actionRef, params)
	if err != nil {
		return asl.TaskResult{}, &asl.TaskError{Name: ErrNameInvalidTask, Cause: fmt.Sprintf("task %s: %v", task, err)}
	}
	ex, err := p.w.x.Start(ctx, enforcer.StartRequest{
		ExecutionID: id,
		Action:      a,
		Parameters:  prep.Parameters,
		Secret:      prep.Secret,
		ParentID:    p.parent.ID,
		Context: store.ExecutionContext{
			User:              p.parent.Context.User,
			TriggerInstanceID: p.parent.Context.TriggerInstanceID,
			TraceTag:          p.parent.Context.TraceTag,
			WorkflowTask:      task,
			WorkflowState:     p.workflowState(req.StateName),
		},
	})
	if err != nil {
		return asl.TaskResult{}, fmt.Errorf("task %s: starting %s: %w", task, a.Ref, err)
	}
	if ex.Action != a.Ref {
		// Not ours: an id derived from another task's identity would be
		// a hash collision.
		return asl.TaskResult{}, &asl.TaskError{Name: ErrNameInvalidTask, Cause: fmt.Sprintf("task %s: execution %s exists already, of %s", task, id, ex.Action)}
	}
	ref := taskRef{Child: ex.ID, Kind: kind}
	p.tasks[req.TaskToken] = ref
	p.follow(ctx, req.TaskToken, ref)
	return asl.TaskResult{Pending: true}, nil
}
