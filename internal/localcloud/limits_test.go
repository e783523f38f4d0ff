package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/api/routes"
)

// A request body over the limit is refused as too large, saying so,
// rather than read cut short and reported as malformed JSON.
func TestRequestBodyOverTheLimit(t *testing.T) {
	c, err := New(Config{Machines: testMachines, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name       string
		size       int
		wantStatus int
		wantType   string
	}{
		{"at the limit", maxRequestBody, http.StatusBadRequest, "SerializationException"},
		{"over the limit", maxRequestBody + 1, http.StatusRequestEntityTooLarge, "SerializationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bytes.Repeat([]byte(" "), tt.size)
			copy(body, `{"Entries": [`) // never valid JSON: the answer says why
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			r.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
			w := httptest.NewRecorder()
			c.ServeHTTP(w, r)
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != tt.wantStatus || e.Type != tt.wantType {
				t.Fatalf("status %d %+v, want %d %s", w.Code, e, tt.wantStatus, tt.wantType)
			}
			if over := strings.Contains(e.Message, "limit"); over != (tt.wantStatus == http.StatusRequestEntityTooLarge) {
				t.Errorf("message %q", e.Message)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// A request whose body cannot be read is a 400, not a 413, and reaches no
// function.
func TestAPIGatewayUnreadableBody(t *testing.T) {
	invoked := false
	fn := FunctionFunc(func(_ context.Context, _ []byte) ([]byte, error) {
		invoked = true
		return []byte(`{}`), nil
	})
	g := &APIGateway{Functions: map[string]Function{routes.FunctionWebhook: fn}, Logger: quietLogger()}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/webhooks/a", io.NopCloser(failingReader{}))
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || invoked {
		t.Errorf("status %d (function invoked: %v), want 400 without an invocation", w.Code, invoked)
	}
}

// ListExecutions refuses a statusFilter or maxResults Step Functions
// refuses, rather than listing something else.
func TestListExecutionsValidation(t *testing.T) {
	c, err := New(Config{Machines: testMachines, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name string
		req  map[string]any
		want string
	}{
		{"valid", map[string]any{"statusFilter": "RUNNING", "maxResults": 1000}, ""},
		{"unknown status", map[string]any{"statusFilter": "running"}, "ValidationException"},
		{"maxResults over 1000", map[string]any{"maxResults": 1001}, "ValidationException"},
		{"negative maxResults", map[string]any{"maxResults": -1}, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(t, c.listExecutions, tt.req)
			if got := apiErrorType(err); got != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("no state machines is an empty list", func(t *testing.T) {
		empty, err := New(Config{Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer empty.Close()
		out, err := empty.listStateMachines(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(out); string(b) != `{"stateMachines":[]}` {
			t.Errorf("answer %s, want an empty list", b)
		}
	})
}

// A child execution's name from a state machine's arguments (possibly
// from event data) is checked as StartExecution checks one: a name that
// is a path fails the task and writes nothing outside Dir.
func TestChildExecutionNameIsChecked(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b")
	machines := map[string][]byte{
		"t.child": testMachines["t.child"],
		"t.named": []byte(`{"QueryLanguage": "JSONata", "StartAt": "start",
  "States": {"start": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
    "Arguments": {"StateMachineArn": "${StateMachineArn_t_child}", "Name": "{% $states.input.name %}", "Input": {"n": 1}}, "End": true}}}`),
	}
	c, err := New(Config{Machines: machines, Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name, child, status, errName string
	}{
		{"valid name", "child-1", "SUCCEEDED", ""},
		{"a path", "/../../../escaped", "FAILED", "StepFunctions.InvalidNameException"},
		{"too long", strings.Repeat("x", 81), "FAILED", "StepFunctions.InvalidNameException"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input, _ := json.Marshal(map[string]string{"name": tt.child})
			out, err := call(t, c.startExecutionOp, map[string]any{"stateMachineArn": c.MachineARN("t.named"), "name": fmt.Sprint("parent-", i), "input": string(input)})
			if err != nil {
				t.Fatal(err)
			}
			c.Wait()
			d, err := call(t, c.describeExecution, map[string]any{"executionArn": out["executionArn"]})
			if err != nil {
				t.Fatal(err)
			}
			if d["status"] != tt.status || (tt.errName != "" && d["error"] != tt.errName) {
				t.Errorf("parent %v %v (%v), want %s %s", d["status"], d["error"], d["cause"], tt.status, tt.errName)
			}
		})
	}
	escaped, _ := filepath.Glob(filepath.Join(root, "*.json"))
	if len(escaped) > 0 {
		t.Errorf("files written outside %s: %v", dir, escaped)
	}
}

// An execution whose task starts an execution of its own name fails that
// task (the execution exists) instead of waiting for itself forever.
func TestExecutionCannotStartItself(t *testing.T) {
	machines := map[string][]byte{
		"t.self": []byte(`{"QueryLanguage": "JSONata", "StartAt": "again",
  "States": {"again": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
    "Arguments": {"StateMachineArn": "${StateMachineArn_t_self}", "Name": "{% $states.context.Execution.Name %}", "Input": {}}, "End": true}}}`),
	}
	c, err := New(Config{Machines: machines, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	// Not closed when the execution hangs: Close would wait for it too.
	done := make(chan error, 1)
	var out map[string]any
	go func() {
		var err error
		out, err = call(t, c.startExecutionOp, map[string]any{"stateMachineArn": c.MachineARN("t.self"), "name": "me"})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("StartExecution did not return: the execution waits for itself")
	}
	defer c.Close()
	d, err := call(t, c.describeExecution, map[string]any{"executionArn": out["executionArn"]})
	if err != nil {
		t.Fatal(err)
	}
	if d["status"] != "FAILED" || d["error"] != "StepFunctions.ExecutionAlreadyExistsException" {
		t.Errorf("execution %v %v (%v), want FAILED StepFunctions.ExecutionAlreadyExistsException", d["status"], d["error"], d["cause"])
	}
}

// A function's Content-Length header does not cut or break the body: the
// gateway frames the response itself.
func TestAPIGatewayFramesTheBodyItself(t *testing.T) {
	fn := FunctionFunc(func(_ context.Context, _ []byte) ([]byte, error) {
		return []byte(`{"statusCode": 200, "headers": {"Content-Length": "1", "Content-Type": "text/plain"}, "body": "hello"}`), nil
	})
	srv := httptest.NewServer(&APIGateway{Functions: map[string]Function{routes.FunctionWebhook: fn}, Logger: quietLogger()})
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/v1/webhooks/a", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || string(body) != "hello" {
		t.Errorf("body %q (%v), want hello", body, err)
	}
}

// SendTaskSuccess refuses an output over Step Functions' 256 KiB.
func TestSendTaskSuccessOutputLimit(t *testing.T) {
	c, err := New(Config{Machines: testMachines, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name   string
		output string
		want   string
	}{
		{"within the limit", `"` + strings.Repeat("x", maxPayload-2) + `"`, "TaskDoesNotExist"},
		{"over the limit", `"` + strings.Repeat("x", maxPayload-1) + `"`, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(t, c.sendTaskSuccess, map[string]any{"taskToken": newToken(), "output": tt.output})
			if got := apiErrorType(err); got != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

// Two executions whose tasks start each other by name do not wait for
// each other's lock: ping starts pong, whose task starts ping again (it
// exists, runs with the same input, and its task holds its lock), which
// finds ping as StartExecution does, idempotently.
func TestExecutionsStartingEachOtherDoNotDeadlock(t *testing.T) {
	machines := map[string][]byte{
		"t.ping": []byte(`{"QueryLanguage": "JSONata", "StartAt": "pong",
  "States": {"pong": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
    "Arguments": {"StateMachineArn": "${StateMachineArn_t_pong}", "Name": "pong", "Input": {}}, "End": true}}}`),
		"t.pong": []byte(`{"QueryLanguage": "JSONata", "StartAt": "ping",
  "States": {"ping": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
    "Arguments": {"StateMachineArn": "${StateMachineArn_t_ping}", "Name": "ping", "Input": {}}, "Output": "{% $states.result %}", "End": true}}}`),
	}
	c, err := New(Config{Machines: machines, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	// Not closed when the executions hang: Close would wait for them too.
	done := make(chan error, 1)
	var out map[string]any
	go func() {
		var err error
		out, err = call(t, c.startExecutionOp, map[string]any{"stateMachineArn": c.MachineARN("t.ping"), "name": "ping"})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("StartExecution did not return: the executions wait for each other")
	}
	defer c.Close()
	pong, err := call(t, c.describeExecution, map[string]any{"executionArn": executionARN(c.MachineARN("t.pong"), "pong")})
	if err != nil {
		t.Fatal(err)
	}
	if pong["status"] != "SUCCEEDED" {
		t.Fatalf("pong %v %v (%v), want SUCCEEDED", pong["status"], pong["error"], pong["cause"])
	}
	var result struct {
		ExecutionArn string
		StartDate    float64
	}
	if err := json.Unmarshal([]byte(pong["output"].(string)), &result); err != nil {
		t.Fatal(err)
	}
	if result.ExecutionArn != out["executionArn"] || result.StartDate != out["startDate"].(float64)*1000 {
		t.Errorf("pong started %+v, want the running ping %v started at %v", result, out["executionArn"], out["startDate"])
	}
}

// PutEvents counts the entries' total size as EventBridge does (Time 14
// bytes, the UTF-8 bytes of Source, DetailType, Detail and Resources) and
// refuses the whole request over 256 KiB.
func TestPutEventsTotalSize(t *testing.T) {
	c, err := New(Config{Machines: testMachines, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// entry is an entry of exactly size bytes as EventBridge counts them.
	entry := func(size int, timed bool, resources ...string) map[string]any {
		e := map[string]any{"Source": "bwc.t", "DetailType": "t.event", "Resources": resources}
		fixed := len("bwc.t") + len("t.event") + len(`{"p":""}`)
		for _, r := range resources {
			fixed += len(r)
		}
		if timed {
			e["Time"] = 1.7e9
			fixed += 14
		}
		e["Detail"] = `{"p":"` + strings.Repeat("é", (size-fixed)/2) + strings.Repeat("x", (size-fixed)%2) + `"}`
		return e
	}
	timed := func(e map[string]any) map[string]any { e["Time"] = 1.7e9; return e }
	half := maxEntriesSize / 2
	tests := []struct {
		name    string
		entries []any
		wantErr bool
	}{
		{"one entry at the limit", []any{entry(maxEntriesSize, false)}, false},
		{"one entry at the limit with a Time", []any{entry(maxEntriesSize-14, true)}, false},
		{"one entry over the limit by its Time", []any{timed(entry(maxEntriesSize, false))}, true},
		{"one entry over the limit by its resources", []any{entry(maxEntriesSize+1, false, "arn:aws:s3:::b")}, true},
		{"two entries at the limit together", []any{entry(half, false), entry(half, false)}, false},
		{"two entries over the limit together", []any{entry(half, false), entry(half+1, false)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(t, c.putEvents, map[string]any{"Entries": tt.entries})
			if got := apiErrorType(err); (got == "ValidationException") != tt.wantErr || (err != nil && !tt.wantErr) {
				t.Fatalf("error %v, want a ValidationException: %t", err, tt.wantErr)
			}
			if tt.wantErr && !strings.Contains(err.Error(), "Total size of the entries") {
				t.Errorf("error %v, want it to say the total size is over the limit", err)
			}
		})
	}
}

// Page tokens are read back only as the server writes them: anything else
// is InvalidToken, not a page from some guessed index.
func TestPageTokensAreStrict(t *testing.T) {
	tests := []struct {
		token string
		want  int
		valid bool
	}{
		{"", 0, true},
		{"bwc-page-1", 1, true},
		{"bwc-page-250", 250, true},
		{"bwc-page-0", 0, false},
		{"bwc-page-1x", 0, false},
		{"bwc-page-1 ", 0, false},
		{"bwc-page- 1", 0, false},
		{"bwc-page-01", 0, false},
		{"bwc-page-+1", 0, false},
		{"bwc-page--1", 0, false},
		{"bwc-page-", 0, false},
		{"bwc-page-99999999999999999999999", 0, false},
		{"xbwc-page-1", 0, false},
		{"garbage", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			got, err := pageStart(tt.token)
			if tt.valid {
				if err != nil || got != tt.want {
					t.Fatalf("pageStart = %d, %v, want %d", got, err, tt.want)
				}
				return
			}
			if apiErrorType(err) != "InvalidToken" {
				t.Fatalf("pageStart = %d, %v, want InvalidToken", got, err)
			}
		})
	}
	c, err := New(Config{Machines: testMachines, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := call(t, c.listExecutions, map[string]any{"nextToken": "bwc-page-1junk"}); apiErrorType(err) != "InvalidToken" {
		t.Errorf("ListExecutions with a junk token: %v, want InvalidToken", err)
	}
}
