package asl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bwc-project/bwc/internal/jsonata"
)

// Frame phases.
const (
	phaseEnter    = "enter"    // about to enter State
	phaseTask     = "task"     // a task waits for its result (token, pending port call)
	phaseRetry    = "retry"    // waiting until WakeAt to retry State
	phaseWait     = "wait"     // a Wait state waits until WakeAt
	phaseChildren = "children" // a Map or Parallel state runs its children
	phaseDone     = "done"     // the graph ended with Output
	phaseFailed   = "failed"   // the graph failed with Err
	phaseAborted  = "aborted"  // stopped from outside
	phaseJoined   = "joined"   // a child whose result its Map or Parallel state has taken
)

// frame is one running graph: the execution itself, a Parallel branch or a
// Map iteration. All of an execution's state lives in its frames, so that
// it serializes.
type frame struct {
	Graph     string         `json:"graph"`
	State     string         `json:"state"`
	Phase     string         `json:"phase"`
	Input     any            `json:"input"`
	Vars      map[string]any `json:"vars,omitempty"`
	LastEvent int            `json:"lastEvent,omitempty"`
	Entered   int            `json:"entered,omitempty"`
	EnteredAt time.Time      `json:"enteredAt,omitzero"`
	Index     int            `json:"index,omitempty"`

	RetryCount        int       `json:"retryCount,omitempty"`
	Attempts          []int     `json:"attempts,omitempty"`
	WakeAt            time.Time `json:"wakeAt,omitzero"`
	Deadline          time.Time `json:"deadline,omitzero"`
	HeartbeatDeadline time.Time `json:"heartbeatDeadline,omitzero"`
	Heartbeat         int       `json:"heartbeat,omitempty"`
	Token             string    `json:"token,omitempty"`

	Items    []any    `json:"items,omitempty"`
	Children []*frame `json:"children,omitempty"`
	Results  []any    `json:"results,omitempty"`
	Started  int      `json:"started,omitempty"`
	Joined   int      `json:"joined,omitempty"`
	Low      int      `json:"low,omitempty"` // lowest child index not joined yet
	Failures int      `json:"failures,omitempty"`
	MaxConc  int      `json:"maxConc,omitempty"`
	TolPct   float64  `json:"tolPct,omitempty"`
	TolCount int      `json:"tolCount,omitempty"`
	HasTol   bool     `json:"hasTol,omitempty"`

	Output any      `json:"output,omitempty"`
	Err    *Failure `json:"err,omitempty"`

	parent *frame
	joined *frame // shared placeholder for the children a Map or Parallel state has taken
	inSize int    // jsonSize of Input when known, else 0 (not serialized: recomputed after Resume)
	st     *State // the state named State, once looked up
	g      *graph // the graph named Graph, once looked up
}

func (f *frame) link(parent *frame) {
	f.parent = parent
	for _, c := range f.Children {
		if c != nil {
			c.link(f)
		}
	}
}

// run carries what one Run call needs.
type run struct {
	x   *Execution
	in  *Interpreter
	ctx context.Context
	// curExtra adds fields (Map.Item) to the context object while a Map
	// state evaluates its ItemSelector.
	curExtra map[string]any
}

func (r *run) graph(f *frame) *graph { return r.x.m.graph(f.Graph) }

func (m *Machine) graph(id string) *graph { return m.graphs[id] }

func (m *Machine) fingerprint() string { return m.fp }

func (m *Machine) computeFingerprint() string {
	b := []byte(compactJSON(m.raw))
	var h uint64 = 14695981039346656037
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return fmt.Sprintf("%016x", h)
}

// advance moves a frame as far as it can go; it reports whether anything
// happened.
func (r *run) advance(f *frame) bool {
	progressed := false
	for {
		if r.x.Done() || r.ctx.Err() != nil {
			return progressed
		}
		if r.x.st.events >= historyEventLimit {
			r.x.abortFrame(r.x.st.Root)
			r.x.finish(nil, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The execution history reached the limit of %d events.", historyEventLimit)})
			return true
		}
		switch f.Phase {
		case phaseDone, phaseFailed, phaseAborted, phaseJoined:
			return progressed
		case phaseEnter:
			r.enter(f)
		case phaseWait:
			if r.x.now().Before(f.WakeAt) {
				return progressed
			}
			f.WakeAt = time.Time{}
			st := r.state(f)
			r.finishPlain(f, st)
		case phaseRetry:
			if r.x.now().Before(f.WakeAt) {
				return progressed
			}
			f.WakeAt = time.Time{}
			r.work(f, r.state(f))
		case phaseTask:
			now := r.x.now()
			switch {
			case !f.Deadline.IsZero() && !now.Before(f.Deadline):
				r.taskFailed(f, r.state(f), &Failure{Name: ErrTimeout}, true)
			case !f.HeartbeatDeadline.IsZero() && !now.Before(f.HeartbeatDeadline):
				// Step Functions reports an expired heartbeat as States.Timeout.
				r.taskFailed(f, r.state(f), &Failure{Name: ErrTimeout}, true)
			default:
				return progressed
			}
		case phaseChildren:
			if !r.advanceChildren(f) {
				return progressed
			}
		default:
			f.Phase, f.Err = phaseFailed, &Failure{Name: ErrRuntime, Cause: "unknown frame phase " + f.Phase}
			return true
		}
		progressed = true
	}
}

func (r *run) state(f *frame) *State {
	if st := f.st; st != nil {
		if st.Name == f.State {
			return st
		}
		if n := st.nextSt; n != nil && n.Name == f.State {
			f.st = n
			return n
		}
	}
	g := f.g
	if g == nil {
		g = r.graph(f)
		f.g = g
	}
	st := g.States[f.State]
	f.st = st
	return st
}

func (r *run) hook() {
	if r.in.hook != nil {
		r.in.hook(r.x)
	}
}

// enter runs the entry of a state.
func (r *run) enter(f *frame) {
	st := r.state(f)
	f.EnteredAt = r.x.now()
	f.RetryCount = 0
	if f.Attempts != nil || f.Token != "" {
		f.Attempts, f.Token = nil, ""
	}
	if st.setResult != nil && r.setResult(f, st) {
		return
	}
	f.Entered = r.x.emitStateAt(f, st, f.Input, nil, false, f.EnteredAt)
	if p, ok := f.Input.(*record); ok {
		f.Input = p.object()
	}
	// The input is the execution input, a state's output or a Map item or
	// Parallel branch input, all already held to the payload limit.
	switch st.Type {
	case "Pass":
		r.pass(f, st)
	case "Task", "Map", "Parallel":
		r.work(f, st)
	case "Choice":
		r.choice(f, st)
	case "Wait":
		r.wait(f, st)
	case "Succeed":
		r.finishPlain(f, st)
	case "Fail":
		r.failState(f, st)
	}
}

// work starts (or restarts, on retry) a Task, Map or Parallel state.
func (r *run) work(f *frame, st *State) {
	switch st.Type {
	case "Task":
		r.startTask(f, st)
	case "Map":
		r.startMap(f, st)
	case "Parallel":
		r.startParallel(f, st)
	}
}

// --- evaluation helpers ---

func (r *run) contextObject(f *frame, st *State, extra map[string]any) map[string]any {
	x := r.x.st
	c := map[string]any{
		"Execution": map[string]any{
			"Id": x.ARN, "Input": x.Input, "Name": x.Name, "RoleArn": x.RoleARN,
			"StartTime": formatTime(x.Start), "RedriveCount": 0.0,
		},
		"StateMachine": map[string]any{"Id": x.MachineARN, "Name": machineName(x.MachineARN)},
		"State":        map[string]any{"EnteredTime": formatTime(f.EnteredAt), "Name": st.Name},
	}
	if st.Type == "Task" || st.Type == "Map" || st.Type == "Parallel" {
		c["State"].(map[string]any)["RetryCount"] = float64(f.RetryCount)
	}
	if f.Token != "" && st.Type == "Task" {
		c["Task"] = map[string]any{"Token": f.Token}
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func machineName(arn string) string {
	if i := strings.LastIndexByte(arn, ':'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// lookupVar finds a variable in the frame or an enclosing one.
func lookupVar(f *frame, name string) (any, bool) {
	for ; f != nil; f = f.parent {
		if v, ok := f.Vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (r *run) bindings(f *frame, states map[string]any) map[string]any {
	b := map[string]any{}
	var chain []*frame
	for g := f; g != nil; g = g.parent {
		chain = append(chain, g)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		for k, v := range chain[i].Vars {
			b[k] = v
		}
	}
	b["states"] = states
	return b
}

// pathValue evaluates a JSONPath (or intrinsic) against input, the
// context object ($$) or a variable ($name).
func (r *run) pathValue(f *frame, path string, input any) (any, bool, error) {
	return r.pathValueCtx(f, path, input, nil)
}

func (r *run) pathValueCtx(f *frame, path string, input any, ctxObj map[string]any) (any, bool, error) {
	if call, ok := r.x.m.ipaths[path]; ok {
		v, err := r.callIntrinsic(f, call, input)
		return v, err == nil, err
	}
	p, ok := r.x.m.paths[path]
	if !ok {
		var err error
		p, err = parseJSONPath(path)
		if err != nil {
			return nil, false, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': %v", path, err)}
		}
	}
	return r.evalPath(f, p, input, ctxObj)
}

// evalPath evaluates a compiled JSONPath against input, the context object
// or a variable.
func (r *run) evalPath(f *frame, p *jsonPath, input any, ctxObj map[string]any) (any, bool, error) {
	path := p.src
	var root any
	switch p.root {
	case "$":
		root = input
	case "$$":
		if ctxObj == nil {
			ctxObj = r.contextObject(f, r.state(f), r.curExtra)
		}
		root = ctxObj
	default:
		v, ok := lookupVar(f, p.root)
		if !ok {
			return nil, false, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The variable '$%s' referenced by '%s' is not defined", p.root, path)}
		}
		root = v
	}
	v, ok := p.eval(root)
	return v, ok, nil
}

func bracketPath(path string) string {
	p, err := parseJSONPath(path)
	if err != nil {
		return path
	}
	var b strings.Builder
	b.WriteString("$")
	for _, s := range p.steps {
		switch s.kind {
		case 'n':
			fmt.Fprintf(&b, "['%s']", s.name)
		case 'i':
			fmt.Fprintf(&b, "[%d]", s.index)
		default:
			return path
		}
	}
	return b.String()
}

func (r *run) inputPath(f *frame, st *State, input any) (any, error) {
	return r.applyPath(f, st.InputPath, input, "InputPath")
}

func (r *run) applyPath(f *frame, p optPath, input any, _ string) (any, error) {
	if !p.Set {
		return input, nil
	}
	if p.Null {
		return map[string]any{}, nil
	}
	v, ok, err := r.pathValue(f, p.Path, input)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &Failure{Name: ErrRuntime, Cause: missingPath(p.Path, input)}
	}
	return v, nil
}

// missingPath words a path that selects nothing as Step Functions (Jayway)
// does: the first missing property, or no results for the whole path.
func missingPath(path string, input any) string {
	p, err := parseJSONPath(path)
	if err != nil || !p.definite || p.root != "$" {
		return fmt.Sprintf("Invalid path '%s' : No results for path: %s", path, bracketPath(path))
	}
	v := input
	var b strings.Builder
	b.WriteString("$")
	for i, s := range p.steps {
		if s.kind == 'n' {
			fmt.Fprintf(&b, "['%s']", s.name)
		} else {
			fmt.Fprintf(&b, "[%d]", s.index)
		}
		next, ok := walkDefinite(v, p.steps[i:i+1])
		if !ok {
			if i < len(p.steps)-1 {
				return fmt.Sprintf("Invalid path '%s' : Missing property in path %s", path, b.String())
			}
			break
		}
		v = next
	}
	return fmt.Sprintf("Invalid path '%s' : No results for path: %s", path, bracketPath(path))
}

// template evaluates a JSONPath-mode payload template.
func (r *run) template(f *frame, tmpl, input any, ctxObj map[string]any) (any, error) {
	switch t := tmpl.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, v := range t {
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				path, _ := v.(string)
				val, found, err := r.pathValueCtx(f, path, input, ctxObj)
				if err != nil {
					return nil, err
				}
				if !found {
					return nil, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", path, k, compactJSON(input))}
				}
				out[name] = val
				continue
			}
			val, err := r.template(f, v, input, ctxObj)
			if err != nil {
				return nil, err
			}
			out[k] = val
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			val, err := r.template(f, v, input, ctxObj)
			if err != nil {
				return nil, err
			}
			out[i] = val
		}
		return out, nil
	}
	return tmpl, nil
}

// jsonataValue evaluates the "{% %}" strings of a JSONata-mode value.
func (r *run) jsonataValue(f *frame, st *State, field string, v any, states map[string]any) (any, error) {
	switch t := v.(type) {
	case string:
		src, ok := jsonataSource(t)
		if !ok {
			return t, nil
		}
		e := r.x.m.exprs[src]
		if e == nil {
			var err error
			e, err = jsonata.Compile(src)
			if err != nil {
				return nil, r.queryError(f, st, field, src, err)
			}
		}
		res, err := e.Eval(r.ctx, jsonata.NoInput, r.bindings(f, states))
		if err != nil {
			if errors.Is(err, jsonata.ErrUndefined) {
				return nil, errUndefined
			}
			return nil, r.queryError(f, st, field, src, err)
		}
		return res, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			val, err := r.jsonataValue(f, st, field, e, states)
			if errors.Is(err, errUndefined) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out[k] = val
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			val, err := r.jsonataValue(f, st, field, e, states)
			if errors.Is(err, errUndefined) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		return out, nil
	}
	return v, nil
}

var errUndefined = errors.New("undefined")

// jsonataField evaluates a whole field; an undefined top-level result is
// an error, as in Step Functions.
func (r *run) jsonataField(f *frame, st *State, field string, v any, states map[string]any) (any, error) {
	res, err := r.jsonataValue(f, st, field, v, states)
	if errors.Is(err, errUndefined) {
		src, _ := jsonataSource(v.(string))
		return nil, &Failure{Name: ErrQueryEvaluationError, Cause: fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). The JSONata expression '%s' specified for the field '%s' returned nothing (undefined).", st.Name, f.Entered, src, field), Location: field, State: st.Name}
	}
	return res, err
}

func (r *run) queryError(f *frame, st *State, field, src string, err error) error {
	msg := err.Error()
	var je *jsonata.Error
	if errors.As(err, &je) {
		msg = je.Message
	}
	return &Failure{Name: ErrQueryEvaluationError, Cause: fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). The JSONata expression '%s' specified for the field '%s' threw an error during evaluation. %s", st.Name, f.Entered, src, field, msg), Location: field, State: st.Name}
}

func (r *run) statesVar(f *frame, st *State, input any) map[string]any {
	return map[string]any{"input": input, "context": r.contextObject(f, st, r.curExtra)}
}

// assign evaluates an Assign block and returns the new variables.
func (r *run) assign(f *frame, st *State, block map[string]any, input any, states map[string]any) (map[string]any, error) {
	if len(block) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(block))
	if st.QueryLanguage == JSONata {
		for k, v := range block {
			val, err := r.jsonataField(f, st, "Assign", v, states)
			if err != nil {
				return nil, err
			}
			out[k] = val
		}
		return out, nil
	}
	for k, v := range block {
		if name, ok := strings.CutSuffix(k, ".$"); ok {
			val, found, err := r.pathValue(f, v.(string), input)
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The JsonPath argument for the field '%s' could not be found in the input '%s'", k, compactJSON(input))}
			}
			out[name] = val
			continue
		}
		val, err := r.template(f, v, input, nil)
		if err != nil {
			return nil, err
		}
		out[k] = val
	}
	return out, nil
}

func (r *run) setVars(f *frame, vars map[string]any) {
	if len(vars) == 0 {
		return
	}
	nv := make(map[string]any, len(f.Vars)+len(vars))
	for k, v := range f.Vars {
		nv[k] = v
	}
	for k, v := range vars {
		nv[k] = v
	}
	f.Vars = nv
}

// --- transitions ---

// stateFailedEvent records MapStateFailed / ParallelStateFailed when a
// Map or Parallel state fails while running its children or evaluating
// its fields.
func (r *run) stateFailedEvent(f *frame, st *State, e *Failure) {
	if e.Name == ErrRuntime || (f.Phase != phaseChildren && e.Name != ErrQueryEvaluationError) {
		return
	}
	switch st.Type {
	case "Map":
		r.x.emit(f, "MapStateFailed", "", nil)
	case "Parallel":
		r.x.emit(f, "ParallelStateFailed", "", nil)
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// plainValue prints a value as Step Functions does in messages: strings
// without quotes, anything else as JSON.
func plainValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return compactJSON(v)
}

func (r *run) statePrefix(f *frame, st *State) string {
	return fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). ", st.Name, f.Entered)
}

// exit leaves the current state with output, assigning vars and moving to
// next ("" ends the graph).
func (r *run) exit(f *frame, st *State, output any, vars map[string]any, next string, end bool) {
	r.exitSized(f, st, output, 0, vars, next, end)
}

// exitSized is exit with the JSON size of output when the caller knows it
// (0 when not): the size of an output derived from the input follows from
// the input's, without walking it again.
func (r *run) exitSized(f *frame, st *State, output any, size int, vars map[string]any, next string, end bool) {
	if size <= 0 {
		size = jsonSize(output, maxPayloadBytes+1)
	}
	if size > maxPayloadBytes {
		r.fail(f, st, outputTooLarge(st))
		return
	}
	r.x.emitState(f, st, output, vars, true)
	r.setVars(f, vars)
	r.moveOn(f, output, size, next, nil, end)
}

func outputTooLarge(st *State) *Failure {
	return &Failure{Name: ErrDataLimitExceeded, Cause: fmt.Sprintf("The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit.", st.Name)}
}

// moveOn moves f, whose state has exited with output, to next (nextSt
// when the caller has it), or ends its graph.
func (r *run) moveOn(f *frame, output any, size int, next string, nextSt *State, end bool) {
	// (only what is set: each write of a pointer costs while the GC runs)
	if f.Items != nil || f.Children != nil || f.Results != nil {
		f.Items, f.Children, f.Results = nil, nil, nil
	}
	f.Started, f.Failures, f.Joined, f.Low = 0, 0, 0, 0
	if !f.Deadline.IsZero() || !f.HeartbeatDeadline.IsZero() || !f.WakeAt.IsZero() || f.Token != "" {
		f.Deadline, f.HeartbeatDeadline, f.WakeAt, f.Token = time.Time{}, time.Time{}, time.Time{}, ""
	}
	f.Heartbeat = 0
	if end {
		f.Phase, f.Output = phaseDone, resolved(output)
		r.hook()
		return
	}
	f.State, f.Input, f.inSize, f.Phase = next, output, size, phaseEnter
	if nextSt != nil {
		f.st = nextSt
	}
	r.hook()
}

// fail ends the graph with an error that no Retry or Catch handled.
func (r *run) fail(f *frame, st *State, e *Failure) {
	r.stateFailedEvent(f, st, e)
	if st.Type == "Task" && f.parent != nil && r.state(f.parent).Type == "Parallel" {
		r.x.emit(f, "TaskStateAborted", "stateExitedEventDetails", map[string]any{"name": st.Name})
	}
	f.Phase, f.Err = phaseFailed, e
	f.Items, f.Children, f.Results = nil, nil, nil
}

// handle applies Retry and Catch to an error raised by a state.
func (r *run) handle(f *frame, st *State, e *Failure) {
	if e.Name == ErrRuntime && !strings.HasPrefix(e.Cause, "An error occurred while executing the state") {
		e = &Failure{Name: e.Name, Cause: r.statePrefix(f, st) + e.Cause}
	}
	if e.Name == ErrQueryEvaluationError {
		d := map[string]any{"error": e.Name, "cause": e.Cause, "state": st.Name}
		if e.Location != "" {
			d["location"] = e.Location
		}
		r.x.emit(f, "EvaluationFailed", "evaluationFailedEventDetails", d)
	}
	for i, rt := range st.Retry {
		if !matches(rt.ErrorEquals, e.Name) {
			continue
		}
		if len(f.Attempts) < len(st.Retry) {
			a := make([]int, len(st.Retry))
			copy(a, f.Attempts)
			f.Attempts = a
		}
		if f.Attempts[i] >= rt.MaxAttempts {
			break
		}
		delay := rt.IntervalSeconds * math.Pow(rt.BackoffRate, float64(f.Attempts[i]))
		if rt.MaxDelaySeconds > 0 && delay > rt.MaxDelaySeconds {
			delay = rt.MaxDelaySeconds
		}
		if rt.JitterFull {
			delay *= r.in.random()
		}
		f.Attempts[i]++
		f.RetryCount++
		f.Phase = phaseRetry
		f.WakeAt = r.x.now().Add(time.Duration(delay * float64(time.Second)))
		f.Items, f.Children, f.Results, f.Started, f.Failures, f.Joined, f.Low = nil, nil, nil, 0, 0, 0, 0
		r.hook()
		return
	}
	for _, c := range st.Catch {
		if !matches(c.ErrorEquals, e.Name) {
			continue
		}
		// SendTaskFailure without error and cause gives nulls; errors
		// raised by the service have a cause, if only "".
		errOut := map[string]any{"Error": nullIfEmpty(e.Name), "Cause": e.Cause}
		if e.Name == "" && e.Cause == "" {
			errOut["Cause"] = nil
		}
		r.stateFailedEvent(f, st, e)
		var output any
		var vars map[string]any
		var err error
		if st.QueryLanguage == JSONata {
			states := r.statesVar(f, st, f.Input)
			states["errorOutput"] = errOut
			if output, vars, err = r.assignOutput(f, st, c.Assign, c.HasOutput, c.Output, errOut, states); err != nil {
				r.fail(f, st, asFailure(err))
				return
			}
		} else {
			if c.Assign != nil {
				if vars, err = r.assign(f, st, c.Assign, errOut, nil); err != nil {
					r.fail(f, st, asFailure(err))
					return
				}
			}
			output, _, err = r.resultPath(c.ResultPath, f.Input, errOut, 0)
			if err != nil {
				r.fail(f, st, asFailure(err))
				return
			}
		}
		r.exit(f, st, output, vars, c.Next, false)
		return
	}
	r.fail(f, st, e)
}

// resultPath places result into input as ResultPath says. size is the
// JSON size of the output when it follows from inSize, the size of input
// (both are 0 when unknown).
func (r *run) resultPath(p optPath, input, result any, inSize int) (out any, size int, err error) {
	if !p.Set || p.Path == "$" {
		return result, 0, nil
	}
	if p.Null {
		return input, inSize, nil
	}
	jp := r.x.m.paths[p.Path]
	if jp == nil {
		if jp, err = parseJSONPath(p.Path); err != nil {
			return nil, 0, &Failure{Name: ErrResultPathMatchFailure, Cause: err.Error()}
		}
	}
	out, delta, err := setPath(input, jp, result, maxPayloadBytes+1)
	if err != nil {
		return nil, 0, &Failure{Name: ErrResultPathMatchFailure, Cause: fmt.Sprintf("Unable to apply ResultPath \"%s\" to input \"%s\"", p.Path, compactJSON(input))}
	}
	if inSize > 0 {
		size = inSize + delta
	}
	return out, size, nil
}

// complete finishes a state that produced result (Task, Map, Parallel):
// ResultSelector, ResultPath, OutputPath or Output, and Assign.
func (r *run) complete(f *frame, st *State, result any) {
	var output any
	var size int
	var vars map[string]any
	var err error
	if st.QueryLanguage == JSONata {
		states := r.statesVar(f, st, f.Input)
		states["result"] = result
		if output, vars, err = r.assignOutput(f, st, st.Assign, st.HasOutput, st.Output, result, states); err != nil {
			r.handleAfter(f, st, err)
			return
		}
	} else {
		sel := result
		if st.HasResultSelector {
			if sel, err = r.template(f, st.ResultSelector, result, nil); err != nil {
				r.handleAfter(f, st, err)
				return
			}
		}
		if st.Assign != nil {
			if vars, err = r.assign(f, st, st.Assign, sel, nil); err != nil {
				r.handleAfter(f, st, err)
				return
			}
		}
		if output, size, err = r.resultPath(st.ResultPath, f.Input, sel, f.inSize); err != nil {
			r.handleAfter(f, st, err)
			return
		}
		if st.OutputPath.Set {
			size = 0
			if output, err = r.applyPath(f, st.OutputPath, output, "OutputPath"); err != nil {
				r.handleAfter(f, st, err)
				return
			}
		}
	}
	r.exitSized(f, st, output, size, vars, st.Next, st.End)
}

// handleAfter handles an error raised while processing a result.
func (r *run) handleAfter(f *frame, st *State, err error) {
	r.handle(f, st, asFailure(err))
}

// finishPlain finishes Choice-less states that pass their input through:
// Wait and Succeed (and Pass without a result).
func (r *run) finishPlain(f *frame, st *State) {
	input := f.Input
	var output any
	var vars map[string]any
	var err error
	if st.QueryLanguage == JSONata {
		states := r.statesVar(f, st, input)
		if output, vars, err = r.assignOutput(f, st, st.Assign, st.HasOutput, st.Output, input, states); err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
	} else {
		eff, err := r.inputPath(f, st, input)
		if err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
		if st.Assign != nil {
			if vars, err = r.assign(f, st, st.Assign, eff, nil); err != nil {
				r.handle(f, st, asFailure(err))
				return
			}
		}
		if output, err = r.applyPath(f, st.OutputPath, eff, "OutputPath"); err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
	}
	size := 0
	if st.QueryLanguage != JSONata {
		size = passedSize(f, st)
	}
	if st.Type == "Succeed" {
		r.exitSized(f, st, output, size, vars, "", true)
		return
	}
	r.exitSized(f, st, output, size, vars, st.Next, st.End)
}

// passedSize is the JSON size of the output of a JSONPath-mode state that
// passes its input through InputPath and OutputPath: the input's when
// neither is set, else unknown (0).
func passedSize(f *frame, st *State) int {
	if st.InputPath.Set || st.OutputPath.Set {
		return 0
	}
	return f.inSize
}

func (r *run) pass(f *frame, st *State) {
	if st.QueryLanguage == JSONata {
		if st.HasResult && !st.HasOutput {
			r.complete(f, st, st.Result)
			return
		}
		r.finishPlain(f, st)
		return
	}
	input := f.Input
	eff, err := r.inputPath(f, st, input)
	if err != nil {
		r.handle(f, st, asFailure(err))
		return
	}
	resultSize := 0 // the JSON size of result, when known
	if !st.InputPath.Set {
		resultSize = f.inSize
	}
	if st.HasParameters {
		if eff, resultSize, err = r.parametersSized(f, st, eff); err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
	}
	result := eff
	if st.HasResult {
		result, resultSize = st.Result, 0
	}
	var vars map[string]any
	if st.Assign != nil {
		if vars, err = r.assign(f, st, st.Assign, result, nil); err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
	}
	output, size, err := r.resultPath(st.ResultPath, input, result, f.inSize)
	if err != nil {
		r.handle(f, st, asFailure(err))
		return
	}
	if !st.ResultPath.Set || st.ResultPath.Path == "$" {
		size = resultSize // the output is the result
	}
	if st.OutputPath.Set {
		size = 0
		if output, err = r.applyPath(f, st.OutputPath, output, "OutputPath"); err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
	}
	r.exitSized(f, st, output, size, vars, st.Next, st.End)
}

func (r *run) choice(f *frame, st *State) {
	input := f.Input
	if st.QueryLanguage == JSONata {
		states := r.statesVar(f, st, input)
		for i, c := range st.Choices {
			ok := false
			switch cond := c.Condition.(type) {
			case bool:
				ok = cond
			default:
				v, err := r.jsonataField(f, st, "Condition", cond, states)
				if err != nil {
					r.handle(f, st, asFailure(err))
					return
				}
				b, isBool := v.(bool)
				if !isBool {
					src, _ := jsonataSource(cond.(string))
					r.handle(f, st, &Failure{Name: ErrQueryEvaluationError, Cause: fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). The JSONata expression '%s' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '%s' for value: %s", st.Name, f.Entered, src, jsonTypeName(v), compactJSON(v)), Location: "Condition", State: st.Name})
					return
				}
				ok = b
			}
			_ = i
			if ok {
				r.choiceExit(f, st, c.Assign, c.Output, c.HasOutput, c.Next, states)
				return
			}
		}
		if st.Default == "" {
			r.handle(f, st, &Failure{Name: ErrNoChoiceMatched, Cause: fmt.Sprintf("No Matches! Input: %s", compactJSON(input))})
			return
		}
		r.choiceExit(f, st, st.Assign, st.Output, st.HasOutput, st.Default, states)
		return
	}
	eff, err := r.inputPath(f, st, input)
	if err != nil {
		r.handle(f, st, asFailure(err))
		return
	}
	next := st.Default
	var assign map[string]any
	matched := false
	for _, c := range st.Choices {
		ok, err := r.evalRule(f, c, eff)
		if err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
		if ok {
			next, assign, matched = c.Next, c.Assign, true
			break
		}
	}
	if !matched {
		if st.Default == "" {
			r.handle(f, st, &Failure{Name: ErrNoChoiceMatched, Cause: fmt.Sprintf("No Matches! Input: %s", compactJSON(eff))})
			return
		}
		assign = st.Assign
	}
	var vars map[string]any
	if assign != nil {
		if vars, err = r.assign(f, st, assign, eff, nil); err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
	}
	output, err := r.applyPath(f, st.OutputPath, eff, "OutputPath")
	if err != nil {
		r.handle(f, st, asFailure(err))
		return
	}
	r.exitSized(f, st, output, passedSize(f, st), vars, next, false)
}

func (r *run) choiceExit(f *frame, st *State, assign map[string]any, out any, hasOut bool, next string, states map[string]any) {
	output, vars, err := r.assignOutput(f, st, assign, hasOut, out, f.Input, states)
	if err != nil {
		r.handle(f, st, asFailure(err))
		return
	}
	r.exit(f, st, output, vars, next, false)
}

// assignOutput evaluates a JSONata-mode state's (or catcher's or choice
// rule's) Assign against the state's input and then its Output; output is
// def when there is no Output field. Assign sees the values from before the
// state, so it is evaluated first, as Step Functions does.
func (r *run) assignOutput(f *frame, st *State, assign map[string]any, hasOut bool, out, def any, states map[string]any) (output any, vars map[string]any, err error) {
	if assign != nil {
		if vars, err = r.assign(f, st, assign, f.Input, states); err != nil {
			return nil, nil, err
		}
	}
	output = def
	if hasOut {
		if output, err = r.jsonataField(f, st, "Output", out, states); err != nil {
			return nil, nil, err
		}
	}
	return output, vars, nil
}

func (r *run) wait(f *frame, st *State) {
	input := f.Input
	var until time.Time
	now := r.x.now()
	seconds := func(v any, field string) bool {
		n, ok := v.(float64)
		switch {
		case field == "SecondsPath" && (!ok || n != math.Trunc(n)):
			r.handle(f, st, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The SecondsPath parameter cannot be parsed as a long value: %s == %s", st.SecondsPath, plainValue(v))})
			return false
		case field == "SecondsPath" && n < 0:
			r.handle(f, st, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The SecondsPath parameter references a negative value: %s == %s", st.SecondsPath, plainValue(v))})
			return false
		case !ok || n < 0 || n != math.Trunc(n):
			src, _ := jsonataSource(fmt.Sprint(st.Seconds))
			r.handle(f, st, &Failure{Name: ErrQueryEvaluationError, Cause: fmt.Sprintf("%sThe JSONata expression '%s' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '%s' for value: %s", r.statePrefix(f, st), src, jsonTypeName(v), compactJSON(v)), Location: "Seconds", State: st.Name})
			return false
		}
		until = now.Add(time.Duration(n) * time.Second)
		return true
	}
	stamp := func(v any, field string) bool {
		s, ok := v.(string)
		t, err := parseTimestamp(s)
		if !ok || err != nil {
			switch field {
			case "TimestampPath":
				r.handle(f, st, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s", st.TimestampPath, plainValue(v))})
			case "Timestamp":
				name := ErrRuntime
				if st.QueryLanguage == JSONata {
					name = ErrQueryEvaluationError
				}
				r.handle(f, st, &Failure{Name: name, Cause: fmt.Sprintf("%sThe Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: %s", r.statePrefix(f, st), plainValue(v)), Location: "Timestamp", State: st.Name})
			}
			return false
		}
		until = t
		return true
	}
	if st.QueryLanguage == JSONata {
		states := r.statesVar(f, st, input)
		switch {
		case st.Seconds != nil:
			v, err := r.jsonataField(f, st, "Seconds", st.Seconds, states)
			if err != nil {
				r.handle(f, st, asFailure(err))
				return
			}
			if !seconds(v, "Seconds") {
				return
			}
		case st.Timestamp != nil:
			v, err := r.jsonataField(f, st, "Timestamp", st.Timestamp, states)
			if err != nil {
				r.handle(f, st, asFailure(err))
				return
			}
			if !stamp(v, "Timestamp") {
				return
			}
		}
	} else {
		eff, err := r.inputPath(f, st, input)
		if err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
		switch {
		case st.Seconds != nil:
			if !seconds(st.Seconds, "Seconds") {
				return
			}
		case st.Timestamp != nil:
			if !stamp(st.Timestamp, "Timestamp") {
				return
			}
		case st.SecondsPath != "":
			v, ok, err := r.pathValue(f, st.SecondsPath, eff)
			if err != nil || !ok {
				r.handle(f, st, &Failure{Name: ErrRuntime, Cause: missingPath(st.SecondsPath, eff)})
				return
			}
			if !seconds(v, "SecondsPath") {
				return
			}
		case st.TimestampPath != "":
			v, ok, err := r.pathValue(f, st.TimestampPath, eff)
			if err != nil || !ok {
				r.handle(f, st, &Failure{Name: ErrRuntime, Cause: missingPath(st.TimestampPath, eff)})
				return
			}
			if !stamp(v, "TimestampPath") {
				return
			}
		}
	}
	f.WakeAt = until
	f.Phase = phaseWait
	r.hook()
}

func (r *run) failState(f *frame, st *State) {
	input := f.Input
	e := &Failure{}
	if st.QueryLanguage == JSONata {
		states := r.statesVar(f, st, input)
		for _, fld := range []struct {
			name string
			v    any
			dst  *string
		}{{"Error", st.Error, &e.Name}, {"Cause", st.Cause, &e.Cause}} {
			if fld.v == nil {
				continue
			}
			v, err := r.jsonataField(f, st, fld.name, fld.v, states)
			if err != nil {
				r.fail(f, st, r.evalFailed(f, st, asFailure(err)))
				return
			}
			s, ok := v.(string)
			if !ok {
				src, _ := jsonataSource(fld.v.(string))
				r.fail(f, st, r.evalFailed(f, st, &Failure{Name: ErrQueryEvaluationError, Cause: fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected 'string', but was '%s' for value: %s", st.Name, f.Entered, src, fld.name, jsonTypeName(v), compactJSON(v)), Location: fld.name, State: st.Name}))
				return
			}
			*fld.dst = s
		}
	} else {
		if s, ok := st.Error.(string); ok {
			e.Name = s
		}
		if s, ok := st.Cause.(string); ok {
			e.Cause = s
		}
		for _, fld := range []struct {
			path string
			dst  *string
		}{{st.ErrorPath, &e.Name}, {st.CausePath, &e.Cause}} {
			if fld.path == "" {
				continue
			}
			v, ok, err := r.pathValue(f, fld.path, input)
			if err != nil {
				r.fail(f, st, asFailure(err))
				return
			}
			if !ok {
				field := "ErrorPath"
				if fld.dst == &e.Cause {
					field = "CausePath"
				}
				r.fail(f, st, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("%sThe JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", r.statePrefix(f, st), fld.path, field, compactJSON(input))})
				return
			}
			s, isStr := v.(string)
			if !isStr {
				s = compactJSON(v)
			}
			*fld.dst = s
		}
	}
	f.Phase, f.Err = phaseFailed, e
}

func (r *run) evalFailed(f *frame, st *State, e *Failure) *Failure {
	if e.Name == ErrQueryEvaluationError {
		d := map[string]any{"error": e.Name, "cause": e.Cause, "state": st.Name}
		if e.Location != "" {
			d["location"] = e.Location
		}
		r.x.emit(f, "EvaluationFailed", "evaluationFailedEventDetails", d)
	}
	return e
}

// abortFrame stops a frame and everything below it.
func (x *Execution) abortFrame(f *frame) {
	if f == nil {
		return
	}
	for _, c := range f.Children {
		if c != nil && (c.Phase != phaseDone && c.Phase != phaseFailed && c.Phase != phaseAborted && c.Phase != phaseJoined) {
			x.abortFrame(c)
		}
	}
	if f.Phase == phaseDone || f.Phase == phaseFailed || f.Phase == phaseAborted || f.Phase == phaseJoined {
		return
	}
	if f.Phase == phaseTask {
		x.emit(f, "TaskStateAborted", "stateExitedEventDetails", map[string]any{"name": f.State})
	}
	if f.Phase == phaseWait {
		x.emit(f, "WaitStateAborted", "stateExitedEventDetails", map[string]any{"name": f.State})
	}
	f.Phase = phaseAborted
	f.Token = ""
	f.Deadline, f.HeartbeatDeadline, f.WakeAt = time.Time{}, time.Time{}, time.Time{}
}
