package workflow_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/workflow"
	"github.com/bwc-project/bwc/internal/workflow/workflowtest"
)

// These tests run the compiled workflows on BWC's ASL interpreter with
// scripted actions: they check what the generated machines do.

func kinds(ref string) (string, bool) {
	switch ref {
	case "core.local", "core.noop", "core.echo":
		return workflow.KindRunner, true
	case "core.ask":
		return workflow.KindInquiry, true
	case "examples.child":
		return workflow.KindWorkflow, true
	}
	return "", false
}

func compile(t *testing.T, path string) *workflow.Machine {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := workflow.Parse(path, src)
	if err != nil {
		t.Fatal(err)
	}
	m, err := workflow.Compile(w, "examples."+strings.TrimSuffix(filepath.Base(path), ".yaml"), kinds)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func start(t *testing.T, path string, input map[string]any, script func(c workflowtest.Call, n int) workflowtest.Answer) *workflowtest.Harness {
	t.Helper()
	return workflowtest.Start(t, compile(t, path), input, script)
}

func remediateScript(usage string, cleanup workflowtest.Answer) func(c workflowtest.Call, n int) workflowtest.Answer {
	return func(c workflowtest.Call, n int) workflowtest.Answer {
		switch c.Task {
		case "check_disk":
			return workflowtest.Stdout(usage)
		case "cleanup":
			return cleanup
		}
		return workflowtest.Answer{Result: map[string]any{}}
	}
}

func TestRunRemediateApproved(t *testing.T) {
	h := start(t, "testdata/remediate.yaml", map[string]any{"host": "web-01"}, remediateScript("95", workflowtest.Stdout("ok")))
	if d := h.X.Describe(); d.Status != asl.StatusRunning {
		t.Fatalf("status %s, want RUNNING while the inquiry waits", d.Status)
	}
	ask := h.Actions.Last("approve")
	if ask.Params["route"] != "ops" {
		t.Errorf("approve parameters %v", ask.Params)
	}
	before := h.Clock.Now()
	h.Respond("approve", map[string]any{"response": map[string]any{"approved": true}})
	h.Expect(asl.StatusSucceeded, `{"cleaned":true,"usage":95}`, "check_disk", "approve", "cleanup", "notify", "notify")
	if got := h.Actions.Last("cleanup").Params["cmd"]; got != "echo cleaning web-01" {
		t.Errorf("cleanup cmd = %v", got)
	}
	if waited := h.Clock.Now().Sub(before); waited < 2*time.Second {
		t.Errorf("cleanup's delay: the clock moved %s, want at least 2s", waited)
	}
}

func TestRunRemediateRejected(t *testing.T) {
	h := start(t, "testdata/remediate.yaml", map[string]any{"host": "web-01", "threshold": 80}, remediateScript("85", workflowtest.Stdout("ok")))
	h.Respond("approve", map[string]any{"response": map[string]any{"approved": false}})
	h.Expect(asl.StatusSucceeded, `{"cleaned":false,"usage":85}`, "check_disk", "approve")
}

func TestRunRemediateBelowThreshold(t *testing.T) {
	h := start(t, "testdata/remediate.yaml", map[string]any{"host": "web-01"}, remediateScript("50", workflowtest.Stdout("ok")))
	h.Expect(asl.StatusSucceeded, `{"cleaned":false,"usage":50}`, "check_disk")
}

func TestRunRemediateInquiryFailsUncaught(t *testing.T) {
	h := start(t, "testdata/remediate.yaml", map[string]any{"host": "web-01"}, remediateScript("95", workflowtest.Stdout("ok")))
	h.Reject("approve", "bwc.InquiryTimeout", "nobody answered")
	h.Expect(asl.StatusFailed, "", "check_disk", "approve")
	if d := h.X.Describe(); d.Error != "bwc.InquiryTimeout" || d.Cause != "nobody answered" {
		t.Errorf("error %s: %s, want the inquiry's error", d.Error, d.Cause)
	}
}

func TestRunRemediateRetriesThenHandlesFailure(t *testing.T) {
	h := start(t, "testdata/remediate.yaml", map[string]any{"host": "db-1"}, func(c workflowtest.Call, n int) workflowtest.Answer {
		if c.Task == "check_disk" {
			return workflowtest.Answer{Fail: workflowtest.ShellFailure("df: /: permission denied")}
		}
		return workflowtest.Answer{Result: map[string]any{}}
	})
	h.Expect(asl.StatusFailed, "", "check_disk", "check_disk", "check_disk", "notify_failure")
	var attempts []int
	for _, c := range h.Actions.Calls {
		if c.Task == "check_disk" {
			attempts = append(attempts, c.Attempt)
		}
	}
	if fmt.Sprint(attempts) != "[0 1 2]" {
		t.Errorf("check_disk attempts %v, want [0 1 2] (retry count 2)", attempts)
	}
	if got := h.Actions.Last("notify_failure").Params["message"]; got != "disk check failed on db-1: bwc.ActionFailed" {
		t.Errorf("notify_failure message = %v", got)
	}
	if d := h.X.Describe(); d.Error != workflow.FailCommandError {
		t.Errorf("error %s, want %s from `do: fail`", d.Error, workflow.FailCommandError)
	}
}

func TestRunRemediateRetrySucceeds(t *testing.T) {
	h := start(t, "testdata/remediate.yaml", map[string]any{"host": "db-1"}, func(c workflowtest.Call, n int) workflowtest.Answer {
		if c.Task == "check_disk" && n == 0 {
			return workflowtest.Answer{Fail: workflowtest.ShellFailure("transient")}
		}
		return workflowtest.Stdout("40")
	})
	h.Expect(asl.StatusSucceeded, `{"cleaned":false,"usage":40}`, "check_disk", "check_disk")
}

func TestRunWithItems(t *testing.T) {
	h := start(t, "testdata/remediate.yaml", map[string]any{"host": "web-01"}, remediateScript("95", workflowtest.Stdout("ok")))
	h.Respond("approve", map[string]any{"response": map[string]any{"approved": true}})
	var items []string
	for _, c := range h.Actions.Calls {
		if c.Task == "notify" {
			items = append(items, fmt.Sprint(c.Params["channel"], "@", c.Params["host"]))
		}
	}
	if fmt.Sprint(items) != "[ops@web-01 owners@web-01]" {
		t.Errorf("notify ran with %v, want once per item, in order (concurrency 1)", items)
	}
	def := compile(t, "testdata/remediate.yaml").Definition["States"].(map[string]any)["notify"].(map[string]any)
	if def["MaxConcurrency"] != 1.0 {
		t.Errorf("MaxConcurrency = %v", def["MaxConcurrency"])
	}
}

func TestRunForkJoin(t *testing.T) {
	h := start(t, "testdata/fanout.yaml", map[string]any{"host": "web-01"}, func(c workflowtest.Call, n int) workflowtest.Answer {
		switch c.Task {
		case "disk":
			return workflowtest.Stdout("91%")
		case "memory":
			return workflowtest.Stdout("512MB")
		}
		return workflowtest.Answer{Result: map[string]any{}}
	})
	h.Expect(asl.StatusSucceeded, `{"disk":"91%","memory":"512MB"}`, "start", "disk", "memory", "check_memory", "report")
	if got := h.Actions.Last("report").Params["message"]; got != "91% / 512MB" {
		t.Errorf("report message = %v, want both branches' published values", got)
	}
	if got := h.Actions.Last("check_memory").Params["message"]; got != "512MB" {
		t.Errorf("check_memory sees %v, want the variable published earlier in its branch", got)
	}
}

func TestRunForkBranchFails(t *testing.T) {
	h := start(t, "testdata/fanout.yaml", map[string]any{"host": "web-01"}, func(c workflowtest.Call, n int) workflowtest.Answer {
		if c.Task == "disk" {
			return workflowtest.Answer{Fail: workflowtest.ShellFailure("no such host")}
		}
		return workflowtest.Stdout("x")
	})
	d := h.X.Describe()
	if d.Status != asl.StatusFailed || d.Error != "bwc.ActionFailed" {
		t.Errorf("status %s error %s, want FAILED with the branch task's error", d.Status, d.Error)
	}
	for _, task := range h.Actions.Tasks() {
		if task == "report" {
			t.Error("the join ran although a branch failed")
		}
	}
}

func TestRunSubWorkflow(t *testing.T) {
	h := start(t, "testdata/parent.yaml", map[string]any{"host": "web-01"}, func(c workflowtest.Call, n int) workflowtest.Answer {
		if c.Task == "child" {
			if c.Kind != "startExecution" || c.Action != "arn:aws:states:us-east-1:123456789012:stateMachine:StateMachineArn_examples_child" || c.Params["host"] != "web-01" {
				return workflowtest.Answer{Fail: &asl.Failure{Name: "test.BadRequest", Cause: fmt.Sprintf("%+v", c)}}
			}
			return workflowtest.Answer{Result: map[string]any{"answer": 42}}
		}
		return workflowtest.Answer{Result: map[string]any{}}
	})
	h.Expect(asl.StatusSucceeded, `{"answer":42}`, "child", "report")
}

func TestRunSubWorkflowFails(t *testing.T) {
	h := start(t, "testdata/parent.yaml", map[string]any{"host": "web-01"}, func(c workflowtest.Call, n int) workflowtest.Answer {
		if c.Task == "child" {
			return workflowtest.Answer{Fail: &asl.Failure{Name: "States.TaskFailed", Cause: "child execution failed"}}
		}
		return workflowtest.Answer{Result: map[string]any{}}
	})
	h.Expect(asl.StatusSucceeded, `{"answer":"child failed: States.TaskFailed"}`, "child", "report")
}

func pollScript(replies ...workflowtest.Answer) func(workflowtest.Call, int) workflowtest.Answer {
	return func(c workflowtest.Call, n int) workflowtest.Answer {
		if c.Task == "status" {
			if n < len(replies) {
				return replies[n]
			}
			return replies[len(replies)-1]
		}
		return workflowtest.Answer{Result: map[string]any{}}
	}
}

// A retry whose when looks at the result is a counted loop.
func TestRunRetryLoopUntilReady(t *testing.T) {
	h := start(t, "testdata/poll.yaml", map[string]any{"service": "checkout"}, pollScript(
		workflowtest.Stdout("starting"), workflowtest.Stdout("starting"), workflowtest.Stdout("ready")))
	h.Expect(asl.StatusSucceeded, `{"state":"ready"}`, "status", "status", "status", "announce")
}

func TestRunRetryLoopExhausted(t *testing.T) {
	start0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	h := start(t, "testdata/poll.yaml", map[string]any{"service": "checkout"}, pollScript(workflowtest.Stdout("starting")))
	h.Expect(asl.StatusSucceeded, `{"state":"starting"}`, "status", "status", "status", "status")
	if waited := h.Clock.Now().Sub(start0); waited < 30*time.Second {
		t.Errorf("three retries 10 s apart took %s on the clock", waited)
	}
}

func TestRunRetryLoopOnFailure(t *testing.T) {
	h := start(t, "testdata/poll.yaml", map[string]any{"service": "checkout"}, pollScript(
		workflowtest.Answer{Fail: workflowtest.ShellFailure("connection refused")}, workflowtest.Stdout("ready")))
	h.Expect(asl.StatusSucceeded, `{"state":"ready"}`, "status", "status", "announce")
}

func TestRunRetryLoopCounterResets(t *testing.T) {
	// Two runs of the same machine do not share the counter; within a run
	// the counter starts at 0 (set by bwc.start).
	for i := 0; i < 2; i++ {
		h := start(t, "testdata/poll.yaml", map[string]any{"service": "checkout"}, pollScript(
			workflowtest.Answer{Fail: workflowtest.ShellFailure("down")}))
		h.Expect(asl.StatusSucceeded, `{"state":"failed"}`, "status", "status", "status", "status")
	}
}
