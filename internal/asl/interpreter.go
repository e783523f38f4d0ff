package asl

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the time. Wait states, retries, timeouts and timestamps read
// it; tests inject a ManualClock so they take no real time.
type Clock interface {
	Now() time.Time
}

// Sleeper is an optional Clock method: SleepUntil blocks until t (a
// ManualClock jumps to t at once). RunUntilDone uses it; a Clock without it
// sleeps in real time.
type Sleeper interface {
	SleepUntil(ctx context.Context, t time.Time) error
}

// ManualClock is a Clock that moves only when told to, for tests and for
// runs that should not wait in real time (bwc asl run). It is safe for
// concurrent use; reading it takes no lock.
type ManualClock struct {
	now atomic.Pointer[time.Time] // never modified once stored
}

// NewManualClock returns a ManualClock set to start.
func NewManualClock(start time.Time) *ManualClock {
	c := &ManualClock{}
	c.now.Store(&start)
	return c
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	if p := c.now.Load(); p != nil {
		return *p
	}
	return time.Time{}
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.move(func(now time.Time) time.Time { return now.Add(d) })
}

// SleepUntil sets the clock to t if t is later; it never blocks.
func (c *ManualClock) SleepUntil(_ context.Context, t time.Time) error {
	c.move(func(now time.Time) time.Time {
		if t.After(now) {
			return t
		}
		return now
	})
	return nil
}

func (c *ManualClock) move(to func(time.Time) time.Time) {
	for {
		old := c.now.Load()
		var now time.Time
		if old != nil {
			now = *old
		}
		next := to(now)
		if c.now.CompareAndSwap(old, &next) {
			return
		}
	}
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now().UTC() }

// TaskRequest is what a Task state asks the TaskPort to run.
type TaskRequest struct {
	ExecutionID string
	StateName   string
	// Resource is the state's Resource ARN as written (after definition
	// substitutions), e.g. "arn:aws:states:::lambda:invoke.waitForTaskToken".
	Resource string
	// Kind is "lambda" for a Lambda function ARN, "activity" for an
	// activity ARN, and otherwise the integrated service ("lambda" for
	// lambda:invoke too, "states", "sqs", "aws-sdk:dynamodb" ...).
	Kind string
	// Action is the service API ("invoke", "startExecution", ...); empty
	// for a function or activity ARN.
	Action string
	// Pattern is "" (request-response), "sync", "sync:2" or
	// "waitForTaskToken".
	Pattern string
	// Parameters are the evaluated Parameters (JSONPath) or Arguments
	// (JSONata): for a Lambda function ARN the function's event, for
	// lambda:invoke the envelope {FunctionName, Payload, ...}.
	Parameters any
	// TaskToken identifies the task for SendTaskSuccess/Failure/Heartbeat.
	// Every task has one; it is in the context object only for
	// .waitForTaskToken tasks.
	TaskToken        string
	Attempt          int // 0 for the first try
	TimeoutSeconds   int // 0: none
	HeartbeatSeconds int // 0: none
	Credentials      any
}

// TaskResult is a TaskPort's answer.
type TaskResult struct {
	// Output is the task's result (for .waitForTaskToken tasks, the
	// submission's answer, recorded in the TaskSubmitted event).
	Output any
	// Pending means the result will come later through SendTaskSuccess or
	// SendTaskFailure with the request's TaskToken (a callback, or a .sync
	// job that the port runs in the background). .waitForTaskToken tasks
	// always wait for the token, whatever Pending says.
	Pending bool
}

// TaskPort runs Task states. RunTask returns the result, or a *TaskError to
// fail the task with an error name (a Lambda function's errorType, a
// service exception) that Retry and Catch match; any other error fails the
// task with States.TaskFailed. It is called on the goroutine that runs the
// execution and must not call back into it (use SendTask* later instead).
type TaskPort interface {
	RunTask(ctx context.Context, req *TaskRequest) (TaskResult, error)
}

// TaskPortFunc adapts a function to TaskPort.
type TaskPortFunc func(ctx context.Context, req *TaskRequest) (TaskResult, error)

// RunTask calls f.
func (f TaskPortFunc) RunTask(ctx context.Context, req *TaskRequest) (TaskResult, error) {
	return f(ctx, req)
}

// Interpreter runs state machines. It holds the ports executions use; it
// is safe for concurrent use by different executions.
type Interpreter struct {
	tasks   TaskPort
	clock   Clock
	random  func() float64
	ids     func() string
	hook    func(*Execution)
	account string
	region  string
}

// Option configures New.
type Option func(*Interpreter)

// WithTaskPort sets the port that runs Task states. Without one, every
// task fails with States.TaskFailed.
func WithTaskPort(p TaskPort) Option { return func(in *Interpreter) { in.tasks = p } }

// WithClock sets the clock (default: the system clock, UTC).
func WithClock(c Clock) Option { return func(in *Interpreter) { in.clock = c } }

// WithRandom sets the source of randomness (jitter, States.MathRandom,
// States.UUID, JSONata $random): numbers in [0, 1).
func WithRandom(r func() float64) Option { return func(in *Interpreter) { in.random = r } }

// WithIDs sets the generator of execution names and task tokens.
func WithIDs(next func() string) Option { return func(in *Interpreter) { in.ids = next } }

// WithTransitionHook calls fn after every state transition (and before
// every wait), with the execution in a consistent state that Snapshot can
// save. It runs on the executing goroutine.
func WithTransitionHook(fn func(*Execution)) Option { return func(in *Interpreter) { in.hook = fn } }

// WithAccount sets the account id and region used in the ARNs of the
// context object (default 123456789012, us-east-1).
func WithAccount(account, region string) Option {
	return func(in *Interpreter) { in.account, in.region = account, region }
}

// New builds an Interpreter.
func New(opts ...Option) *Interpreter {
	in := &Interpreter{clock: systemClock{}, account: "123456789012", region: "us-east-1"}
	for _, o := range opts {
		o(in)
	}
	if in.random == nil {
		r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		var mu sync.Mutex
		in.random = func() float64 {
			mu.Lock()
			defer mu.Unlock()
			return r.Float64()
		}
	}
	if in.ids == nil {
		in.ids = in.newUUID
	}
	if in.tasks == nil {
		in.tasks = TaskPortFunc(func(context.Context, *TaskRequest) (TaskResult, error) {
			return TaskResult{}, &Failure{Name: ErrTaskFailed, Cause: "no task port is configured"}
		})
	}
	return in
}

// Parse parses a definition with the interpreter's clock and randomness
// wired into JSONata's $now, $millis, $random and $uuid.
func (in *Interpreter) Parse(def []byte, opts ...ParseOption) (*Machine, error) {
	opts = append([]ParseOption{WithExpressionClock(in.clock.Now), WithExpressionRandom(in.random)}, opts...)
	return Parse(def, opts...)
}

func (in *Interpreter) newUUID() string {
	var b [16]byte
	for i := 0; i < 16; i += 4 {
		v := uint32(in.random() * (1 << 32))
		b[i], b[i+1], b[i+2], b[i+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Execution statuses, as DescribeExecution reports them.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// StartOptions name an execution.
type StartOptions struct {
	// Name is the execution name (default: a generated id).
	Name string
	// StateMachineName names the machine in ARNs (default "StateMachine").
	StateMachineName string
	// RoleARN is reported in ExecutionStarted and the context object.
	RoleARN string
}

// Execution is one run of a Machine. Its methods must not be called
// concurrently.
type Execution struct {
	in *Interpreter
	m  *Machine
	st *execState
}

type execState struct {
	ARN        string            `json:"arn"`
	Name       string            `json:"name"`
	MachineARN string            `json:"machineArn"`
	RoleARN    string            `json:"roleArn"`
	Status     string            `json:"status"`
	Input      any               `json:"input"`
	Output     any               `json:"output,omitempty"`
	Error      string            `json:"error,omitempty"`
	Cause      string            `json:"cause,omitempty"`
	Start      time.Time         `json:"start"`
	Stop       time.Time         `json:"stop,omitzero"`
	Root       *frame            `json:"root"`
	History    []Event           `json:"history"` // filled only while serializing
	blocks     [][]record        // the history, in blocks that are never copied
	events     int               // number of events in blocks
	wide       map[int]time.Time // timestamps of events far from Start, by id (see record.at)
	originSec  int64             // Start in Unix seconds and nanoseconds, once originSet
	originNsec int64
	originSet  bool
	Deadline   time.Time `json:"deadline,omitzero"`
	Def        string    `json:"definitionHash"`
}

// Description is DescribeExecution's answer.
type Description struct {
	ExecutionARN    string    `json:"executionArn"`
	StateMachineARN string    `json:"stateMachineArn"`
	Name            string    `json:"name"`
	Status          string    `json:"status"`
	StartDate       time.Time `json:"startDate"`
	StopDate        time.Time `json:"stopDate,omitzero"`
	Input           any       `json:"input"`
	Output          any       `json:"output,omitempty"`
	Error           string    `json:"error,omitempty"`
	Cause           string    `json:"cause,omitempty"`
}

// Start begins an execution of m with input (decoded JSON) and runs it
// until it ends or waits. The error is for the caller's mistakes and
// context cancellation; a failed execution is a Description status.
func (in *Interpreter) Start(ctx context.Context, m *Machine, input any, o StartOptions) (*Execution, error) {
	if o.Name == "" {
		o.Name = in.ids()
	}
	if o.StateMachineName == "" {
		o.StateMachineName = "StateMachine"
	}
	now := in.clock.Now().UTC()
	prefix := "arn:aws:states:" + in.region + ":" + in.account
	machineARN := prefix + ":stateMachine:" + o.StateMachineName
	st := &execState{
		ARN:        prefix + ":execution:" + o.StateMachineName + ":" + o.Name,
		Name:       o.Name,
		MachineARN: machineARN,
		RoleARN:    o.RoleARN,
		Status:     StatusRunning,
		Input:      input,
		Start:      now,
		Def:        m.fingerprint(),
	}
	if m.root.TimeoutSeconds > 0 {
		st.Deadline = now.Add(time.Duration(m.root.TimeoutSeconds) * time.Second)
	}
	x := &Execution{in: in, m: m, st: st}
	x.emitLazy(nil, "ExecutionStarted", "executionStartedEventDetails", &startedDetails{input: input, roleARN: o.RoleARN})
	st.Root = &frame{Graph: "", State: m.root.StartAt, Phase: phaseEnter, Input: input}
	size := jsonSize(input, maxPayloadBytes+1)
	if size > maxPayloadBytes {
		x.finish(nil, &Failure{Name: ErrDataLimitExceeded, Cause: fmt.Sprintf("The state/task input payload of size %d bytes exceeds the maximum of 262144 bytes", size)})
		return x, nil
	}
	st.Root.inSize = size
	if in.hook != nil {
		in.hook(x)
	}
	return x, x.Run(ctx)
}

// ID returns the execution ARN.
func (x *Execution) ID() string { return x.st.ARN }

// Machine returns the machine the execution runs.
func (x *Execution) Machine() *Machine { return x.m }

// Describe returns the execution's status, and its output or error.
func (x *Execution) Describe() Description {
	return Description{ExecutionARN: x.st.ARN, StateMachineARN: x.st.MachineARN, Name: x.st.Name, Status: x.st.Status,
		StartDate: x.st.Start, StopDate: x.st.Stop, Input: x.st.Input, Output: x.st.Output, Error: x.st.Error, Cause: x.st.Cause}
}

// Done reports whether the execution has ended.
func (x *Execution) Done() bool { return x.st.Status != StatusRunning }

// Stop aborts a running execution (StopExecution).
func (x *Execution) Stop(errName, cause string) error {
	if x.Done() {
		return fmt.Errorf("stopping execution %s: %w", x.st.Name, ErrExecutionNotRunning)
	}
	x.abortFrame(x.st.Root)
	x.st.Status = StatusAborted
	x.st.Error, x.st.Cause = errName, cause
	x.st.Stop = x.now()
	d := map[string]any{}
	if errName != "" {
		d["error"] = errName
	}
	if cause != "" {
		d["cause"] = cause
	}
	x.emit(nil, "ExecutionAborted", "executionAbortedEventDetails", d)
	return nil
}

// NextWake returns the earliest time at which a waiting execution has
// something to do (a Wait state ends, a retry is due, a task times out).
func (x *Execution) NextWake() (time.Time, bool) { return x.nextWake(true) }

func (x *Execution) nextWake(deadlines bool) (time.Time, bool) {
	var best time.Time
	var walk func(f *frame)
	walk = func(f *frame) {
		for i, t := range []time.Time{f.WakeAt, f.Deadline, f.HeartbeatDeadline} {
			if i > 0 && !deadlines {
				break
			}
			if !t.IsZero() && (best.IsZero() || t.Before(best)) {
				best = t
			}
		}
		for _, c := range f.Children {
			if c != nil {
				walk(c)
			}
		}
	}
	if x.Done() || x.st.Root == nil {
		return time.Time{}, false
	}
	walk(x.st.Root)
	if deadlines && !x.st.Deadline.IsZero() && (best.IsZero() || x.st.Deadline.Before(best)) {
		best = x.st.Deadline
	}
	return best, !best.IsZero()
}

// RunUntilDone runs the execution, sleeping (with the clock's SleepUntil
// when it has one) through Wait states and retry intervals, until it ends
// or only tasks are left waiting (for a task token or a pending result).
// It does not sleep towards task timeouts: those fire when Run is called
// after the clock has passed them.
func (x *Execution) RunUntilDone(ctx context.Context) error {
	for {
		if err := x.Run(ctx); err != nil {
			return err
		}
		if x.Done() {
			return nil
		}
		t, ok := x.nextWake(false)
		if !ok {
			return nil
		}
		if s, ok := x.in.clock.(Sleeper); ok {
			if err := s.SleepUntil(ctx, t); err != nil {
				return fmt.Errorf("waiting until %s: %w", t.Format(time.RFC3339), err)
			}
			continue
		}
		d := time.Until(t)
		if d > 0 {
			timer := time.NewTimer(d)
			select {
			case <-ctx.Done():
				timer.Stop()
				return fmt.Errorf("waiting until %s: %w", t.Format(time.RFC3339), ctx.Err())
			case <-timer.C:
			}
		}
	}
}

// Run advances the execution as far as it can go now: until it ends, or
// every branch waits for a timer or a task token.
func (x *Execution) Run(ctx context.Context) error {
	for !x.Done() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("running execution %s: %w", x.st.Name, err)
		}
		if !x.st.Deadline.IsZero() && !x.now().Before(x.st.Deadline) {
			x.abortFrame(x.st.Root)
			x.st.Status = StatusTimedOut
			x.st.Error, x.st.Cause = ErrTimeout, ""
			x.st.Stop = x.now()
			x.emit(nil, "ExecutionTimedOut", "executionTimedOutEventDetails", map[string]any{"error": ErrTimeout})
			return nil
		}
		r := &run{x: x, in: x.in, ctx: ctx}
		progressed := r.advance(x.st.Root)
		root := x.st.Root
		switch root.Phase {
		case phaseDone:
			x.finish(root.Output, nil)
			return nil
		case phaseFailed:
			x.finish(nil, root.Err)
			return nil
		}
		if !progressed {
			return nil
		}
	}
	return nil
}

func (x *Execution) finish(output any, f *Failure) {
	x.st.Stop = x.now()
	if f != nil {
		x.st.Status = StatusFailed
		x.st.Error, x.st.Cause = f.Name, f.Cause
		d := map[string]any{"error": f.Name}
		if f.Cause != "" {
			d["cause"] = f.Cause
		}
		x.emit(nil, "ExecutionFailed", "executionFailedEventDetails", d)
		return
	}
	x.st.Status = StatusSucceeded
	x.st.Output = output
	x.emitLazy(nil, "ExecutionSucceeded", "executionSucceededEventDetails", &succeededDetails{output: output})
}

func (x *Execution) now() time.Time { return x.in.clock.Now().UTC() }

// Snapshot serializes the execution's whole state (JSON). Interpreter.Resume
// restores it, with the same machine, in this or another process.
func (x *Execution) Snapshot() ([]byte, error) {
	x.st.History = x.History()
	b, err := json.Marshal(x.st)
	x.st.History = nil
	if err != nil {
		return nil, fmt.Errorf("serializing execution %s: %w", x.st.Name, err)
	}
	return b, nil
}

// Resume restores an execution from a Snapshot. It does not run it: call
// Run or RunUntilDone.
func (in *Interpreter) Resume(m *Machine, snapshot []byte) (*Execution, error) {
	var st execState
	if err := json.Unmarshal(snapshot, &st); err != nil {
		return nil, fmt.Errorf("resuming execution: %w: %w", ErrInvalidSnapshot, err)
	}
	if st.Root == nil || st.Def != m.fingerprint() {
		return nil, fmt.Errorf("resuming execution %s: %w: it was taken from another state machine", st.Name, ErrInvalidSnapshot)
	}
	st.Root.link(nil)
	recs, err := recordsOf(&st, st.History)
	if err != nil {
		return nil, fmt.Errorf("resuming execution %s: %w: %w", st.Name, ErrInvalidSnapshot, err)
	}
	st.blocks, st.events = [][]record{recs}, len(recs)
	st.History = nil
	return &Execution{in: in, m: m, st: &st}, nil
}
