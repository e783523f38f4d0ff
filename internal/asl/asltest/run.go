package asltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
)

// Outcome is what a case's run produced.
type Outcome struct {
	Status string
	Output any
	Error  string
	Cause  string
	Events []string
	// Mismatches lists the differences from the case's expectation
	// (empty: the case passed).
	Mismatches []string
}

// Passed reports whether the run matched the expectation.
func (o *Outcome) Passed() bool { return len(o.Mismatches) == 0 }

// Options tune Run.
type Options struct {
	// Hook, when set, is the interpreter's transition hook.
	Hook func(*asl.Execution)
	// Resume, when set, replaces the execution after each Run call with
	// the one it returns (the durable-execution test snapshots and resumes
	// here).
	Resume func(*asl.Execution) *asl.Execution
}

// Replayer is a TaskPort that answers from a case's recorded tasks and
// checks the requests.
type Replayer struct {
	mu       sync.Mutex
	tasks    []Task
	used     []bool
	byToken  map[string]int
	problems []string
}

// NewReplayer returns a port replaying tasks.
func NewReplayer(tasks []Task) *Replayer {
	return &Replayer{tasks: tasks, used: make([]bool, len(tasks)), byToken: map[string]int{}}
}

// RunTask answers from the first unused recorded task of the same state,
// preferring one whose request matches.
func (p *Replayer) RunTask(_ context.Context, req *asl.TaskRequest) (asl.TaskResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := -1
	pick := -1
	for i, t := range p.tasks {
		if p.used[i] || t.State != req.StateName {
			continue
		}
		if first < 0 {
			first = i
		}
		if t.Request == nil || Match(normalizeValue(t.Request), normalizeValue(req.Parameters)) {
			pick = i
			break
		}
	}
	if pick < 0 {
		if first < 0 {
			return asl.TaskResult{}, &asl.TaskError{Name: "Replay.NoRecordedTask", Cause: fmt.Sprintf("no recorded task result left for state %q", req.StateName)}
		}
		pick = first
		p.problems = append(p.problems, fmt.Sprintf("task %s: request %s, recorded %s", req.StateName, compact(req.Parameters), compact(p.tasks[first].Request)))
	}
	p.used[pick] = true
	t := p.tasks[pick]
	if req.Pattern == "waitForTaskToken" {
		p.byToken[req.TaskToken] = pick
		return asl.TaskResult{Output: t.Submitted, Pending: true}, nil
	}
	switch {
	case t.Failed || t.TimedOut || t.Error != "":
		var res asl.TaskResult
		if t.Submitted != nil {
			res.Output = asl.Submitted{Submission: t.Submitted}
		}
		return res, &asl.TaskError{Name: t.Error, Cause: t.Cause}
	case t.Submitted != nil:
		return asl.TaskResult{Output: asl.Submitted{Submission: t.Submitted, Result: t.Output}}, nil
	}
	return asl.TaskResult{Output: t.Output}, nil
}

// Problems returns the request mismatches and unused tasks.
func (p *Replayer) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]string(nil), p.problems...)
	for i, u := range p.used {
		if !u {
			out = append(out, fmt.Sprintf("recorded task %s (#%d) was never run", p.tasks[i].State, i))
		}
	}
	return out
}

func (p *Replayer) forToken(token string) (Task, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.byToken[token]
	if !ok {
		return Task{}, false
	}
	delete(p.byToken, token)
	return p.tasks[i], true
}

// env is what a case run needs besides the execution: clock, replaying
// port, id and random sources. It can be cloned, so that an execution
// resumed from a snapshot continues with the world as it was then.
type env struct {
	clock *asl.ManualClock
	port  *Replayer
	n     int
	seed  float64
}

func newEnv(c *Case) *env {
	return &env{clock: asl.NewManualClock(time.Date(2024, 3, 6, 10, 0, 0, 0, time.UTC)), port: NewReplayer(c.Tasks)}
}

func (e *env) clone() *env {
	p := e.port
	p.mu.Lock()
	np := &Replayer{tasks: p.tasks, used: append([]bool(nil), p.used...), byToken: map[string]int{}, problems: append([]string(nil), p.problems...)}
	for k, v := range p.byToken {
		np.byToken[k] = v
	}
	p.mu.Unlock()
	return &env{clock: asl.NewManualClock(e.clock.Now()), port: np, n: e.n, seed: e.seed}
}

func (e *env) interpreter(hook func(*asl.Execution)) *asl.Interpreter {
	ids := func() string {
		e.n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", e.n)
	}
	random := func() float64 {
		e.seed += 0.137
		if e.seed >= 1 {
			e.seed -= 1
		}
		return e.seed
	}
	opts := []asl.Option{asl.WithClock(e.clock), asl.WithTaskPort(e.port), asl.WithIDs(ids), asl.WithRandom(random), asl.WithAccount("111111111111", "us-east-1")}
	if hook != nil {
		opts = append(opts, asl.WithTransitionHook(hook))
	}
	return asl.New(opts...)
}

// Run runs a case on a fresh interpreter with a manual clock and the
// replaying port, and compares the outcome with the expectation.
func Run(ctx context.Context, c *Case, o Options) (*Outcome, error) {
	e := newEnv(c)
	in := e.interpreter(o.Hook)
	def, err := json.Marshal(c.Definition)
	if err != nil {
		return nil, fmt.Errorf("case %s: encoding definition: %w", c.Name, err)
	}
	m, perr := in.Parse(def)
	if perr != nil {
		return &Outcome{Mismatches: []string{"definition rejected: " + perr.Error()}}, nil //nolint:nilerr // a rejected definition is a case outcome, not a harness error
	}
	x, err := in.Start(ctx, m, c.Input, asl.StartOptions{Name: "case", StateMachineName: "case", RoleARN: c.RoleARN})
	if err != nil {
		return nil, fmt.Errorf("case %s: starting: %w", c.Name, err)
	}
	if x, err = drive(ctx, c, x, e, o); err != nil {
		return nil, err
	}
	return outcome(c, x, e), nil
}

// RunResumed runs a case and, at its stop-th transition, snapshots the
// execution (and the state of the world around it); it then resumes the
// snapshot in a new interpreter and runs it to the end. It returns the
// outcome of the resumed execution, the history of both executions, and
// how many transitions the first run made (stop beyond that resumes
// nothing and returns a nil outcome).
func RunResumed(ctx context.Context, c *Case, stop int) (resumed *Outcome, original, again []asl.Event, transitions int, err error) {
	e := newEnv(c)
	var snap []byte
	var saved *env
	var hookErr error
	hook := func(x *asl.Execution) {
		transitions++
		if transitions == stop {
			snap, hookErr = x.Snapshot()
			saved = e.clone()
		}
	}
	in := e.interpreter(hook)
	def, err := json.Marshal(c.Definition)
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("case %s: encoding definition: %w", c.Name, err)
	}
	m, err := in.Parse(def)
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("case %s: %w", c.Name, err)
	}
	x, err := in.Start(ctx, m, c.Input, asl.StartOptions{Name: "case", StateMachineName: "case", RoleARN: c.RoleARN})
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("case %s: starting: %w", c.Name, err)
	}
	if x, err = drive(ctx, c, x, e, Options{}); err != nil {
		return nil, nil, nil, 0, err
	}
	if hookErr != nil {
		return nil, nil, nil, 0, hookErr
	}
	original = x.History()
	if snap == nil {
		return nil, original, nil, transitions, nil
	}
	in2 := saved.interpreter(nil)
	m2, err := in2.Parse(def)
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("case %s: %w", c.Name, err)
	}
	y, err := in2.Resume(m2, snap)
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("case %s: %w", c.Name, err)
	}
	if y, err = drive(ctx, c, y, saved, Options{}); err != nil {
		return nil, nil, nil, 0, err
	}
	return outcome(c, y, saved), original, y.History(), transitions, nil
}

func outcome(c *Case, x *asl.Execution, e *env) *Outcome {
	d := x.Describe()
	out := &Outcome{Status: d.Status, Output: d.Output, Error: d.Error, Cause: d.Cause}
	for _, ev := range x.History() {
		out.Events = append(out.Events, ev.Type)
	}
	out.Mismatches = Compare(c, out, hasConcurrency(c.Definition))
	out.Mismatches = append(out.Mismatches, e.port.Problems()...)
	return out
}

// drive runs an execution to its end, answering callbacks from the
// replaying port and moving the clock to timeouts.
func drive(ctx context.Context, c *Case, x *asl.Execution, e *env, o Options) (*asl.Execution, error) {
	clock, port := e.clock, e.port
	var err error
	for i := 0; i < 10000; i++ {
		if o.Resume != nil {
			x = o.Resume(x)
		}
		if err := x.RunUntilDone(ctx); err != nil {
			return nil, fmt.Errorf("case %s: running: %w", c.Name, err)
		}
		if x.Done() {
			break
		}
		tokens := x.WaitingTasks()
		if len(tokens) == 0 {
			break
		}
		progressed := false
		for _, tok := range tokens {
			t, ok := port.forToken(tok)
			if !ok {
				continue
			}
			progressed = true
			switch {
			case t.TimedOut:
				if wake, ok := x.NextWake(); ok {
					_ = clock.SleepUntil(ctx, wake)
				}
				err = x.Run(ctx)
			case t.Failed || t.Error != "":
				err = x.SendTaskFailure(ctx, tok, t.Error, t.Cause)
			default:
				err = x.SendTaskSuccess(ctx, tok, t.Output)
			}
			if err != nil && !errors.Is(err, asl.ErrTaskTokenNotFound) {
				return nil, fmt.Errorf("case %s: answering a task: %w", c.Name, err)
			}
			if o.Resume != nil {
				x = o.Resume(x)
			}
		}
		if !progressed {
			if wake, ok := x.NextWake(); ok {
				_ = clock.SleepUntil(ctx, wake)
				if err := x.Run(ctx); err != nil {
					return nil, fmt.Errorf("case %s: running: %w", c.Name, err)
				}
				continue
			}
			break
		}
	}
	return x, nil
}

// Compare lists the differences between a case's expectation and an outcome.
func Compare(c *Case, o *Outcome, concurrent bool) []string {
	var mm []string
	e := c.Expect
	if o.Status != e.Status {
		mm = append(mm, fmt.Sprintf("status %s, want %s (error %q cause %q)", o.Status, e.Status, o.Error, o.Cause))
		return mm
	}
	switch e.Status {
	case asl.StatusSucceeded:
		if !Match(normalizeValue(e.Output), normalizeValue(o.Output)) {
			mm = append(mm, fmt.Sprintf("output %s, want %s", compact(o.Output), compact(e.Output)))
		}
	case asl.StatusFailed:
		if o.Error != e.Error {
			mm = append(mm, fmt.Sprintf("error %q, want %q", o.Error, e.Error))
		}
		if e.Cause != nil && !Match(normalizeValue(*e.Cause), normalizeValue(o.Cause)) {
			mm = append(mm, fmt.Sprintf("cause %q, want %q", o.Cause, *e.Cause))
		}
	}
	if e.Events != nil && !sameEvents(e.Events, o.Events, concurrent) {
		mm = append(mm, fmt.Sprintf("events %v, want %v", o.Events, e.Events))
	}
	return mm
}

func sameEvents(want, got []string, concurrent bool) bool {
	if len(want) != len(got) {
		return false
	}
	same := true
	for i := range want {
		if want[i] != got[i] {
			same = false
			break
		}
	}
	if same || !concurrent {
		return same
	}
	a := append([]string(nil), want...)
	b := append([]string(nil), got...)
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func hasConcurrency(def any) bool {
	switch x := def.(type) {
	case map[string]any:
		if t, _ := x["Type"].(string); t == "Map" || t == "Parallel" {
			return true
		}
		for _, v := range x {
			if hasConcurrency(v) {
				return true
			}
		}
	case []any:
		for _, v := range x {
			if hasConcurrency(v) {
				return true
			}
		}
	}
	return false
}

// normalizeValue parses strings that hold JSON objects or arrays (the
// recordings keep some outputs as JSON text) so values compare by content.
func normalizeValue(v any) any {
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		if len(s) > 1 && (s[0] == '{' || s[0] == '[' || s[0] == '"') {
			var parsed any
			if json.Unmarshal([]byte(s), &parsed) == nil {
				return normalizeValue(parsed)
			}
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeValue(e)
		}
		return out
	case json.Number:
		f, _ := x.Float64()
		return f
	case int:
		return float64(x)
	}
	return v
}

// Match compares a recorded value with an actual one. Recorded strings
// holding LocalStack's placeholders ("<uuid:1>", "arn:<partition>:...")
// match any string with the same fixed parts.
func Match(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(w) != len(g) {
			return false
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok || !Match(v, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(w) != len(g) {
			return false
		}
		for i := range w {
			if !Match(w[i], g[i]) {
				return false
			}
		}
		return true
	case string:
		if strings.HasPrefix(w, "<") && strings.HasSuffix(w, ">") {
			return true // a placeholder stands for any value
		}
		if g, ok := got.(string); ok {
			return w == g || placeholderMatch(w, g)
		}
		return false
	case float64:
		g, ok := got.(float64)
		return ok && g == w
	}
	return want == got
}

// placeholderMatch matches s against a pattern where each "<...>" stands
// for any run of characters.
func placeholderMatch(pattern, s string) bool {
	if !strings.Contains(pattern, "<") {
		return false
	}
	var parts []string
	rest := pattern
	for {
		i := strings.Index(rest, "<")
		if i < 0 {
			parts = append(parts, rest)
			break
		}
		j := strings.Index(rest[i:], ">")
		if j < 0 {
			parts = append(parts, rest)
			break
		}
		parts = append(parts, rest[:i])
		rest = rest[i+j+1:]
	}
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		k := strings.Index(s, parts[i])
		if k < 0 {
			return false
		}
		s = s[k+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}
