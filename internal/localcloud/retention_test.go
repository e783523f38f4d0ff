package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/bwc-project/bwc/internal/rule"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// call runs an operation with a JSON request.
func call(t *testing.T, op operation, req any) (map[string]any, error) {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := op(context.Background(), b)
	if err != nil {
		return nil, err
	}
	m, _ := out.(map[string]any)
	return m, nil
}

func apiErrorType(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Type
	}
	return ""
}

// Beyond Config.KeepEnded, the oldest ended executions are forgotten: in
// memory, in Dir, and after a restart.
func TestEndedExecutionsBeyondKeepEndedAreForgotten(t *testing.T) {
	dir := t.TempDir()
	open := func() *Cloud {
		c, err := New(Config{Machines: testMachines, Dir: dir, KeepEnded: 2, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	c := open()
	var arns []string
	for _, name := range []string{"a", "b", "c"} {
		out, err := call(t, c.startExecutionOp, map[string]any{"stateMachineArn": c.MachineARN("t.child"), "name": name, "input": `{"n": 1}`})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, out["executionArn"].(string))
	}
	c.Wait()
	check := func(t *testing.T, c *Cloud) {
		for i, arn := range arns {
			_, err := call(t, c.describeExecution, map[string]any{"executionArn": arn})
			want := ""
			if i == 0 {
				want = "ExecutionDoesNotExist"
			}
			if got := apiErrorType(err); got != want {
				t.Errorf("describing %s: error %v, want %q", arn, err, want)
			}
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) != 2 {
			t.Errorf("files %v, want the 2 kept executions", files)
		}
	}
	t.Run("in memory", func(t *testing.T) { check(t, c) })
	c.Close()
	t.Run("after a restart", func(t *testing.T) { check(t, open()) })
}

// blockingFunction is a Function whose invocations wait for release.
type blockingFunction struct {
	started chan []byte
	release chan struct{}
}

func (f *blockingFunction) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.started <- payload
	select {
	case <-f.release:
		return []byte(`{}`), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// The task token of an invocation that returns after its execution ended
// is not kept, and a forgotten execution's tokens go with it.
func TestTaskTokensOfEndedExecutionsAreNotKept(t *testing.T) {
	runner := &blockingFunction{started: make(chan []byte, 1), release: make(chan struct{})}
	c, err := New(Config{Machines: testMachines, Functions: map[string]Function{FnRunner: runner}, KeepEnded: 1, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tokens := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.tokens)
	}
	start := func(name string) string {
		out, err := call(t, c.startExecutionOp, map[string]any{"stateMachineArn": c.MachineARN("t.callback"), "name": name})
		if err != nil {
			t.Fatal(err)
		}
		<-runner.started
		return out["executionArn"].(string)
	}

	arn := start("stopped-in-flight")
	if _, err := call(t, c.stopExecution, map[string]any{"executionArn": arn}); err != nil {
		t.Fatal(err)
	}
	runner.release <- struct{}{}
	c.Wait()
	if n := tokens(); n != 0 {
		t.Errorf("%d task tokens kept after the execution was stopped and its invocation returned, want 0", n)
	}

	// A callback task's token stays while its execution runs (the
	// function handed it on), and goes once the execution is forgotten.
	arn = start("waiting")
	runner.release <- struct{}{}
	c.Wait()
	if n := tokens(); n != 1 {
		t.Fatalf("%d task tokens while a callback task waits, want 1", n)
	}
	if _, err := call(t, c.stopExecution, map[string]any{"executionArn": arn}); err != nil {
		t.Fatal(err)
	}
	// Stopping the next one forgets the waiting one (KeepEnded is 1).
	if _, err := call(t, c.stopExecution, map[string]any{"executionArn": start("next")}); err != nil {
		t.Fatal(err)
	}
	runner.release <- struct{}{}
	c.Wait()
	if n := tokens(); n != 0 {
		t.Errorf("%d task tokens kept after their executions were forgotten, want 0", n)
	}
}

// Once the cloud is closed, PutEvents is refused (nothing is delivered
// after Close), and the executions' timers are stopped.
func TestCloseStopsWork(t *testing.T) {
	enforcer := newRecorder(nil)
	machines := map[string][]byte{"t.wait": []byte(`{"QueryLanguage": "JSONata", "StartAt": "w",
  "States": {"w": {"Type": "Wait", "Seconds": 3600, "End": true}}}`)}
	c, err := New(Config{
		Rules:     []*rule.Compiled{{Ref: "t.all", Enabled: true, Pattern: json.RawMessage(`{"source": ["bwc.t"]}`)}},
		Machines:  machines,
		Functions: map[string]Function{FnEnforcer: enforcer},
		Logger:    quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := call(t, c.startExecutionOp, map[string]any{"stateMachineArn": c.MachineARN("t.wait"), "name": "w"})
	if err != nil {
		t.Fatal(err)
	}
	ex, _ := c.execution(out["executionArn"].(string))
	c.Close()
	ex.mu.Lock()
	timer := ex.timer
	ex.mu.Unlock()
	if timer != nil {
		t.Error("the Wait state's timer is still set after Close")
	}
	_, err = c.putEvents(context.Background(), []byte(`{"Entries": [{"Source": "bwc.t", "DetailType": "t", "Detail": "{}"}]}`))
	if got := apiErrorType(err); got != "ServiceUnavailable" {
		t.Errorf("PutEvents after Close: %v, want ServiceUnavailable", err)
	}
	if n := len(enforcer.all()); n != 0 {
		t.Errorf("%d deliveries after Close, want none", n)
	}
}

// A .sync task whose child cannot start keeps no task token.
func TestFailedChildStartKeepsNoToken(t *testing.T) {
	machines := map[string][]byte{"t.orphan": []byte(`{"QueryLanguage": "JSONata", "StartAt": "child",
  "States": {"child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
    "Arguments": {"StateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:nope", "Input": {}}, "End": true}}}`)}
	c, err := New(Config{Machines: machines, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, err := call(t, c.startExecutionOp, map[string]any{"stateMachineArn": c.MachineARN("t.orphan"), "name": "o"})
	if err != nil {
		t.Fatal(err)
	}
	c.Wait()
	d, _ := call(t, c.describeExecution, map[string]any{"executionArn": out["executionArn"]})
	if d["error"] != "StepFunctions.StateMachineDoesNotExistException" {
		t.Errorf("execution %v %v, want StepFunctions.StateMachineDoesNotExistException", d["status"], d["error"])
	}
	c.mu.Lock()
	n := len(c.tokens)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d task tokens kept, want 0", n)
	}
}
