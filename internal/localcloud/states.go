package localcloud

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/workflow"
)

// machine is one state machine of the local cloud.
type machine struct {
	ref, name, arn string
	definition     string // with the substitutions filled
	m              *asl.Machine
	created        time.Time
	// direct: a direct rule's machine; its executions are not BWC
	// executions, so their status changes are not sent (the stack's
	// execution-status rule lists the BWC machines only).
	direct bool
}

// parseMachines parses the configured definitions with the stack's
// substitutions filled for the local account.
func (c *Cloud) parseMachines() error {
	c.machines = map[string]*machine{}
	subs := map[string]string{"RunnerFunctionArn": c.FunctionARN(FnRunner)}
	if c.cfg.Table != "" {
		subs[tableNameParam] = c.cfg.Table
	}
	for ref := range c.cfg.Machines {
		subs[workflow.StateMachineArnParam(ref)] = c.MachineARN(ref)
	}
	var errs []error
	now := c.cfg.Now()
	for ref, def := range c.cfg.Machines {
		m, err := asl.Parse(def, asl.WithSubstitutions(subs))
		if err != nil {
			errs = append(errs, fmt.Errorf("parsing the state machine of %s: %w", ref, err))
			continue
		}
		text := string(def)
		for k, v := range subs {
			text = strings.ReplaceAll(text, "${"+k+"}", v)
		}
		arn := c.MachineARN(ref)
		c.machines[arn] = &machine{ref: ref, name: MachineName(c.cfg.Name, ref), arn: arn, definition: text, m: m, created: now, direct: c.directRefs[ref]}
	}
	return errors.Join(errs...)
}

// parentLink ties a child execution started by a .sync or .sync:2 task to
// the task waiting for it.
type parentLink struct {
	ExecutionARN string `json:"executionArn"`
	Token        string `json:"token"`
	Pattern      string `json:"pattern"`
}

// invocation is a function invocation in flight for a task.
type invocation struct {
	Function string          `json:"function"`
	Payload  json.RawMessage `json:"payload"`
	Envelope bool            `json:"envelope"` // lambda:invoke: the result is wrapped
	Callback bool            `json:"callback"` // .waitForTaskToken: the result is ignored
}

// execution is one execution of a state machine. mu guards everything
// below it; x runs only under mu.
type execution struct {
	mach *machine
	arn  string
	// inputJSON (the input, compact) and start never change, and ended is
	// atomic: starting an execution by name reads them to find it again
	// without its lock, which a running task of the execution (or of one
	// it waits for) may hold while it starts executions itself.
	inputJSON string
	start     time.Time
	ended     atomic.Bool

	mu          sync.Mutex
	x           *asl.Execution
	inputText   string
	parent      *parentLink
	children    []string              // execution ARNs started by .sync tasks
	invocations map[string]invocation // by task token
	notified    bool                  // the end was announced
	retired     bool                  // counted among the ended executions kept
	// file is where Dir keeps the execution; forgotten is set once it is
	// no longer kept (Config.KeepEnded), and it is saved no more.
	file      string
	forgotten atomic.Bool
	timer     *time.Timer
	// started is closed once the RUNNING status change was delivered (or
	// given up): the end's status change waits for it. Nil after a reload.
	started <-chan struct{}
}

// tokenInfo is an issued task token.
type tokenInfo struct {
	exec *execution
}

type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f().UTC() }

// startClock reads start first, then the cloud's clock: the interpreter
// then dates an execution's start as startExecution recorded it.
type startClock struct {
	start time.Time
	read  atomic.Bool
	now   func() time.Time
}

func (s *startClock) Now() time.Time {
	if s.read.CompareAndSwap(false, true) {
		return s.start
	}
	return s.now().UTC()
}

// interpreter builds the interpreter that runs ex; a non-zero start is
// the time its first clock read returns (the start of a new execution).
func (c *Cloud) interpreter(ex *execution, start time.Time) *asl.Interpreter {
	var clock asl.Clock = clockFunc(c.cfg.Now)
	if !start.IsZero() {
		clock = &startClock{start: start, now: c.cfg.Now}
	}
	return asl.New(
		asl.WithTaskPort(&taskPort{c: c, ex: ex}),
		asl.WithAccount(Account, c.cfg.Region),
		asl.WithClock(clock),
		asl.WithIDs(newToken),
	)
}

// Task tokens: "AQ" and 96 hex digits.
const tokenPrefix = "AQ"

func newToken() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return tokenPrefix + hex.EncodeToString(b[:])
}

func validToken(t string) bool {
	if len(t) != len(tokenPrefix)+96 || !strings.HasPrefix(t, tokenPrefix) {
		return false
	}
	_, err := hex.DecodeString(t[len(tokenPrefix):])
	return err == nil
}

// validName checks an execution name as Step Functions does.
func validName(n string) bool {
	if n == "" || len(n) > 80 {
		return false
	}
	for _, r := range n {
		if r <= 0x20 || r == 0x7f || (r >= 0x7f && r <= 0x9f) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return false
		}
	}
	return true
}

// startExecution starts (or finds, when it exists with the same input and
// runs) the execution name of the machine arn.
func (c *Cloud) startExecution(machineARN, name string, input any, inputText string, parent *parentLink) (*execution, error) {
	c.mu.Lock()
	mach := c.machines[machineARN]
	if mach == nil {
		c.mu.Unlock()
		if !strings.HasPrefix(machineARN, "arn:") {
			return nil, errorf("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", machineARN)
		}
		return nil, errorf("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", machineARN)
	}
	if c.closed {
		c.mu.Unlock()
		return nil, errClosed
	}
	arn := "arn:aws:states:" + c.cfg.Region + ":" + Account + ":execution:" + mach.name + ":" + name
	key := compact(input)
	if ex := c.execs[arn]; ex != nil {
		c.mu.Unlock()
		// Not under ex.mu: ex may be the execution (or wait for the one)
		// whose task runs this start, and that holds its lock.
		if !ex.ended.Load() && ex.inputJSON == key {
			return ex, nil
		}
		return nil, errorf("ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
	}
	start := c.cfg.Now().UTC()
	ex := &execution{mach: mach, arn: arn, inputJSON: key, start: start, inputText: inputText, parent: parent, invocations: map[string]invocation{}, file: c.fileName(mach, name)}
	ex.mu.Lock()
	c.execs[arn] = ex
	c.mu.Unlock()
	defer ex.mu.Unlock()
	x, err := c.interpreter(ex, start).Start(c.root, mach.m, input, asl.StartOptions{Name: name, StateMachineName: mach.name, RoleARN: c.roleARN(mach)})
	if x == nil {
		c.mu.Lock()
		delete(c.execs, arn)
		c.mu.Unlock()
		return nil, fmt.Errorf("starting execution %s: %w", arn, err)
	}
	ex.x = x
	ex.started = c.announce(ex, true, nil)
	c.afterStep(ex)
	return ex, nil
}

// afterStep runs with ex.mu held after anything moved ex: it saves the
// execution, sets its timer, and announces its end once.
func (c *Cloud) afterStep(ex *execution) {
	c.save(ex)
	if ex.timer != nil {
		ex.timer.Stop()
		ex.timer = nil
	}
	if ex.x.Done() {
		ex.ended.Store(true)
		if !ex.notified {
			ex.notified = true
			c.finished(ex)
			c.save(ex)
		}
		c.retire(ex)
		return
	}
	if t, ok := ex.x.NextWake(); ok {
		ex.timer = time.AfterFunc(max(0, t.Sub(c.cfg.Now())), func() {
			ex.mu.Lock()
			defer ex.mu.Unlock()
			if c.root.Err() != nil {
				return // closed: the timer is set again on reload
			}
			if err := ex.x.Run(c.root); err != nil {
				c.log.Error("running an execution", "execution", ex.arn, "err", err)
			}
			c.afterStep(ex)
		})
	}
}

// retire counts ex (ended, its lock held) among the ended executions kept
// and forgets the oldest ones beyond Config.KeepEnded: their entries, the
// task tokens they issued and their files.
func (c *Cloud) retire(ex *execution) {
	if ex.retired {
		return
	}
	ex.retired = true
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = append(c.ended, ex)
	n := len(c.ended) - c.cfg.KeepEnded
	if n <= 0 {
		return
	}
	old := c.ended[:n]
	c.ended = slices.Clone(c.ended[n:])
	gone := map[*execution]bool{}
	for _, o := range old {
		gone[o] = true
		o.forgotten.Store(true)
		if c.execs[o.arn] == o {
			delete(c.execs, o.arn)
		}
		if c.cfg.Dir != "" {
			if err := os.Remove(o.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
				c.log.Error("removing a forgotten execution", "execution", o.arn, "err", err)
			}
		}
	}
	for t, ti := range c.tokens {
		if gone[ti.exec] {
			delete(c.tokens, t)
		}
	}
}

// finished announces the end of ex: the status change event to the
// completion function, the result to a parent's waiting task.
func (c *Cloud) finished(ex *execution) {
	d := ex.x.Describe()
	c.announce(ex, false, ex.started)
	if p := ex.parent; p != nil {
		c.background(func() { c.completeParent(p, d) })
	}
}

// announce sends the status change of ex (RUNNING when start is true, else
// its current status) to the completion function, as the stack's
// execution-status rule does, after the delivery after (if not nil) ends;
// it returns when the delivery is done. The executions of direct machines
// are not announced.
func (c *Cloud) announce(ex *execution, start bool, after <-chan struct{}) <-chan struct{} {
	if ex.mach.direct {
		return nil
	}
	d := ex.x.Describe()
	if start {
		d.Status, d.StopDate, d.Output, d.Error, d.Cause = asl.StatusRunning, time.Time{}, nil, "", ""
	}
	ev := c.statusChange(d, ex.inputText)
	raw, err := json.Marshal(ev)
	if err != nil {
		c.log.Error("encoding an event", "event", ev.ID, "err", err)
		return nil
	}
	return c.deliver(FnCompletion, "execution-status", ev.ID, raw, after)
}

// statusChange is the "Step Functions Execution Status Change" event of an
// execution, as Step Functions sends it to EventBridge.
func (c *Cloud) statusChange(d asl.Description, inputText string) Event {
	detail := map[string]any{
		"executionArn": d.ExecutionARN, "stateMachineArn": d.StateMachineARN, "name": d.Name, "status": d.Status,
		"startDate": d.StartDate.UnixMilli(), "stopDate": nil,
		"input": inputText, "inputDetails": map[string]any{"included": true},
		"output": nil, "outputDetails": nil, "error": nil, "cause": nil,
	}
	if !d.StopDate.IsZero() {
		detail["stopDate"] = d.StopDate.UnixMilli()
	}
	if d.Status == asl.StatusSucceeded {
		detail["output"] = compact(d.Output)
		detail["outputDetails"] = map[string]any{"included": true}
	}
	if d.Error != "" {
		detail["error"] = d.Error
	}
	if d.Cause != "" {
		detail["cause"] = d.Cause
	}
	raw, _ := json.Marshal(detail)
	at := d.StopDate
	if at.IsZero() {
		at = c.cfg.Now()
	}
	return Event{Version: "0", ID: newUUID(), DetailType: statusChangeDetailType, Source: statusChangeSource, Account: Account,
		Time: at.UTC().Format("2006-01-02T15:04:05Z"), Region: c.cfg.Region, Resources: []string{d.ExecutionARN}, Detail: raw}
}

// completeParent hands a child execution's end to the .sync task waiting
// for it, as Step Functions does: the DescribeExecution answer (JSON
// values for .sync:2, JSON text for .sync) on success, else States.TaskFailed
// with that answer as the cause.
func (c *Cloud) completeParent(p *parentLink, d asl.Description) {
	c.mu.Lock()
	parent := c.execs[p.ExecutionARN]
	c.mu.Unlock()
	if parent == nil {
		return
	}
	data := func(v any) any {
		if p.Pattern == "sync:2" {
			return v
		}
		return compact(v)
	}
	desc := map[string]any{
		"ExecutionArn": d.ExecutionARN, "StateMachineArn": d.StateMachineARN, "Name": d.Name, "Status": d.Status,
		"StartDate": float64(d.StartDate.UnixMilli()), "StopDate": float64(d.StopDate.UnixMilli()),
		"Input": data(d.Input), "InputDetails": map[string]any{"Included": true},
	}
	parent.mu.Lock()
	defer parent.mu.Unlock()
	var err error
	if d.Status == asl.StatusSucceeded {
		desc["Output"] = data(d.Output)
		desc["OutputDetails"] = map[string]any{"Included": true}
		err = parent.x.SendTaskSuccess(c.root, p.Token, desc)
	} else {
		desc["Error"], desc["Cause"] = d.Error, d.Cause
		err = parent.x.SendTaskFailure(c.root, p.Token, asl.ErrTaskFailed, compact(desc))
	}
	if err != nil {
		c.log.Debug("a child execution ended after its parent's task", "parent", p.ExecutionARN, "err", err)
	}
	c.forget(p.Token)
	c.afterStep(parent)
}

// taskPort runs the Task states of one execution. RunTask is called with
// the execution's lock held (ex.x may still be nil, during Start).
type taskPort struct {
	c  *Cloud
	ex *execution
}

// RunTask implements asl.TaskPort.
func (p *taskPort) RunTask(ctx context.Context, req *asl.TaskRequest) (asl.TaskResult, error) {
	c := p.c
	switch {
	case req.Kind == "dynamodb":
		return c.runDynamoDB(ctx, req)
	case req.Kind == "lambda":
		function, payload := req.Resource, req.Parameters
		envelope := req.Action == "invoke"
		if envelope {
			args, _ := req.Parameters.(map[string]any)
			function, _ = args["FunctionName"].(string)
			payload = args["Payload"]
		}
		name := c.functionName(function)
		if c.cfg.Functions[name] == nil {
			return asl.TaskResult{}, &asl.Failure{Name: "Lambda.ResourceNotFoundException",
				Cause: fmt.Sprintf("Function not found: %s (bwc serve --aws hosts no function %q: pass --lambda %s=URL)", function, name, name)}
		}
		body, err := json.Marshal(payload)
		if err != nil {
			return asl.TaskResult{}, &asl.Failure{Name: "Lambda.InvalidRequestContentException", Cause: err.Error()}
		}
		inv := invocation{Function: name, Payload: body, Envelope: envelope, Callback: req.Pattern == "waitForTaskToken"}
		p.ex.invocations[req.TaskToken] = inv
		c.issue(req.TaskToken, p.ex)
		c.invoke(p.ex, req.TaskToken, inv)
		return asl.TaskResult{Pending: true}, nil
	case req.Kind == "states" && req.Action == "startExecution":
		args, _ := req.Parameters.(map[string]any)
		arn, _ := args["StateMachineArn"].(string)
		name, _ := args["Name"].(string)
		if name == "" {
			name = newUUID()
		} else if !validName(name) {
			// As Step Functions refuses it; the name also names the
			// execution's file in Dir, so it must not be a path.
			return asl.TaskResult{}, &asl.Failure{Name: "StepFunctions.InvalidNameException",
				Cause: fmt.Sprintf("state %s: Invalid Name: '%s': expected 1 to 80 characters, none of them whitespace, control characters or <>{}[]?*\"#%%\\^|~`$&,;:/", req.StateName, truncate(name, 100))}
		}
		input := args["Input"]
		if s, ok := input.(string); ok {
			var v any
			if json.Unmarshal([]byte(s), &v) == nil {
				input = v
			}
		}
		if input == nil {
			input = map[string]any{}
		}
		if arn != "" && executionARN(arn, name) == p.ex.arn {
			// The execution would start itself: it exists (and its lock is
			// held here, so looking it up would wait forever).
			return asl.TaskResult{}, &asl.Failure{Name: "StepFunctions.ExecutionAlreadyExistsException",
				Cause: fmt.Sprintf("state %s: Execution Already Exists: '%s' (an execution cannot start itself)", req.StateName, p.ex.arn)}
		}
		var link *parentLink
		if req.Pattern == "sync" || req.Pattern == "sync:2" {
			link = &parentLink{ExecutionARN: p.ex.arn, Token: req.TaskToken, Pattern: req.Pattern}
			c.issue(req.TaskToken, p.ex)
		}
		child, err := c.startExecution(arn, name, input, compact(input), link)
		if err != nil {
			if link != nil {
				c.forget(req.TaskToken)
			}
			var ae *apiError
			if errors.As(err, &ae) {
				return asl.TaskResult{}, &asl.Failure{Name: "StepFunctions." + ae.Type + "Exception", Cause: ae.Message}
			}
			return asl.TaskResult{}, fmt.Errorf("starting a child execution of %s: %w", arn, err)
		}
		if link == nil {
			return asl.TaskResult{Output: map[string]any{"ExecutionArn": child.arn, "StartDate": float64(child.startDate().UnixMilli())}}, nil
		}
		p.ex.children = append(p.ex.children, child.arn)
		return asl.TaskResult{Pending: true}, nil
	}
	return asl.TaskResult{}, &asl.Failure{Name: asl.ErrTaskFailed, Cause: fmt.Sprintf("state %s: resource %s is not run by the local cloud (bwc serve --aws runs Lambda functions and Step Functions executions)", req.StateName, req.Resource)}
}

// executionARN is the ARN of the execution name of the state machine
// machineARN; "" when machineARN is not a state machine's ARN.
func executionARN(machineARN, name string) string {
	const sm = ":stateMachine:"
	i := strings.LastIndex(machineARN, sm)
	if i < 0 {
		return ""
	}
	return machineARN[:i] + ":execution:" + machineARN[i+len(sm):] + ":" + name
}

// startDate is an execution's start, read without its lock (see
// execution.start).
func (ex *execution) startDate() time.Time { return ex.start }

// functionName maps a function name or ARN to the name of a configured
// function: "arn:aws:lambda:r:a:function:bwc-runner[:qualifier]",
// "bwc-runner" and "runner" all name FnRunner.
func (c *Cloud) functionName(fn string) string {
	if i := strings.Index(fn, ":function:"); i >= 0 {
		fn = fn[i+len(":function:"):]
		if j := strings.IndexByte(fn, ':'); j >= 0 {
			fn = fn[:j]
		}
	}
	return strings.TrimPrefix(fn, c.cfg.Name+"-")
}

func (c *Cloud) issue(token string, ex *execution) {
	c.mu.Lock()
	c.tokens[token] = &tokenInfo{exec: ex}
	c.mu.Unlock()
}

// invoke runs a task's function on its own goroutine and hands the result
// to the execution.
func (c *Cloud) invoke(ex *execution, token string, inv invocation) {
	f := c.cfg.Functions[inv.Function]
	// Once closed, the invocation stays in flight: it is made again on
	// reload.
	c.background(func() {
		out, err := f.Invoke(c.root, inv.Payload)
		if c.root.Err() != nil {
			return // shutting down: kept as in flight, invoked again on reload
		}
		ex.mu.Lock()
		defer ex.mu.Unlock()
		delete(ex.invocations, token)
		if ex.x.Done() {
			c.forget(token)
			c.save(ex)
			return
		}
		var serr error
		switch {
		case err != nil:
			fe := asFunctionError(err)
			name := fe.ErrorType
			if name == "" || strings.HasPrefix(name, "States.") {
				name = "Lambda.Unknown"
			}
			cause := map[string]any{"errorMessage": fe.ErrorMessage, "errorType": fe.ErrorType}
			if fe.StackTrace != nil {
				cause["stackTrace"] = fe.StackTrace
			}
			serr = ex.x.SendTaskFailure(c.root, token, name, compact(cause))
		case inv.Callback && !answersCallbacks(f):
			c.save(ex)
			return
		default:
			var v any
			if err := json.Unmarshal(out, &v); err != nil {
				serr = ex.x.SendTaskFailure(c.root, token, "Lambda.Unknown", compact(map[string]any{"errorMessage": "the function's result is not JSON", "errorType": "Lambda.Unknown"}))
				break
			}
			if inv.Envelope && !inv.Callback {
				v = map[string]any{
					"ExecutedVersion": "$LATEST", "Payload": v, "StatusCode": 200.0,
					"SdkHttpMetadata": map[string]any{"HttpStatusCode": 200.0},
				}
			}
			serr = ex.x.SendTaskSuccess(c.root, token, v)
		}
		if serr != nil && !errors.Is(serr, asl.ErrTaskTokenNotFound) {
			c.log.Error("handing a function's result to its task", "execution", ex.arn, "function", inv.Function, "err", serr)
		}
		c.forget(token)
		c.afterStep(ex)
	})
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// execution returns the execution of an ARN, or ExecutionDoesNotExist.
func (c *Cloud) execution(arn string) (*execution, error) {
	if !strings.HasPrefix(arn, "arn:aws:states:") || !strings.Contains(arn, ":execution:") {
		return nil, errorf("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	c.mu.Lock()
	ex := c.execs[arn]
	c.mu.Unlock()
	if ex == nil {
		return nil, errorf("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	return ex, nil
}

// The Step Functions API.

func (c *Cloud) startExecutionOp(_ context.Context, body []byte) (any, error) {
	var in struct {
		StateMachineARN string  `json:"stateMachineArn"`
		Name            string  `json:"name"`
		Input           *string `json:"input"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.StateMachineARN == "" {
		return nil, errorf("ValidationException", "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null")
	}
	if in.Name == "" {
		in.Name = newUUID()
	} else if !validName(in.Name) {
		return nil, errorf("InvalidName", "Invalid Name: '%s'", in.Name)
	}
	text := "{}"
	if in.Input != nil {
		text = *in.Input
	}
	var input any
	if err := json.Unmarshal([]byte(text), &input); err != nil {
		return nil, errorf("InvalidExecutionInput", "Invalid State Machine Execution Input: '%v'", err)
	}
	if len(text) > maxPayload {
		return nil, errorf("InvalidExecutionInput", "Invalid State Machine Execution Input: the input is over 256 KiB")
	}
	ex, err := c.startExecution(in.StateMachineARN, in.Name, input, text, nil)
	if err != nil {
		return nil, err
	}
	return map[string]any{"executionArn": ex.arn, "startDate": epoch(ex.startDate())}, nil
}

type arnInput struct {
	ExecutionARN string `json:"executionArn"`
}

func (c *Cloud) describeExecution(_ context.Context, body []byte) (any, error) {
	var in arnInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ex, err := c.execution(in.ExecutionARN)
	if err != nil {
		return nil, err
	}
	ex.mu.Lock()
	d := ex.x.Describe()
	text := ex.inputText
	ex.mu.Unlock()
	return describe(d, text), nil
}

func describe(d asl.Description, inputText string) map[string]any {
	out := map[string]any{
		"executionArn": d.ExecutionARN, "stateMachineArn": d.StateMachineARN, "name": d.Name, "status": d.Status,
		"startDate": epoch(d.StartDate), "input": inputText, "inputDetails": map[string]any{"included": true},
		"redriveCount": 0, "redriveStatus": "NOT_REDRIVABLE",
	}
	if !d.StopDate.IsZero() {
		out["stopDate"] = epoch(d.StopDate)
	}
	if d.Status == asl.StatusSucceeded {
		out["output"] = compact(d.Output)
		out["outputDetails"] = map[string]any{"included": true}
	}
	if d.Error != "" {
		out["error"] = d.Error
	}
	if d.Cause != "" {
		out["cause"] = d.Cause
	}
	return out
}

func (c *Cloud) stopExecution(_ context.Context, body []byte) (any, error) {
	var in struct {
		ExecutionARN string `json:"executionArn"`
		Error        string `json:"error"`
		Cause        string `json:"cause"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ex, err := c.execution(in.ExecutionARN)
	if err != nil {
		return nil, err
	}
	return map[string]any{"stopDate": epoch(c.stop1(ex, in.Error, in.Cause))}, nil
}

// stop1 stops a running execution and the children its .sync tasks run,
// and returns its stop date.
func (c *Cloud) stop1(ex *execution, errName, cause string) time.Time {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if !ex.x.Done() {
		_ = ex.x.Stop(errName, cause)
		for _, arn := range ex.children {
			if child, err := c.execution(arn); err == nil {
				c.stop1(child, "", "the parent execution was stopped")
			}
		}
		c.afterStep(ex)
	}
	return ex.x.Describe().StopDate
}

func (c *Cloud) getExecutionHistory(_ context.Context, body []byte) (any, error) {
	var in struct {
		ExecutionARN         string `json:"executionArn"`
		MaxResults           int    `json:"maxResults"`
		NextToken            string `json:"nextToken"`
		ReverseOrder         bool   `json:"reverseOrder"`
		IncludeExecutionData *bool  `json:"includeExecutionData"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.MaxResults < 0 || in.MaxResults > 1000 {
		return nil, errorf("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", in.MaxResults)
	}
	if in.MaxResults == 0 {
		in.MaxResults = 100
	}
	ex, err := c.execution(in.ExecutionARN)
	if err != nil {
		return nil, err
	}
	start, err := pageStart(in.NextToken)
	if err != nil {
		return nil, err
	}
	ex.mu.Lock()
	events := ex.x.History()
	page := make([]map[string]any, 0, in.MaxResults)
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	for i := start; i < len(events) && len(page) < in.MaxResults; i++ {
		e := events[i]
		if in.ReverseOrder {
			e = events[len(events)-1-i]
		}
		page = append(page, historyEvent(e, withData))
	}
	n := len(events)
	ex.mu.Unlock()
	out := map[string]any{"events": page}
	if next := start + len(page); next < n {
		out["nextToken"] = pageToken(next)
	}
	return out, nil
}

// historyEvent writes an event as GetExecutionHistory does: epoch
// timestamps, inputs and outputs as JSON text.
func historyEvent(e asl.Event, withData bool) map[string]any {
	m := map[string]any{"id": e.ID, "previousEventId": e.PreviousEventID, "timestamp": epoch(e.Timestamp), "type": e.Type}
	if e.DetailsField == "" {
		return m
	}
	d := map[string]any{}
	for k, v := range e.Details() {
		switch k {
		case "input", "output", "parameters", "result":
			if !withData {
				continue
			}
			if _, ok := v.(string); !ok || k != "parameters" {
				v = compact(v)
			}
			if k == "input" || k == "output" {
				d[k+"Details"] = map[string]any{"truncated": false}
			}
		}
		d[k] = v
	}
	m[e.DetailsField] = d
	return m
}

// Page tokens of GetExecutionHistory and ListExecutions: pageTokenPrefix
// and the index of the next item, a positive decimal without leading zeros.
const pageTokenPrefix = "bwc-page-"

func pageToken(i int) string { return pageTokenPrefix + strconv.Itoa(i) }

// pageStart reads a page token; anything pageToken does not write (a sign,
// leading zeros, spaces, trailing characters, 0) is InvalidToken, as Step
// Functions answers a token it did not issue.
func pageStart(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	digits, ok := strings.CutPrefix(token, pageTokenPrefix)
	i, err := strconv.Atoi(digits)
	if !ok || err != nil || i <= 0 || pageToken(i) != token {
		return 0, errorf("InvalidToken", "Invalid Token: '%s'", truncate(token, 64))
	}
	return i, nil
}

// maxPayload is Step Functions' limit on an execution's input and a
// task's output (256 KiB).
const maxPayload = 256 * 1024

type tokenInput struct {
	TaskToken string `json:"taskToken"`
	Output    string `json:"output"`
	Error     string `json:"error"`
	Cause     string `json:"cause"`
}

// task finds the execution waiting with a task token.
func (c *Cloud) task(token string) (*execution, error) {
	if !validToken(token) {
		return nil, errorf("InvalidToken", "Invalid Token: '%s'", truncate(token, 64))
	}
	c.mu.Lock()
	ti := c.tokens[token]
	c.mu.Unlock()
	if ti == nil {
		return nil, errorf("TaskDoesNotExist", "Task Does Not Exist")
	}
	return ti.exec, nil
}

// tokenGone says why a known token has no waiting task.
func (c *Cloud) tokenGone(ex *execution, token string) error {
	c.mu.Lock()
	delete(c.tokens, token)
	c.mu.Unlock()
	d := ex.x.Describe()
	if d.Status == asl.StatusTimedOut {
		return errorf("TaskTimedOut", "Task Timed Out: '%s'", ex.arn)
	}
	for _, e := range ex.x.History() {
		if e.Type == "TaskTimedOut" || e.Type == "ActivityTimedOut" || e.Type == "LambdaFunctionTimedOut" {
			return errorf("TaskTimedOut", "Task Timed Out: '%s'", ex.arn)
		}
	}
	return errorf("TaskDoesNotExist", "Task Does Not Exist")
}

func (c *Cloud) sendTaskSuccess(_ context.Context, body []byte) (any, error) {
	var in tokenInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Output) > maxPayload {
		return nil, errorf("ValidationException", "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to %d", maxPayload)
	}
	var output any
	if err := json.Unmarshal([]byte(in.Output), &output); err != nil {
		return nil, errorf("InvalidOutput", "Invalid Output: '%v'", err)
	}
	return c.answerTask(in.TaskToken, "completing a task of", true, func(x *asl.Execution) error {
		return x.SendTaskSuccess(c.root, in.TaskToken, output)
	})
}

// answerTask delivers a SendTask* call to the execution waiting on token:
// with its lock held and after catching it up (a task whose time passed
// times out first), it runs send; a token the execution no longer waits on
// is TaskTimedOut or TaskDoesNotExist as AWS answers. ends says whether the
// call ends the task (its token is then forgotten).
func (c *Cloud) answerTask(token, doing string, ends bool, send func(x *asl.Execution) error) (any, error) {
	ex, err := c.task(token)
	if err != nil {
		return nil, err
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	c.catchUp(ex)
	if err := send(ex.x); err != nil {
		if errors.Is(err, asl.ErrTaskTokenNotFound) {
			return nil, c.tokenGone(ex, token)
		}
		return nil, fmt.Errorf("%s %s: %w", doing, ex.arn, err)
	}
	if ends {
		c.forget(token)
	}
	c.afterStep(ex)
	return map[string]any{}, nil
}

func (c *Cloud) sendTaskFailure(_ context.Context, body []byte) (any, error) {
	var in tokenInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Error) > 256 || len(in.Cause) > 32768 {
		return nil, errorf("ValidationException", "1 validation error detected: error must be at most 256 characters and cause at most 32768")
	}
	return c.answerTask(in.TaskToken, "failing a task of", true, func(x *asl.Execution) error {
		return x.SendTaskFailure(c.root, in.TaskToken, in.Error, in.Cause)
	})
}

func (c *Cloud) sendTaskHeartbeat(_ context.Context, body []byte) (any, error) {
	var in tokenInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return c.answerTask(in.TaskToken, "recording a heartbeat of", false, func(x *asl.Execution) error {
		return x.SendTaskHeartbeat(in.TaskToken)
	})
}

// catchUp runs ex (with its lock held) through what is due by now — a
// task whose timeout or heartbeat passed times out — before a SendTask*
// call looks for its task, as Step Functions would have timed it out
// already.
func (c *Cloud) catchUp(ex *execution) {
	if ex.x.Done() {
		return
	}
	if t, ok := ex.x.NextWake(); !ok || t.After(c.cfg.Now()) {
		return
	}
	if err := ex.x.Run(c.root); err != nil {
		c.log.Error("running an execution", "execution", ex.arn, "err", err)
	}
	c.afterStep(ex)
}

func (c *Cloud) forget(token string) {
	c.mu.Lock()
	delete(c.tokens, token)
	c.mu.Unlock()
}

func (c *Cloud) listExecutions(_ context.Context, body []byte) (any, error) {
	var in struct {
		StateMachineARN string `json:"stateMachineArn"`
		StatusFilter    string `json:"statusFilter"`
		MaxResults      int    `json:"maxResults"`
		NextToken       string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.StateMachineARN != "" && c.machines[in.StateMachineARN] == nil {
		return nil, errorf("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", in.StateMachineARN)
	}
	if in.MaxResults < 0 || in.MaxResults > 1000 {
		return nil, errorf("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 1000", in.MaxResults)
	}
	if in.MaxResults == 0 {
		in.MaxResults = 100
	}
	if in.StatusFilter != "" && !slices.Contains(executionStatuses, in.StatusFilter) {
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [%s]", in.StatusFilter, strings.Join(executionStatuses, ", "))
	}
	start, err := pageStart(in.NextToken)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	all := make([]*execution, 0, len(c.execs))
	for _, ex := range c.execs {
		if in.StateMachineARN == "" || ex.mach.arn == in.StateMachineARN {
			all = append(all, ex)
		}
	}
	c.mu.Unlock()
	var items []map[string]any
	for _, ex := range all {
		ex.mu.Lock()
		d := ex.x.Describe()
		ex.mu.Unlock()
		if in.StatusFilter != "" && d.Status != in.StatusFilter {
			continue
		}
		item := map[string]any{"executionArn": d.ExecutionARN, "stateMachineArn": d.StateMachineARN, "name": d.Name, "status": d.Status, "startDate": epoch(d.StartDate)}
		if !d.StopDate.IsZero() {
			item["stopDate"] = epoch(d.StopDate)
		}
		items = append(items, item)
	}
	slices.SortFunc(items, func(a, b map[string]any) int {
		if x, y := a["startDate"].(float64), b["startDate"].(float64); x != y {
			if x > y {
				return -1
			}
			return 1
		}
		return strings.Compare(a["executionArn"].(string), b["executionArn"].(string))
	})
	out := map[string]any{"executions": []map[string]any{}}
	if start < len(items) {
		end := min(len(items), start+in.MaxResults)
		out["executions"] = items[start:end]
		if end < len(items) {
			out["nextToken"] = pageToken(end)
		}
	}
	return out, nil
}

// executionStatuses are the values of ListExecutions' statusFilter.
var executionStatuses = []string{"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"}

func (c *Cloud) listStateMachines(_ context.Context, _ []byte) (any, error) {
	items := []map[string]any{}
	for _, arn := range c.MachineARNs() {
		m := c.machines[arn]
		items = append(items, map[string]any{"stateMachineArn": arn, "name": m.name, "type": "STANDARD", "creationDate": epoch(m.created)})
	}
	return map[string]any{"stateMachines": items}, nil
}

func (c *Cloud) describeStateMachine(_ context.Context, body []byte) (any, error) {
	var in struct {
		StateMachineARN string `json:"stateMachineArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	m := c.machines[in.StateMachineARN]
	if m == nil {
		return nil, errorf("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", in.StateMachineARN)
	}
	return c.machineDescription(m), nil
}

func (c *Cloud) machineDescription(m *machine) map[string]any {
	return map[string]any{"stateMachineArn": m.arn, "name": m.name, "status": "ACTIVE", "definition": m.definition,
		"roleArn": c.roleARN(m), "type": "STANDARD", "creationDate": epoch(m.created)}
}

// roleARN is the (nominal) execution role of a state machine.
func (c *Cloud) roleARN(m *machine) string { return "arn:aws:iam::" + Account + ":role/" + m.name }

func (c *Cloud) describeStateMachineForExecution(_ context.Context, body []byte) (any, error) {
	var in arnInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ex, err := c.execution(in.ExecutionARN)
	if err != nil {
		return nil, err
	}
	d := c.machineDescription(ex.mach)
	d["updateDate"] = d["creationDate"]
	return d, nil
}
