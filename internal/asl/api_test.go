package asl_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
)

// callbackPort answers .waitForTaskToken tasks later (Pending) and every
// other task at once with {"ok": true}.
type callbackPort struct {
	tokens []string
	reqs   []*asl.TaskRequest
}

func (p *callbackPort) RunTask(_ context.Context, req *asl.TaskRequest) (asl.TaskResult, error) {
	p.reqs = append(p.reqs, req)
	if req.Pattern == "waitForTaskToken" {
		p.tokens = append(p.tokens, req.TaskToken)
		return asl.TaskResult{Output: map[string]any{"MessageId": "m1"}}, nil
	}
	if req.Kind == "lambda" && req.Action == "" {
		if ev, _ := req.Parameters.(map[string]any); ev != nil && ev["fail"] == true {
			return asl.TaskResult{}, &asl.TaskError{Name: "ValueError", Cause: `{"errorMessage":"bad","errorType":"ValueError"}`}
		}
	}
	return asl.TaskResult{Output: map[string]any{"ok": true}}, nil
}

const callbackMachine = `{
  "StartAt": "Ask",
  "States": {
    "Ask": {
      "Type": "Task",
      "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
      "TimeoutSeconds": 300,
      "HeartbeatSeconds": 60,
      "Catch": [{"ErrorEquals": ["Rejected"], "Next": "No", "ResultPath": "$.err"}],
      "End": true
    },
    "No": {"Type": "Pass", "End": true}
  }
}`

func start(t *testing.T, def string, input any, port asl.TaskPort) (*asl.Execution, *asl.ManualClock) {
	t.Helper()
	clock := asl.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	in := asl.New(asl.WithClock(clock), asl.WithTaskPort(port))
	m, err := in.Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	x, err := in.Start(context.Background(), m, input, asl.StartOptions{Name: "e1", StateMachineName: "sm"})
	if err != nil {
		t.Fatal(err)
	}
	return x, clock
}

func types(x *asl.Execution) string {
	var out []string
	for _, e := range x.History() {
		out = append(out, e.Type)
	}
	return strings.Join(out, " ")
}

func TestCallbacks(t *testing.T) {
	ctx := context.Background()
	t.Run("success", func(t *testing.T) {
		p := &callbackPort{}
		x, _ := start(t, callbackMachine, map[string]any{}, p)
		if x.Done() || len(p.tokens) != 1 || len(x.WaitingTasks()) != 1 {
			t.Fatalf("want a running execution waiting for one token, got %s, %v", x.Describe().Status, x.WaitingTasks())
		}
		if msg := p.reqs[0].Parameters.(map[string]any)["MessageBody"].(map[string]any)["token"]; msg != p.tokens[0] {
			t.Errorf("$$.Task.Token %v, want the request's token %s", msg, p.tokens[0])
		}
		if err := x.SendTaskSuccess(ctx, p.tokens[0], map[string]any{"approved": true}); err != nil {
			t.Fatal(err)
		}
		d := x.Describe()
		if d.Status != asl.StatusSucceeded || d.Output.(map[string]any)["approved"] != true {
			t.Fatalf("got %+v", d)
		}
		if err := x.SendTaskSuccess(ctx, p.tokens[0], nil); !errors.Is(err, asl.ErrTaskTokenNotFound) {
			t.Errorf("second SendTaskSuccess: %v, want ErrTaskTokenNotFound", err)
		}
		want := "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskSucceeded TaskStateExited ExecutionSucceeded"
		if got := types(x); got != want {
			t.Errorf("history %s\nwant %s", got, want)
		}
	})
	t.Run("failure caught", func(t *testing.T) {
		p := &callbackPort{}
		x, _ := start(t, callbackMachine, map[string]any{}, p)
		if err := x.SendTaskFailure(ctx, p.tokens[0], "Rejected", "no"); err != nil {
			t.Fatal(err)
		}
		d := x.Describe()
		if d.Status != asl.StatusSucceeded || d.Output.(map[string]any)["err"].(map[string]any)["Error"] != "Rejected" {
			t.Fatalf("got %+v", d)
		}
	})
	t.Run("heartbeat keeps it alive, then timeout", func(t *testing.T) {
		p := &callbackPort{}
		x, clock := start(t, callbackMachine, map[string]any{}, p)
		for i := 0; i < 4; i++ {
			clock.Advance(50 * time.Second)
			if err := x.SendTaskHeartbeat(p.tokens[0]); err != nil {
				t.Fatal(err)
			}
			if err := x.Run(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if x.Done() {
			t.Fatalf("heartbeats did not keep the task alive: %+v", x.Describe())
		}
		clock.Advance(61 * time.Second)
		if err := x.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if d := x.Describe(); d.Status != asl.StatusFailed || d.Error != asl.ErrTimeout {
			t.Fatalf("got %+v, want FAILED States.Timeout", d)
		}
	})
	t.Run("stop", func(t *testing.T) {
		p := &callbackPort{}
		x, _ := start(t, callbackMachine, map[string]any{}, p)
		if err := x.Stop("Operator", "stopped by hand"); err != nil {
			t.Fatal(err)
		}
		d := x.Describe()
		if d.Status != asl.StatusAborted || d.Error != "Operator" {
			t.Fatalf("got %+v", d)
		}
		if !strings.HasSuffix(types(x), "TaskStateAborted ExecutionAborted") {
			t.Errorf("history %s", types(x))
		}
		if err := x.Stop("", ""); !errors.Is(err, asl.ErrExecutionNotRunning) {
			t.Errorf("second Stop: %v", err)
		}
	})
}

func TestLambdaErrorAndRetry(t *testing.T) {
	def := `{
	  "StartAt": "Fn",
	  "States": {
	    "Fn": {
	      "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
	      "Retry": [{"ErrorEquals": ["ValueError"], "IntervalSeconds": 10, "BackoffRate": 3, "MaxAttempts": 2, "MaxDelaySeconds": 20}],
	      "End": true
	    }
	  }
	}`
	p := &callbackPort{}
	clock := asl.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	in := asl.New(asl.WithClock(clock), asl.WithTaskPort(p))
	m, err := in.Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	x, err := in.Start(ctx, m, map[string]any{"fail": true}, asl.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if wake, ok := x.NextWake(); !ok || wake.Sub(clock.Now()) != 10*time.Second {
		t.Fatalf("first retry after %v, want 10s", wake.Sub(clock.Now()))
	}
	start := clock.Now()
	if err := x.RunUntilDone(ctx); err != nil {
		t.Fatal(err)
	}
	d := x.Describe()
	if d.Status != asl.StatusFailed || d.Error != "ValueError" {
		t.Fatalf("got %+v, want the function's errorType as the error", d)
	}
	if waited := clock.Now().Sub(start); waited != 30*time.Second { // 10s, then min(10s*3, MaxDelaySeconds 20s)
		t.Errorf("retries waited %v, want 30s", waited)
	}
	if len(p.reqs) != 3 || p.reqs[2].Attempt != 2 {
		t.Fatalf("%d invocations (last attempt %d), want 3 (attempt 2)", len(p.reqs), p.reqs[len(p.reqs)-1].Attempt)
	}
	if !strings.Contains(types(x), "LambdaFunctionScheduled LambdaFunctionStarted LambdaFunctionFailed") {
		t.Errorf("history %s", types(x))
	}
}

func TestJSONataVariablesScope(t *testing.T) {
	def := `{
	  "QueryLanguage": "JSONata",
	  "StartAt": "Init",
	  "States": {
	    "Init": {"Type": "Pass", "Assign": {"factor": 10, "seen": "outer"}, "Next": "Each"},
	    "Each": {
	      "Type": "Map",
	      "Items": "{% [1, 2, 3] %}",
	      "ItemProcessor": {"StartAt": "Mul", "States": {
	        "Mul": {"Type": "Pass", "Assign": {"seen": "{% 'inner' & $states.input %}"}, "Output": "{% $states.input * $factor %}", "Next": "Read"},
	        "Read": {"Type": "Pass", "Output": "{% {'v': $states.input, 'seen': $seen} %}", "End": true}
	      }},
	      "Assign": {"count": "{% $count($states.result) %}"},
	      "Output": "{% {'values': $states.result.v, 'seen': $seen, 'inner': $states.result.seen} %}",
	      "Next": "Done"
	    },
	    "Done": {"Type": "Pass", "Output": "{% $merge([$states.input, {'count': $count}]) %}", "End": true}
	  }
	}`
	x, _ := start(t, def, map[string]any{}, &callbackPort{})
	d := x.Describe()
	if d.Status != asl.StatusSucceeded {
		t.Fatalf("got %+v", d)
	}
	got := d.Output.(map[string]any)
	if s := compactJSON(got); s != `{"count":3,"inner":["inner1","inner2","inner3"],"seen":"outer","values":[10,20,30]}` {
		t.Errorf("output %s", s)
	}
}

func TestExecutionTimeout(t *testing.T) {
	def := `{"TimeoutSeconds": 60, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}`
	x, _ := start(t, def, map[string]any{}, &callbackPort{})
	if err := x.RunUntilDone(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := x.Describe(); d.Status != asl.StatusTimedOut {
		t.Fatalf("got %+v, want TIMED_OUT", d)
	}
}

func TestResumeRejectsAnotherMachine(t *testing.T) {
	p := &callbackPort{}
	x, _ := start(t, callbackMachine, map[string]any{}, p)
	snap, err := x.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	in := asl.New()
	other, err := in.Parse([]byte(`{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Resume(other, snap); !errors.Is(err, asl.ErrInvalidSnapshot) {
		t.Fatalf("Resume with another machine: %v, want ErrInvalidSnapshot", err)
	}
	same, _ := in.Parse([]byte(callbackMachine))
	y, err := in.Resume(same, snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := y.SendTaskSuccess(context.Background(), p.tokens[0], "yes"); err != nil {
		t.Fatal(err)
	}
	if d := y.Describe(); d.Status != asl.StatusSucceeded || d.Output != "yes" {
		t.Fatalf("resumed execution: %+v", d)
	}
}

func TestDataLimit(t *testing.T) {
	def := `{"QueryLanguage": "JSONata", "StartAt": "Big", "States": {"Big": {"Type": "Pass", "Output": "{% $join($map([1..30000], function($v) {'0123456789'})) %}", "End": true}}}`
	x, _ := start(t, def, map[string]any{}, &callbackPort{})
	if d := x.Describe(); d.Status != asl.StatusFailed || d.Error != asl.ErrDataLimitExceeded {
		t.Fatalf("got %+v, want States.DataLimitExceeded", d)
	}
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestChildExecutions(t *testing.T) {
	child := `{"StartAt": "Double", "States": {"Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.n, $.n)"}, "Next": "Check"},
	  "Check": {"Type": "Choice", "Choices": [{"Variable": "$.v", "NumericGreaterThan": 100, "Next": "TooBig"}], "Default": "Ok"},
	  "Ok": {"Type": "Succeed"}, "TooBig": {"Type": "Fail", "Error": "TooBig", "Cause": "over 100"}}}`
	parent := `{"QueryLanguage": "JSONata", "StartAt": "Run", "States": {
	  "Run": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
	    "Arguments": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child", "Input": "{% $states.input %}", "Name": "c1"},
	    "Output": "{% $states.result.Output %}",
	    "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Output": "{% $parse($states.errorOutput.Cause).Error %}", "Next": "Failed"}],
	    "End": true},
	  "Failed": {"Type": "Pass", "End": true}}}`
	cp := &asl.ChildExecutions{}
	in := asl.New(asl.WithTaskPort(cp), asl.WithClock(asl.NewManualClock(time.Unix(0, 0))))
	cp.Interpreter = in
	cm, err := in.Parse([]byte(child))
	if err != nil {
		t.Fatal(err)
	}
	cp.Machines = func(arn string) (*asl.Machine, error) {
		if arn != "arn:aws:states:us-east-1:123456789012:stateMachine:child" {
			return nil, errors.New("unknown")
		}
		return cm, nil
	}
	pm, err := in.Parse([]byte(parent))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    float64
		want string
	}{{21, `{"v":42}`}, {60, `"TooBig"`}} {
		x, err := in.Start(context.Background(), pm, map[string]any{"n": tc.n}, asl.StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d := x.Describe()
		if d.Status != asl.StatusSucceeded || compactJSON(d.Output) != tc.want {
			t.Errorf("n=%v: %s %s %s, want output %s", tc.n, d.Status, compactJSON(d.Output), d.Cause, tc.want)
		}
		if !strings.Contains(types(x), "TaskStarted TaskSubmitted Task") {
			t.Errorf("history %s: want TaskSubmitted", types(x))
		}
	}
}

func TestLambdaFunctions(t *testing.T) {
	def := `{"StartAt": "Direct", "States": {
	  "Direct": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "ResultPath": "$.direct", "Next": "Invoke"},
	  "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "double", "Payload.$": "$"}, "ResultSelector": {"v.$": "$.Payload.n", "code.$": "$.StatusCode"}, "ResultPath": "$.invoke", "Next": "Boom"},
	  "Boom": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "boom"},
	    "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.err", "Next": "Done"}], "End": true},
	  "Done": {"Type": "Succeed"}}}`
	lf := &asl.LambdaFunctions{Invoke: func(_ context.Context, fn string, event any) (any, error) {
		if strings.HasSuffix(fn, "boom") {
			return nil, &asl.FunctionError{Type: "ValueError", Message: "boom"}
		}
		n := event.(map[string]any)["n"].(float64)
		return map[string]any{"n": n * 2}, nil
	}}
	x, _ := start(t, def, map[string]any{"n": 2.0}, lf)
	d := x.Describe()
	want := `{"direct":{"n":4},"err":{"Cause":"{\"errorMessage\":\"boom\",\"errorType\":\"ValueError\",\"stackTrace\":[]}","Error":"ValueError"},"invoke":{"code":200,"v":4},"n":2}`
	if d.Status != asl.StatusSucceeded || compactJSON(d.Output) != want {
		t.Fatalf("got %s %s %s\nwant %s", d.Status, compactJSON(d.Output), d.Cause, want)
	}
}

// TestConcurrentExecutions runs executions of one Machine on one
// Interpreter from many goroutines (run with -race).
func TestConcurrentExecutions(t *testing.T) {
	in := asl.New(asl.WithClock(asl.NewManualClock(time.Unix(0, 0))))
	m, err := in.Parse([]byte(`{"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map", "Items": "{% [1..20] %}",
	  "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": "{% $states.input * 2 %}", "End": true}}},
	  "Output": "{% $sum($states.result) %}", "End": true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 20; i++ {
				x, err := in.Start(context.Background(), m, map[string]any{}, asl.StartOptions{})
				if err != nil {
					errs <- err
					return
				}
				if d := x.Describe(); d.Output != 420.0 {
					errs <- fmt.Errorf("output %v, want 420", d.Output)
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
