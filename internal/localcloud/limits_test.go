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
