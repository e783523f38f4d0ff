package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
)

// ExecutionStore is what the executor keeps executions and their output in;
// store.Store satisfies it.
type ExecutionStore interface {
	CreateExecution(ctx context.Context, e store.Execution) (store.Execution, error)
	GetExecution(ctx context.Context, id string) (store.Execution, error)
	UpdateExecution(ctx context.Context, id string, u store.ExecutionUpdate) (store.Execution, error)
	ListExecutions(ctx context.Context, q store.ExecutionQuery) (store.Page[store.Execution], error)
	AppendOutput(ctx context.Context, c store.OutputChunk) error
	// ExecutionSecrets (store.ExecutionSecrets) gives back the secret
	// parameters of an execution started again after a restart.
	ExecutionSecrets(ctx context.Context, id string) (map[string]any, error)
}

// Publisher puts events on the bus; *bus.Bus satisfies it.
type Publisher interface {
	PutEvents(ctx context.Context, entries []bus.Entry) (bus.Output, error)
}

// ActionTrigger is the trigger type every finished execution emits.
const ActionTrigger = runner.ActionTrigger

// Stable error names the executor puts in results, besides the runners'.
const (
	// ErrNameAbandoned: nothing was running the execution any more (the
	// engine stopped while it ran).
	ErrNameAbandoned = "bwc.ExecutionAbandoned"
	// ErrNameEngineStopped: the engine shut down while the execution ran.
	ErrNameEngineStopped = "bwc.EngineStopped"
)

// ErrNotCancelable is returned by Cancel for an execution that has finished;
// it matches store.ErrConflict.
var ErrNotCancelable = fmt.Errorf("the execution has finished and cannot be canceled: %w", store.ErrConflict)

// ExecutorOptions configure an Executor.
type ExecutorOptions struct {
	// MaxRunning caps the executions running at once; default 64. Others
	// wait in status scheduled.
	MaxRunning int
	// APIURL is passed to actions (BWC_API_URL).
	APIURL string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// NewID makes execution ids; default a random id.
	NewID func() string
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Executor creates executions and runs them with the runners, streaming
// their output to the store, moving them through requested, scheduled,
// running and a final status, and emitting core.actiontrigger when they
// finish. It implements enforcer.Starter.
type Executor struct {
	st      ExecutionStore
	runners runner.Runner
	pub     Publisher
	actions enforcer.Actions
	valid   *enforcer.Validator
	opts    ExecutorOptions
	sem     chan struct{}

	root context.Context // canceled when the engine stops

	policies *policies // read-only once running
	// triggerTypes finds trigger types (for core.inject_trigger).
	triggerTypes func(ref string) *pack.TriggerType
	workflows    *workflowRunner // set by newWorkflowRunner

	mu       sync.Mutex
	running  map[string]*run
	watchers map[string][]chan store.Execution
	wg       sync.WaitGroup
}

type run struct {
	ctx      context.Context
	cancel   context.CancelFunc
	canceled bool // a user asked for it
}

var _ enforcer.Starter = (*Executor)(nil)

// NewExecutor builds an executor. root bounds every run: when it ends,
// running actions are killed and recorded as abandoned.
func NewExecutor(root context.Context, st ExecutionStore, runners runner.Runner, pub Publisher, actions enforcer.Actions, valid *enforcer.Validator, opts ExecutorOptions) *Executor {
	if opts.MaxRunning <= 0 {
		opts.MaxRunning = 64
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = func() string { return "ex-" + randomID() }
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if valid == nil {
		valid = &enforcer.Validator{}
	}
	return &Executor{
		st: st, runners: runners, pub: pub, actions: actions, valid: valid, opts: opts,
		sem: make(chan struct{}, opts.MaxRunning), root: root, running: map[string]*run{},
		watchers:     map[string][]chan store.Execution{},
		policies:     &policies{concurrency: map[string]*concurrencyPolicy{}, retry: map[string]*retryPolicy{}},
		triggerTypes: func(string) *pack.TriggerType { return nil },
	}
}

// RunRequest is an action run asked for by a user (API, CLI).
type RunRequest struct {
	Action     string         `json:"action"`
	Parameters map[string]any `json:"parameters,omitempty"`
	User       string         `json:"-"`
	TraceTag   string         `json:"trace_tag,omitempty"`
}

// Run validates a user's request and starts the execution. Outcomes: the
// execution (status requested); an error matching ErrUnknownAction or
// enforcer.ErrInvalidParameters (a *enforcer.ParameterError); a storage
// error.
func (x *Executor) Run(ctx context.Context, req RunRequest) (store.Execution, error) {
	a := x.actions.Action(req.Action)
	if a == nil {
		return store.Execution{}, fmt.Errorf("running %q: %w", req.Action, ErrUnknownAction)
	}
	if !a.Enabled {
		return store.Execution{}, fmt.Errorf("running %s: %w", a.Ref, ErrActionDisabled)
	}
	prep, err := x.valid.Parameters(ctx, a, req.Parameters)
	if err != nil {
		return store.Execution{}, err
	}
	id := x.opts.NewID()
	tag := req.TraceTag
	if tag == "" {
		tag = id
	}
	return x.Start(ctx, enforcer.StartRequest{
		ExecutionID: id,
		Action:      a,
		Parameters:  prep.Parameters,
		Secret:      prep.Secret,
		Context:     store.ExecutionContext{User: req.User, TraceTag: tag},
	})
}

// ReRun starts a new execution of the action of execution id, with its
// parameters overridden by params (enforcer.ReRunParameters): secret
// parameters not given take the values the store kept for the original;
// those it did not keep must be given again. Outcomes: the new execution;
// store.ErrNotFound; a *enforcer.ParameterError; the errors of Run.
func (x *Executor) ReRun(ctx context.Context, id string, params map[string]any, user string) (store.Execution, error) {
	orig, merged, err := enforcer.ReRunParameters(ctx, x.st, x.actions, id, params)
	if err != nil {
		return store.Execution{}, err
	}
	return x.Run(ctx, RunRequest{Action: orig.Action, Parameters: merged, User: user, TraceTag: orig.Context.TraceTag})
}

// Errors of Run. ErrUnknownAction matches store.ErrNotFound and
// ErrActionDisabled store.ErrConflict, so the API answers 404 and 409.
var (
	ErrUnknownAction  = fmt.Errorf("no such action: %w", store.ErrNotFound)
	ErrActionDisabled = fmt.Errorf("the action is disabled: %w", store.ErrConflict)
)

// Start creates the execution (status requested) and runs it in the
// background. One whose context has a NotBefore still to come is created
// delayed and scheduled when that time comes (after a restart too). A
// second Start with the same ExecutionID returns the stored execution and
// starts nothing.
func (x *Executor) Start(ctx context.Context, req enforcer.StartRequest) (store.Execution, error) {
	ex := store.Execution{
		ID:               req.ExecutionID,
		Action:           req.Action.Ref,
		Runner:           req.Action.RunnerType,
		Parameters:       req.Parameters,
		SecretParameters: req.Secret,
		Status:           store.StatusRequested,
		StartedAt:        x.opts.Now(),
		ParentID:         req.ParentID,
		Context:          req.Context,
	}
	held := false
	var pre *run
	if ex.Context.NotBefore.After(ex.StartedAt) {
		ex.Status = store.StatusDelayed
		ex.StatusLog = []store.StatusChange{{Status: store.StatusRequested, At: ex.StartedAt}, {Status: store.StatusDelayed, At: ex.StartedAt}}
	} else if x.policies.concurrency[ex.Action] == nil {
		// Nothing can hold it back: it is scheduled as it is requested,
		// in one write; the status log still shows both. When a runner
		// slot is free, it is taken now and the execution is created
		// running, still in one write, with all three in its log.
		ex.Status = store.StatusScheduled
		ex.StatusLog = []store.StatusChange{{Status: store.StatusRequested, At: ex.StartedAt}, {Status: store.StatusScheduled, At: ex.StartedAt}}
		if !waits(req.Action.RunnerType) {
			select {
			case x.sem <- struct{}{}:
				held = true
				ex.Status = store.StatusRunning
				ex.StatusLog = append(ex.StatusLog, store.StatusChange{Status: store.StatusRunning, At: ex.StartedAt})
				// Registered before it is stored running, so that a
				// cancel that finds it running can always kill it.
				pre = x.register(ex.ID)
			default:
			}
		}
	}
	got, err := x.st.CreateExecution(ctx, ex)
	if err != nil && held {
		<-x.sem
		x.unregister(ex.ID, pre)
	}
	if errors.Is(err, store.ErrAlreadyExists) {
		return got, nil
	}
	if err != nil {
		return store.Execution{}, fmt.Errorf("creating execution %s of %s: %w", ex.ID, ex.Action, err)
	}
	x.launchRun(got, req.Action, req.Parameters, held, pre)
	return got, nil
}

// launch runs a requested execution in the background.
func (x *Executor) launch(ex store.Execution, a *pack.Action, params map[string]any) {
	x.launchRun(ex, a, params, false, nil)
}

// launchRun is launch for Start: held says that the caller took a runner
// slot for the execution (x.sem), which the run releases; r, when not nil,
// is the run the caller registered for it.
func (x *Executor) launchRun(ex store.Execution, a *pack.Action, params map[string]any, held bool, r *run) {
	if r == nil {
		ctx, cancel := context.WithCancel(x.root)
		r = &run{ctx: ctx, cancel: cancel}
		x.mu.Lock()
		x.running[ex.ID] = r
		x.mu.Unlock()
	}
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		defer x.unregister(ex.ID, r)
		x.execute(r.ctx, ex, a, params, held)
	}()
}

// register records a run for execution id before it starts; nil when one
// is registered already (a second start of the same id).
func (x *Executor) register(id string) *run {
	ctx, cancel := context.WithCancel(x.root)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.running[id] != nil {
		cancel()
		return nil
	}
	r := &run{ctx: ctx, cancel: cancel}
	x.running[id] = r
	return r
}

// unregister ends run r of execution id (nothing when r is nil) and
// forgets it, unless another run took its place.
func (x *Executor) unregister(id string, r *run) {
	if r == nil {
		return
	}
	r.cancel()
	x.mu.Lock()
	if x.running[id] == r {
		delete(x.running, id)
	}
	x.mu.Unlock()
}

// Wait waits for every run started so far to end (after the root context
// is canceled, for shutdown; or in tests).
func (x *Executor) Wait() { x.wg.Wait() }

// execute moves one execution through its statuses.
func (x *Executor) execute(ctx context.Context, ex store.Execution, a *pack.Action, params map[string]any, held bool) {
	log := x.opts.Logger.With("execution", ex.ID, "action", ex.Action)
	// Use a context that outlives ctx for the records of the end.
	bg := context.WithoutCancel(ctx)
	switch ex.Status {
	case store.StatusScheduled, store.StatusRunning, store.StatusPending:
		// Admitted already (or resumed after a restart).
		x.run(ctx, bg, log, ex, a, params, held)
		return
	}
	if !x.waitUntil(ctx, ex.Context.NotBefore) {
		// Canceled, or the engine stops: left delayed, it waits for the
		// rest of its delay after a restart.
		return
	}
	cur, release, ok := x.admit(bg, ex)
	if !ok {
		return
	}
	defer release()
	if cur, ok = x.transition(bg, log, cur, store.StatusScheduled, nil); !ok {
		return
	}
	x.run(ctx, bg, log, cur, a, params, false)
}

// waitUntil waits until the executor's clock reads t or later (at once
// for the zero time). It reports false when ctx ends first.
func (x *Executor) waitUntil(ctx context.Context, t time.Time) bool {
	for {
		d := t.Sub(x.opts.Now())
		if d <= 0 {
			return true
		}
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return false
		}
	}
}

// run takes a runner slot (unless held already), runs the action and
// records how it ended.
func (x *Executor) run(ctx, bg context.Context, log *slog.Logger, cur store.Execution, a *pack.Action, params map[string]any, held bool) {
	ex := cur
	if held {
		defer func() { <-x.sem }()
	} else if !waits(a.RunnerType) {
		select {
		case x.sem <- struct{}{}:
		case <-ctx.Done():
			x.finishStopped(bg, log, cur)
			return
		}
		defer func() { <-x.sem }()
	}
	if cur.Status == store.StatusScheduled {
		var ok bool
		if cur, ok = x.transition(bg, log, cur, store.StatusRunning, nil); !ok {
			return
		}
	}
	req := runner.NewRequest(ex, a, params, x.opts.APIURL)
	req.Output = runner.StoreOutput(bg, x.st, ex.ID, x.opts.Now, func(seq int64, err error) {
		log.Error("storing output", "seq", seq, "err", err)
	})
	res, err := x.runners.Run(ctx, req)
	if x.root.Err() != nil && waits(a.RunnerType) {
		// The engine stops: a workflow (from its checkpoint) or an inquiry
		// is picked up again at the next start.
		return
	}

	if err == nil && a.Ref == runner.InjectTriggerAction {
		res, err = runner.InjectTrigger(bg, x.pub, x.triggerTypes, ex.ID, ex.Context.TraceTag, res)
	}
	to, result := x.outcome(ctx, ex.ID, res, err)
	if fin, ok := x.finish(bg, log, cur, to, result); ok {
		x.retry(fin, params)
	}
}

// startRequest is the request that starts ex again under a new id.
func startRequest(id string, a *pack.Action, ex store.Execution, params map[string]any) enforcer.StartRequest {
	return enforcer.StartRequest{ExecutionID: id, Action: a, Parameters: params, Secret: ex.SecretParameters, Context: ex.Context, ParentID: ex.ParentID}
}

// waits reports whether actions of a runner type spend their time waiting
// (on children, on people): they take no slot of MaxRunning, so that a
// workflow never holds the slot its own tasks need.
func waits(runnerType string) bool {
	switch runnerType {
	case pack.RunnerWorkflow, pack.RunnerASL, pack.RunnerInquirer:
		return true
	}
	return false
}

// watch returns a channel that receives the execution once it has
// finished (its core.actiontrigger emitted). Call it before the execution
// can finish.
func (x *Executor) watch(id string) <-chan store.Execution {
	ch := make(chan store.Execution, 1)
	x.mu.Lock()
	x.watchers[id] = append(x.watchers[id], ch)
	x.mu.Unlock()
	return ch
}

func (x *Executor) unwatch(id string) {
	x.mu.Lock()
	delete(x.watchers, id)
	x.mu.Unlock()
}

func (x *Executor) notify(ex store.Execution) {
	x.mu.Lock()
	ws := x.watchers[ex.ID]
	delete(x.watchers, ex.ID)
	x.mu.Unlock()
	for _, ch := range ws {
		ch <- ex
	}
}

// outcome turns a runner's answer into the final status and result.
func (x *Executor) outcome(ctx context.Context, id string, res runner.Result, err error) (store.ExecutionStatus, any) {
	if err == nil {
		return store.StatusSucceeded, res.Value
	}
	name := runner.ErrorName(err)
	to := store.StatusFailed
	switch name {
	case runner.ErrNameActionTimeout:
		to = store.StatusTimeout
	case runner.ErrNameActionCanceled:
		x.mu.Lock()
		r := x.running[id]
		userCanceled := r != nil && r.canceled
		x.mu.Unlock()
		switch {
		case userCanceled:
			to = store.StatusCanceled
		case x.root.Err() != nil:
			to = store.StatusAbandoned
			name = ErrNameEngineStopped
			err = errors.New("the engine stopped while the action ran")
		}
	}
	return to, withError(res.Value, name, err)
}

// withError adds {"error": {"name", "message"}} to a result (see
// runner.WithError).
func withError(v any, name string, err error) any {
	return runner.WithError(v, name, runner.ErrorMessage(err))
}

// transition moves ex to status to. When the stored execution is in
// another status (canceled meanwhile), it reports false after finishing
// what a cancellation needs.
func (x *Executor) transition(ctx context.Context, log *slog.Logger, ex store.Execution, to store.ExecutionStatus, result any) (store.Execution, bool) {
	u := store.ExecutionUpdate{From: ex.Status, To: to, At: x.opts.Now()}
	if result != nil {
		raw, err := json.Marshal(result)
		if err != nil {
			raw, _ = json.Marshal(withError(nil, runner.ErrNameActionFailed, fmt.Errorf("the result cannot be encoded as JSON: %w", err)))
		}
		u.Result = raw
	}
	got, err := x.st.UpdateExecution(ctx, ex.ID, u)
	if err == nil {
		return got, true
	}
	if errors.Is(err, store.ErrConflict) {
		// Someone else moved it (a cancel). A canceling execution that has
		// not started is finished here.
		if got.Status == store.StatusCanceling && !to.Finished() {
			x.finish(ctx, log, got, store.StatusCanceled, nil)
		}
		return got, false
	}
	log.Error("changing the status of an execution", "to", to, "err", err)
	return ex, false
}

// finish records the final status and emits core.actiontrigger.
func (x *Executor) finish(ctx context.Context, log *slog.Logger, cur store.Execution, to store.ExecutionStatus, result any) (store.Execution, bool) {
	for range 3 {
		got, ok := x.transition(ctx, log, cur, to, result)
		if ok {
			x.emit(ctx, log, got)
			return got, true
		}
		if got.Status.Finished() || got.Status == cur.Status {
			return got, false
		}
		// Moved meanwhile (running -> canceling): finish from there.
		cur = got
		if cur.Status == store.StatusCanceling && to == store.StatusCanceled {
			continue
		}
		if !store.CanTransition(cur.Status, to) {
			return cur, false
		}
	}
	return cur, false
}

func (x *Executor) finishStopped(ctx context.Context, log *slog.Logger, cur store.Execution) {
	x.finish(ctx, log, cur, store.StatusAbandoned, withError(nil, ErrNameEngineStopped, errors.New("the engine stopped before the action ran")))
}

// emit publishes core.actiontrigger for a finished execution and tells
// those who watch it.
func (x *Executor) emit(ctx context.Context, log *slog.Logger, ex store.Execution) {
	defer x.notify(ex)
	if x.pub == nil {
		return
	}
	if err := runner.EmitActionTrigger(ctx, x.pub, ex); err != nil {
		log.Error("emitting core.actiontrigger", "err", err)
	}
}

// Cancel asks to cancel an execution: one that has not started is canceled
// at once; a running one is moved to canceling and its action killed (it
// becomes canceled when the runner returns). Children are canceled too.
// Outcomes: the execution as updated; store.ErrNotFound; ErrNotCancelable
// for a finished execution; a storage error.
func (x *Executor) Cancel(ctx context.Context, id string) (store.Execution, error) {
	for range 5 {
		cur, err := x.st.GetExecution(ctx, id)
		if err != nil {
			return store.Execution{}, fmt.Errorf("canceling execution %s: %w", id, err)
		}
		if cur.Status.Finished() {
			return cur, fmt.Errorf("canceling execution %s (%s): %w", id, cur.Status, ErrNotCancelable)
		}
		if cur.Status == store.StatusCanceling {
			x.kill(id)
			return cur, nil
		}
		to := store.StatusCanceling
		if cur.Status == store.StatusRequested || cur.Status == store.StatusScheduled || cur.Status == store.StatusDelayed {
			to = store.StatusCanceled
			if cur.Status == store.StatusScheduled {
				to = store.StatusCanceling // it may be taking a slot now; the run finishes it
			}
		}
		got, err := x.st.UpdateExecution(ctx, id, store.ExecutionUpdate{From: cur.Status, To: to, At: x.opts.Now()})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return store.Execution{}, fmt.Errorf("canceling execution %s: %w", id, err)
		}
		if to == store.StatusCanceled {
			x.emit(ctx, x.opts.Logger, got)
			if cur.Status == store.StatusDelayed {
				x.kill(id) // stop its wait
			}
		} else if !x.kill(id) {
			// Nothing runs it here (a run that already ended its attempt):
			// finish the cancellation.
			fin, err := x.st.UpdateExecution(ctx, id, store.ExecutionUpdate{From: store.StatusCanceling, To: store.StatusCanceled, At: x.opts.Now()})
			if err == nil {
				got = fin
				x.emit(ctx, x.opts.Logger, got)
			}
		}
		x.cancelChildren(ctx, id)
		return got, nil
	}
	return store.Execution{}, fmt.Errorf("canceling execution %s: it kept changing status: %w", id, store.ErrConflict)
}

// Pause asks a running workflow to pause: it becomes pausing, starts no
// more tasks, and becomes paused when its running tasks have ended.
// Outcomes: the execution; store.ErrNotFound; store.ErrConflict (not a
// workflow, or not running); a storage error.
func (x *Executor) Pause(ctx context.Context, id string) (store.Execution, error) {
	return x.pauseResume(ctx, id, true)
}

// Resume resumes a paused workflow. Outcomes as Pause's (store.ErrConflict
// when it is not paused).
func (x *Executor) Resume(ctx context.Context, id string) (store.Execution, error) {
	return x.pauseResume(ctx, id, false)
}

func (x *Executor) pauseResume(ctx context.Context, id string, pause bool) (store.Execution, error) {
	verb, from, to := "pausing", store.StatusRunning, store.StatusPausing
	if !pause {
		verb, from, to = "resuming", store.StatusPaused, store.StatusRunning
	}
	cur, err := x.st.GetExecution(ctx, id)
	if err != nil {
		return store.Execution{}, fmt.Errorf("%s execution %s: %w", verb, id, err)
	}
	if cur.Runner != pack.RunnerWorkflow && cur.Runner != pack.RunnerASL {
		return cur, fmt.Errorf("%s execution %s: only workflows pause and resume, this is a %s action: %w", verb, id, cur.Runner, store.ErrConflict)
	}
	got, err := x.st.UpdateExecution(ctx, id, store.ExecutionUpdate{From: from, To: to, At: x.opts.Now()})
	if err != nil {
		return got, fmt.Errorf("%s execution %s (%s): %w", verb, id, cur.Status, err)
	}
	if x.workflows != nil {
		x.workflows.signal(id, pause)
	}
	return got, nil
}

// kill cancels the context of a running execution; it reports whether one
// was running here.
func (x *Executor) kill(id string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.running[id]
	if r == nil {
		return false
	}
	r.canceled = true
	r.cancel()
	return true
}

func (x *Executor) cancelChildren(ctx context.Context, id string) {
	q := store.ExecutionQuery{ParentID: id, Limit: store.MaxLimit}
	for {
		page, err := x.st.ListExecutions(ctx, q)
		if err != nil {
			x.opts.Logger.Error("listing the children of a canceled execution", "execution", id, "err", err)
			return
		}
		for _, c := range page.Items {
			if !c.Status.Finished() {
				if _, err := x.Cancel(ctx, c.ID); err != nil && !errors.Is(err, ErrNotCancelable) {
					x.opts.Logger.Error("canceling a child execution", "execution", c.ID, "err", err)
				}
			}
		}
		if page.Next == "" {
			return
		}
		q.Token = page.Next
	}
}

// resume starts again an execution found requested, delayed or scheduled
// after a restart, with its secret parameters read back from the store.
// One whose secret values were not kept (a store without a cipher) or do
// not decrypt cannot run again and is abandoned.
func (x *Executor) resume(ctx context.Context, ex store.Execution) error {
	a := x.actions.Action(ex.Action)
	if a == nil {
		return x.abandonWith(ctx, ex, fmt.Sprintf("action %s is no longer loaded", ex.Action))
	}
	params, reason := x.secretParameters(ctx, ex)
	if reason != "" {
		return x.abandonWith(ctx, ex, reason)
	}
	x.launch(ex, a, params)
	return nil
}

// resumeRunning runs again an execution found running or pending after a
// restart, whose runner can pick it up where it was (a workflow with a
// checkpoint, a workflow that starts over, an inquiry).
func (x *Executor) resumeRunning(ex store.Execution) error {
	ctx := context.Background()
	a := x.actions.Action(ex.Action)
	if a == nil {
		return x.abandonWith(ctx, ex, fmt.Sprintf("action %s is no longer loaded", ex.Action))
	}
	params, reason := x.secretParameters(ctx, ex)
	if reason != "" && ex.Context.ReRunStart != nil {
		// A re-run from a task starts from the variables recorded with
		// the task, not from its parameters.
		params, reason = ex.Parameters, ""
	}
	if reason != "" {
		return x.abandonWith(ctx, ex, reason)
	}
	x.launch(ex, a, params)
	return nil
}

// secretParameters returns the parameters of a stored execution with its
// secret values decrypted (store.ExecutionSecrets), or why it cannot have
// them. Neither the values nor the error's text (which could quote them)
// are logged.
func (x *Executor) secretParameters(ctx context.Context, ex store.Execution) (map[string]any, string) {
	if len(ex.SecretParameters) == 0 {
		return ex.Parameters, ""
	}
	secrets, err := x.st.ExecutionSecrets(ctx, ex.ID)
	if err != nil {
		return nil, "its secret parameters cannot be read back: " + secretsError(err)
	}
	params, missing := store.WithSecrets(ex.Parameters, ex.SecretParameters, secrets)
	if len(missing) > 0 {
		return nil, fmt.Sprintf("its secret parameters (%s) were not kept (the store has no cipher); run it again", strings.Join(missing, ", "))
	}
	return params, ""
}

// secretsError names what went wrong reading secrets without quoting
// anything the cipher returned.
func secretsError(err error) string {
	switch {
	case errors.Is(err, store.ErrNoCipher):
		return "the store has no cipher"
	case errors.Is(err, store.ErrNotFound):
		return "the execution is gone"
	}
	return "they do not decrypt with the store's key"
}

// abandon finishes an execution found in flight after a restart: nothing
// runs it any more.
func (x *Executor) abandon(ctx context.Context, ex store.Execution) error {
	if ex.Status == store.StatusCanceling {
		got, err := x.st.UpdateExecution(ctx, ex.ID, store.ExecutionUpdate{From: ex.Status, To: store.StatusCanceled, At: x.opts.Now()})
		if err != nil {
			return fmt.Errorf("finishing the cancellation of %s: %w", ex.ID, err)
		}
		x.emit(ctx, x.opts.Logger, got)
		return nil
	}
	return x.abandonWith(ctx, ex, fmt.Sprintf("the engine stopped while it was %s, and nothing runs it any more", ex.Status))
}

func (x *Executor) abandonWith(ctx context.Context, ex store.Execution, reason string) error {
	raw, err := json.Marshal(withError(nil, ErrNameAbandoned, errors.New(reason)))
	if err != nil {
		return fmt.Errorf("abandoning %s: %w", ex.ID, err)
	}
	got, err := x.st.UpdateExecution(ctx, ex.ID, store.ExecutionUpdate{From: ex.Status, To: store.StatusAbandoned, Result: raw, At: x.opts.Now()})
	if err != nil {
		return fmt.Errorf("abandoning %s: %w", ex.ID, err)
	}
	x.emit(ctx, x.opts.Logger, got)
	return nil
}
