package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/rule"
)

// Test state machines, by reference.
var testMachines = map[string][]byte{
	content.ActionMachineRef: content.ActionMachineDefinition(),
	// t.callback waits for its task token: the runner gets it in the payload.
	"t.callback": []byte(`{
  "QueryLanguage": "JSONata", "StartAt": "ask",
  "States": {"ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "Arguments": {"FunctionName": "${RunnerFunctionArn}", "Payload": {"action": "core.ask", "task_token": "{% $states.context.Task.Token %}"}},
    "Output": "{% {'answer': $states.result} %}", "End": true}}}`),
	// t.parent runs t.child with .sync:2 and returns the child's output.
	"t.parent": []byte(`{
  "QueryLanguage": "JSONata", "StartAt": "child",
  "States": {"child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
    "Arguments": {"StateMachineArn": "${StateMachineArn_t_child}", "Input": {"n": "{% $states.input.n %}"}},
    "Output": "{% {'child': $states.result.Output, 'status': $states.result.Status} %}", "End": true}}}`),
	// t.timeout's callback task times out after 5 seconds.
	"t.timeout": []byte(`{
  "QueryLanguage": "JSONata", "StartAt": "ask",
  "States": {"ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "TimeoutSeconds": 5,
    "Arguments": {"FunctionName": "${RunnerFunctionArn}", "Payload": {"action": "core.ask", "task_token": "{% $states.context.Task.Token %}"}},
    "End": true}}}`),
	"t.child": []byte(`{"QueryLanguage": "JSONata", "StartAt": "double",
  "States": {"double": {"Type": "Pass", "Output": "{% {'doubled': $states.input.n * 2} %}", "End": true}}}`),
}

// recorder is a Function that records what it is invoked with.
type recorder struct {
	mu       sync.Mutex
	payloads []json.RawMessage
	answer   func(payload []byte) ([]byte, error)
	got      chan json.RawMessage
}

func newRecorder(answer func([]byte) ([]byte, error)) *recorder {
	return &recorder{answer: answer, got: make(chan json.RawMessage, 100)}
}

func (r *recorder) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	r.mu.Lock()
	r.payloads = append(r.payloads, append(json.RawMessage(nil), payload...))
	r.mu.Unlock()
	r.got <- append(json.RawMessage(nil), payload...)
	if r.answer == nil {
		return []byte(`{}`), nil
	}
	return r.answer(payload)
}

func (r *recorder) all() []json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.payloads)
}

// next waits for the next invocation.
func (r *recorder) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case p := <-r.got:
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatalf("payload %s: %v", p, err)
		}
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("the function was not invoked")
		return nil
	}
}

type fixture struct {
	cloud      *Cloud
	url        string
	eb         *eventbridge.Client
	sf         *sfn.Client
	enforcer   *recorder
	runner     *recorder
	completion *recorder
}

// runnerAnswer answers the action machine's payload with the action and
// parameters, fails the action "t.fail", and ignores callbacks.
func runnerAnswer(p []byte) ([]byte, error) {
	var in struct {
		Action     string         `json:"action"`
		Parameters map[string]any `json:"parameters"`
	}
	_ = json.Unmarshal(p, &in)
	if in.Action == "t.fail" {
		return nil, &FunctionError{ErrorType: "bwc.ActionFailed", ErrorMessage: "the action failed"}
	}
	return json.Marshal(map[string]any{"ran": in.Action, "with": in.Parameters})
}

// testClock is a clock a test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newFixture(t *testing.T, dir string) *fixture {
	t.Helper()
	return newFixtureAt(t, dir, time.Now)
}

func newFixtureAt(t *testing.T, dir string, now func() time.Time) *fixture {
	t.Helper()
	f := &fixture{enforcer: newRecorder(nil), runner: newRecorder(runnerAnswer), completion: newRecorder(nil)}
	c, err := New(Config{
		Rules: []*rule.Compiled{
			{Ref: "t.match", Enabled: true, Pattern: json.RawMessage(`{"source": ["bwc.t"], "detail-type": ["t.event"], "detail": {"payload": {"level": ["high"]}}}`)},
			{Ref: "t.disabled", Enabled: false, Pattern: json.RawMessage(`{"source": ["bwc.t"]}`)},
		},
		Machines:   testMachines,
		Functions:  map[string]Function{FnEnforcer: f.enforcer, FnRunner: f.runner, FnCompletion: f.completion},
		Dir:        dir,
		RetryDelay: time.Millisecond,
		Now:        now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	f.cloud, f.url = c, srv.URL
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	f.eb = eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	f.sf = sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	t.Cleanup(func() {
		srv.Close()
		c.Close()
	})
	return f
}

func (f *fixture) arn(ref string) *string { return aws.String(f.cloud.MachineARN(ref)) }

// waitStatus polls DescribeExecution until the execution has status.
func (f *fixture) waitStatus(t *testing.T, arn string, status sfntypes.ExecutionStatus) *sfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := f.sf.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == status {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s is %s, want %s", arn, d.Status, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestPutEvents(t *testing.T) {
	f := newFixture(t, "")
	entry := func(source, detailType, detail, bus string) ebtypes.PutEventsRequestEntry {
		e := ebtypes.PutEventsRequestEntry{EventBusName: aws.String(bus)}
		if source != "" {
			e.Source = aws.String(source)
		}
		if detailType != "" {
			e.DetailType = aws.String(detailType)
		}
		if detail != "" {
			e.Detail = aws.String(detail)
		}
		return e
	}
	tests := []struct {
		name    string
		entry   ebtypes.PutEventsRequestEntry
		code    string
		matched bool
	}{
		{"matched", entry("bwc.t", "t.event", `{"payload": {"level": "high"}}`, "bwc"), "", true},
		{"matched, bus by ARN", entry("bwc.t", "t.event", `{"payload": {"level": "high"}}`, "arn:aws:events:us-east-1:000000000000:event-bus/bwc"), "", true},
		{"unmatched value", entry("bwc.t", "t.event", `{"payload": {"level": "low"}}`, "bwc"), "", false},
		{"unmatched on the default bus", entry("bwc.t", "t.event", `{"payload": {"level": "high"}}`, "default"), "", false},
		{"no source", entry("", "t.event", `{}`, "bwc"), "InvalidArgument", false},
		{"no detail type", entry("bwc.t", "", `{}`, "bwc"), "InvalidArgument", false},
		{"no detail", entry("bwc.t", "t.event", "", "bwc"), "InvalidArgument", false},
		{"detail an array", entry("bwc.t", "t.event", `[1]`, "bwc"), "MalformedDetail", false},
		{"detail not JSON", entry("bwc.t", "t.event", `{"a":`, "bwc"), "MalformedDetail", false},
		{"unknown bus", entry("bwc.t", "t.event", `{}`, "nope"), "NotFound", false},
	}
	var entries []ebtypes.PutEventsRequestEntry
	for _, tt := range tests {
		entries = append(entries, tt.entry)
	}
	// PutEvents takes at most 10 entries: all the cases, in one call.
	out, err := f.eb.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	wantFailed := 0
	matchedIDs := map[string]bool{}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := out.Entries[i]
			if aws.ToString(got.ErrorCode) != tt.code {
				t.Errorf("ErrorCode = %q (%s), want %q", aws.ToString(got.ErrorCode), aws.ToString(got.ErrorMessage), tt.code)
			}
			if (tt.code == "") != (aws.ToString(got.EventId) != "") {
				t.Errorf("EventId = %q with ErrorCode %q", aws.ToString(got.EventId), tt.code)
			}
			if tt.code != "" && aws.ToString(got.ErrorMessage) == "" {
				t.Error("no ErrorMessage")
			}
		})
		if tt.code != "" {
			wantFailed++
		}
		if tt.matched {
			matchedIDs[aws.ToString(out.Entries[i].EventId)] = true
		}
	}
	if int(out.FailedEntryCount) != wantFailed {
		t.Errorf("FailedEntryCount = %d, want %d", out.FailedEntryCount, wantFailed)
	}
	for range matchedIDs {
		f.enforcer.next(t)
	}
	f.cloud.Close() // waits for any other delivery
	delivered := map[string]bool{}
	for _, p := range f.enforcer.all() {
		var in struct {
			Rule  string `json:"rule"`
			Event Event  `json:"event"`
		}
		if err := json.Unmarshal(p, &in); err != nil {
			t.Fatal(err)
		}
		if in.Rule != "t.match" || in.Event.Source != "bwc.t" || in.Event.DetailType != "t.event" || in.Event.Account != Account || in.Event.Region != "us-east-1" {
			t.Errorf("enforcer payload %s", p)
		}
		var d map[string]any
		if err := json.Unmarshal(in.Event.Detail, &d); err != nil || d["payload"] == nil {
			t.Errorf("event detail %s: %v", in.Event.Detail, err)
		}
		delivered[in.Event.ID] = true
	}
	if !reflect.DeepEqual(delivered, matchedIDs) {
		t.Errorf("delivered %v, want exactly the matched events %v", delivered, matchedIDs)
	}

	t.Run("more than 10 entries", func(t *testing.T) {
		many := slices.Repeat([]ebtypes.PutEventsRequestEntry{tests[0].entry}, 11)
		_, err := f.eb.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: many})
		if errorCode(err) != "ValidationException" {
			t.Errorf("err = %v, want ValidationException", err)
		}
	})
}

func TestPutEventsRetriesAFailingTarget(t *testing.T) {
	f := newFixture(t, "")
	calls := 0
	f.enforcer.answer = func([]byte) ([]byte, error) {
		calls++
		if calls < 3 {
			return nil, &FunctionError{ErrorType: "Boom", ErrorMessage: "try again"}
		}
		return []byte(`{}`), nil
	}
	_, err := f.eb.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String("bwc"), Source: aws.String("bwc.t"), DetailType: aws.String("t.event"), Detail: aws.String(`{"payload": {"level": "high"}}`),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		f.enforcer.next(t)
	}
	f.cloud.Close()
	if n := len(f.enforcer.all()); n != 3 {
		t.Errorf("the enforcer was invoked %d times, want 3 (two failures, then success)", n)
	}
}

func TestStartExecutionIsIdempotentByName(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	start := func(name, input string) (*sfn.StartExecutionOutput, error) {
		return f.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: f.arn("t.callback"), Name: aws.String(name), Input: aws.String(input)})
	}
	first, err := start("ex-1", `{"a": 1}`)
	if err != nil {
		t.Fatal(err)
	}
	token := f.runner.next(t)["task_token"].(string)

	tests := []struct {
		name, execName, input, code string
	}{
		{"same name and input while running", "ex-1", `{"a":1}`, ""},
		{"same name, other input", "ex-1", `{"a": 2}`, "ExecutionAlreadyExists"},
		{"unknown machine", "ex-2", `{}`, "StateMachineDoesNotExist"},
		{"invalid name", "has space", `{}`, "InvalidName"},
		{"invalid input", "ex-3", `{"a": `, "InvalidExecutionInput"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &sfn.StartExecutionInput{StateMachineArn: f.arn("t.callback"), Name: aws.String(tt.execName), Input: aws.String(tt.input)}
			if tt.code == "StateMachineDoesNotExist" {
				in.StateMachineArn = f.arn("t.nope")
			}
			out, err := f.sf.StartExecution(ctx, in)
			if got := errorCode(err); got != tt.code {
				t.Fatalf("error %v, want %q", err, tt.code)
			}
			if tt.code == "" && (aws.ToString(out.ExecutionArn) != aws.ToString(first.ExecutionArn) || !out.StartDate.Equal(*first.StartDate)) {
				t.Errorf("got %s at %v, want the first start %s at %v", aws.ToString(out.ExecutionArn), out.StartDate, aws.ToString(first.ExecutionArn), first.StartDate)
			}
		})
	}
	want := "arn:aws:states:us-east-1:000000000000:execution:bwc-t_callback:ex-1"
	if aws.ToString(first.ExecutionArn) != want {
		t.Errorf("executionArn = %s, want %s", aws.ToString(first.ExecutionArn), want)
	}
	if _, err := f.sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"approved": true}`)}); err != nil {
		t.Fatal(err)
	}
	d := f.waitStatus(t, want, sfntypes.ExecutionStatusSucceeded)
	if aws.ToString(d.Output) != `{"answer":{"approved":true}}` {
		t.Errorf("output = %s", aws.ToString(d.Output))
	}
	t.Run("same name and input once closed", func(t *testing.T) {
		if _, err := start("ex-1", `{"a": 1}`); errorCode(err) != "ExecutionAlreadyExists" {
			t.Errorf("error %v, want ExecutionAlreadyExists (AWS refuses a closed execution's name)", err)
		}
	})
}

func TestTaskTokens(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	startCallback := func(name string) (string, string) {
		out, err := f.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: f.arn("t.callback"), Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ExecutionArn), f.runner.next(t)["task_token"].(string)
	}

	t.Run("failure", func(t *testing.T) {
		arn, token := startCallback("fail")
		if _, err := f.sf.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.sf.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("bwc.Rejected"), Cause: aws.String("no")}); err != nil {
			t.Fatal(err)
		}
		d := f.waitStatus(t, arn, sfntypes.ExecutionStatusFailed)
		if aws.ToString(d.Error) != "bwc.Rejected" || aws.ToString(d.Cause) != "no" {
			t.Errorf("error %q cause %q", aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		_, err := f.sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
		var gone *sfntypes.TaskDoesNotExist
		if !errors.As(err, &gone) {
			t.Errorf("a used token: %v, want TaskDoesNotExist", err)
		}
	})
	tests := []struct {
		name, token, output, code string
	}{
		{"malformed token", "not-a-token", `{}`, "InvalidToken"},
		{"unknown token", newToken(), `{}`, "TaskDoesNotExist"},
		{"output not JSON", newToken(), `{`, "InvalidOutput"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tt.token), Output: aws.String(tt.output)})
			if got := errorCode(err); got != tt.code {
				t.Errorf("error %v, want %s", err, tt.code)
			}
		})
	}
}

func TestActionMachine(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	tests := []struct {
		name, action string
		status       sfntypes.ExecutionStatus
		output       string
		errName      string
	}{
		{"succeeds with the runner's result", "t.ok", sfntypes.ExecutionStatusSucceeded, `{"ran":"t.ok","with":{"x":1}}`, ""},
		{"fails with the runner's errorType", "t.fail", sfntypes.ExecutionStatusFailed, "", "bwc.ActionFailed"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := fmt.Sprintf(`{"action": %q, "parameters": {"x": 1}, "context": {"rule": "r"}}`, tt.action)
			out, err := f.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: f.arn(content.ActionMachineRef), Name: aws.String(fmt.Sprintf("run-%d", i)), Input: aws.String(input)})
			if err != nil {
				t.Fatal(err)
			}
			p := f.runner.next(t)
			if p["action"] != tt.action || p["execution"] != aws.ToString(out.ExecutionArn) {
				t.Errorf("runner payload %v", p)
			}
			d := f.waitStatus(t, aws.ToString(out.ExecutionArn), tt.status)
			if aws.ToString(d.Output) != tt.output || aws.ToString(d.Error) != tt.errName {
				t.Errorf("output %s error %s, want %s %s", aws.ToString(d.Output), aws.ToString(d.Error), tt.output, tt.errName)
			}
			// RUNNING first, as Step Functions sends it, then the end.
			start := f.completion.next(t)
			if sd, _ := start["detail"].(map[string]any); sd["status"] != "RUNNING" || sd["executionArn"] != aws.ToString(out.ExecutionArn) ||
				sd["input"] != input || sd["stopDate"] != nil || sd["output"] != nil {
				t.Errorf("first status change event %v, want RUNNING", start)
			}
			ev := f.completion.next(t)
			detail, _ := ev["detail"].(map[string]any)
			if ev["source"] != "aws.states" || ev["detail-type"] != "Step Functions Execution Status Change" ||
				detail["executionArn"] != aws.ToString(out.ExecutionArn) || detail["status"] != string(tt.status) ||
				detail["stateMachineArn"] != *f.arn(content.ActionMachineRef) || detail["input"] != input {
				t.Errorf("status change event %v", ev)
			}
			if tt.output != "" && detail["output"] != tt.output {
				t.Errorf("event output %v, want %s", detail["output"], tt.output)
			}
			if tt.errName != "" && detail["error"] != tt.errName {
				t.Errorf("event error %v, want %s", detail["error"], tt.errName)
			}
		})
	}
}

func TestStopExecutionAndHistory(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	out, err := f.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: f.arn("t.callback"), Name: aws.String("stopped")})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.ExecutionArn
	f.runner.next(t)
	if _, err := f.sf.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: arn, Error: aws.String("bwc.Canceled"), Cause: aws.String("by a test")}); err != nil {
		t.Fatal(err)
	}
	d := f.waitStatus(t, *arn, sfntypes.ExecutionStatusAborted)
	if aws.ToString(d.Error) != "bwc.Canceled" || d.StopDate == nil {
		t.Errorf("error %q stop %v", aws.ToString(d.Error), d.StopDate)
	}

	full, err := f.sf.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range full.Events {
		types = append(types, string(e.Type))
	}
	if len(types) < 4 || types[0] != "ExecutionStarted" || types[len(types)-1] != "ExecutionAborted" || !slices.Contains(types, "TaskScheduled") {
		t.Fatalf("history %v", types)
	}
	if got := aws.ToString(full.Events[0].ExecutionStartedEventDetails.Input); got != "{}" {
		t.Errorf("ExecutionStarted input %q, want {}", got)
	}
	if full.Events[len(full.Events)-1].ExecutionAbortedEventDetails == nil {
		t.Error("ExecutionAborted has no details")
	}
	for _, tt := range []struct {
		name    string
		reverse bool
	}{{"forward", false}, {"reverse", true}} {
		t.Run("paged "+tt.name, func(t *testing.T) {
			var ids []int64
			var token *string
			for pages := 0; ; pages++ {
				page, err := f.sf.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: arn, MaxResults: 2, NextToken: token, ReverseOrder: tt.reverse})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Events) > 2 {
					t.Fatalf("page of %d events, want at most 2", len(page.Events))
				}
				for _, e := range page.Events {
					ids = append(ids, e.Id)
				}
				if token = page.NextToken; token == nil || pages > 50 {
					break
				}
			}
			var want []int64
			for _, e := range full.Events {
				want = append(want, e.Id)
			}
			if tt.reverse {
				slices.Reverse(want)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("ids %v, want %v", ids, want)
			}
		})
	}
	t.Run("without execution data", func(t *testing.T) {
		h, err := f.sf.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: arn, IncludeExecutionData: aws.Bool(false)})
		if err != nil {
			t.Fatal(err)
		}
		if h.Events[0].ExecutionStartedEventDetails.Input != nil {
			t.Error("input given with includeExecutionData false")
		}
	})
	t.Run("unknown execution", func(t *testing.T) {
		_, err := f.sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(strings.Replace(*arn, "stopped", "nope", 1))})
		var missing *sfntypes.ExecutionDoesNotExist
		if !errors.As(err, &missing) {
			t.Errorf("err %v, want ExecutionDoesNotExist", err)
		}
	})
	t.Run("listed", func(t *testing.T) {
		l, err := f.sf.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: f.arn("t.callback"), StatusFilter: sfntypes.ExecutionStatusAborted})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Executions) != 1 || aws.ToString(l.Executions[0].ExecutionArn) != *arn {
			t.Errorf("executions %+v", l.Executions)
		}
	})
}

func TestChildExecutionSync2(t *testing.T) {
	f := newFixture(t, "")
	out, err := f.sf.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: f.arn("t.parent"), Name: aws.String("p"), Input: aws.String(`{"n": 21}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := f.waitStatus(t, aws.ToString(out.ExecutionArn), sfntypes.ExecutionStatusSucceeded)
	if got := aws.ToString(d.Output); got != `{"child":{"doubled":42},"status":"SUCCEEDED"}` {
		t.Errorf("output %s", got)
	}
}

func TestExecutionsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	ctx := context.Background()
	out, err := f.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: f.arn("t.callback"), Name: aws.String("kept")})
	if err != nil {
		t.Fatal(err)
	}
	token := f.runner.next(t)["task_token"].(string)
	f.cloud.Close()

	g := newFixture(t, dir)
	g.waitStatus(t, aws.ToString(out.ExecutionArn), sfntypes.ExecutionStatusRunning)
	if _, err := g.sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`"yes"`)}); err != nil {
		t.Fatal(err)
	}
	d := g.waitStatus(t, aws.ToString(out.ExecutionArn), sfntypes.ExecutionStatusSucceeded)
	if aws.ToString(d.Output) != `{"answer":"yes"}` {
		t.Errorf("output %s", aws.ToString(d.Output))
	}
}

func TestUnknownOperation(t *testing.T) {
	f := newFixture(t, "")
	_, err := f.sf.CreateActivity(context.Background(), &sfn.CreateActivityInput{Name: aws.String("a")})
	if errorCode(err) != "UnknownOperationException" {
		t.Errorf("err %v, want UnknownOperationException", err)
	}
}

func TestInvocationInFlightIsMadeAgainAfterARestart(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	started := make(chan struct{}, 1)
	f.cloud.cfg.Functions[FnRunner] = FunctionFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		started <- struct{}{}
		<-ctx.Done() // the process stops before the function answers
		return nil, ctx.Err()
	})
	out, err := f.sf.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: f.arn(content.ActionMachineRef), Name: aws.String("again"),
		Input: aws.String(`{"action": "t.ok", "parameters": {}, "context": {}}`)})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	f.cloud.Close()

	g := newFixture(t, dir)
	if p := g.runner.next(t); p["action"] != "t.ok" {
		t.Errorf("invoked again with %v", p)
	}
	d := g.waitStatus(t, aws.ToString(out.ExecutionArn), sfntypes.ExecutionStatusSucceeded)
	if aws.ToString(d.Output) != `{"ran":"t.ok","with":{}}` {
		t.Errorf("output %s", aws.ToString(d.Output))
	}
}

func TestTaskTimedOut(t *testing.T) {
	clk := &testClock{now: time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)}
	f := newFixtureAt(t, "", clk.Now)
	ctx := context.Background()
	out, err := f.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: f.arn("t.timeout"), Name: aws.String("late")})
	if err != nil {
		t.Fatal(err)
	}
	token := f.runner.next(t)["task_token"].(string)
	clk.Advance(6 * time.Second)
	_, err = f.sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
	var late *sfntypes.TaskTimedOut
	if !errors.As(err, &late) {
		t.Errorf("err %v, want TaskTimedOut", err)
	}
	d := f.waitStatus(t, aws.ToString(out.ExecutionArn), sfntypes.ExecutionStatusFailed)
	if aws.ToString(d.Error) != "States.Timeout" {
		t.Errorf("error %q, want States.Timeout", aws.ToString(d.Error))
	}
}
