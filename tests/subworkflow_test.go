package tests

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/store"
)

// cliExecution runs a bwc command that prints an execution as JSON.
func (s *server) cliExecution(args ...string) (store.Execution, int) {
	s.t.Helper()
	out, errOut, rc := s.cli(args...)
	var ex store.Execution
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		s.t.Fatalf("bwc %v: exit %d, not an execution: %v\nstdout: %s\nstderr: %s", args, rc, err, out, errOut)
	}
	return ex, rc
}

// cliChildren lists the children of an execution with `bwc execution list
// --parent`, by workflow task.
func (s *server) cliChildren(id string) map[string]store.Execution {
	s.t.Helper()
	out, errOut, rc := s.cli("execution", "list", "--parent", id, "--json")
	var list struct{ Items []store.Execution }
	if rc != 0 || json.Unmarshal([]byte(out), &list) != nil {
		s.t.Fatalf("bwc execution list --parent %s: exit %d: %s %s", id, rc, out, errOut)
	}
	m := map[string]store.Execution{}
	for _, ex := range list.Items {
		m[ex.Context.WorkflowTask] = ex
	}
	return m
}

// TestSubWorkflow runs, through bwc serve and the CLI, a workflow whose
// task runs another workflow (a states:startExecution.sync:2 task): the
// parent gets the child's output; a failing child fails the parent, or is
// caught by the parent's failure transition; the records link parents and
// children both ways.
func TestSubWorkflow(t *testing.T) {
	s := startServer(t, "", "--packs", filepath.Join(repoRoot(t), "tests", "testdata", "subworkflow"))

	// The compiled task is a sub-workflow execution.
	asl, errOut, rc := s.cli("workflow", "compile", "subwf.parent", "--packs", filepath.Join(repoRoot(t), "packs", "core"), "--packs", filepath.Join(repoRoot(t), "tests", "testdata", "subworkflow"))
	if rc != 0 || !strings.Contains(asl, `"Resource": "arn:aws:states:::states:startExecution.sync:2"`) || !strings.Contains(asl, "${StateMachineArn_subwf_child}") {
		t.Fatalf("bwc workflow compile subwf.parent: exit %d %s: want a startExecution.sync:2 task on subwf.child:\n%s", rc, errOut, asl)
	}

	t.Run("child succeeds", func(t *testing.T) {
		parent, rc := s.cliExecution("run", "subwf.parent", "n=21", "--json")
		if rc != 0 || parent.Status != store.StatusSucceeded {
			t.Fatalf("bwc run subwf.parent: exit %d, status %s, result %s", rc, parent.Status, parent.Result)
		}
		out := output(t, parent)
		child, _ := out["child"].(map[string]any)
		if child["doubled"] != float64(42) || child["said"] != "child got 21" || out["report"] != "parent got 42" {
			t.Errorf("parent output %v: want the child's output {doubled: 42, said: child got 21} and the report", out)
		}
		kids := s.cliChildren(parent.ID)
		run, report := kids["run_child"], kids["report"]
		if len(kids) != 2 || run.Action != "subwf.child" || run.Status != store.StatusSucceeded || report.Action != "core.echo" {
			t.Fatalf("children of the parent: %v", keys(kids))
		}
		// The child execution is a workflow with its own children, and
		// points back at its parent.
		got, rc := s.cliExecution("execution", "get", run.ID, "--json")
		if rc != 0 || got.ParentID != parent.ID || got.Runner != "workflow" || got.Context.TraceTag != parent.Context.TraceTag {
			t.Errorf("child %s: exit %d, parent %q runner %q trace %q; want parent %s, runner workflow, trace %s", run.ID, rc, got.ParentID, got.Runner, got.Context.TraceTag, parent.ID, parent.Context.TraceTag)
		}
		if c := output(t, got); c["doubled"] != float64(42) {
			t.Errorf("child output %v", c)
		}
		grand := s.cliChildren(run.ID)
		if len(grand) != 2 || grand["check"].Action != "core.noop" || grand["say"].Action != "core.echo" || grand["say"].ParentID != run.ID {
			t.Errorf("children of the child: %v", keys(grand))
		}
		// The human view shows the link too.
		text, _, _ := s.cli("execution", "get", run.ID)
		if !strings.Contains(text, "parent:") || !strings.Contains(text, parent.ID) {
			t.Errorf("bwc execution get %s does not show the parent:\n%s", run.ID, text)
		}
	})

	t.Run("child fails, parent fails", func(t *testing.T) {
		parent, rc := s.cliExecution("run", "subwf.parent", "n=1", "fail=true", "--json")
		if rc != 1 || parent.Status != store.StatusFailed {
			t.Fatalf("bwc run subwf.parent fail=true: exit %d, status %s; want exit 1, failed", rc, parent.Status)
		}
		kids := s.cliChildren(parent.ID)
		run := kids["run_child"]
		if len(kids) != 1 || run.Status != store.StatusFailed || run.ParentID != parent.ID {
			t.Fatalf("children of the failed parent: %v (run_child %s)", keys(kids), run.Status)
		}
		grand := s.cliChildren(run.ID)
		if grand["explode"].Status != store.StatusFailed || grand["say"].ID != "" {
			t.Errorf("children of the failed child: %v", keys(grand))
		}
		// The grandchild's failure reaches the parent's result.
		if !strings.Contains(string(parent.Result), "core.local exited with status 3") {
			t.Errorf("the parent's result does not carry the cause: %s", parent.Result)
		}
	})

	t.Run("child fails, parent catches it", func(t *testing.T) {
		parent, rc := s.cliExecution("run", "subwf.parent_catch", "--json")
		if rc != 0 || parent.Status != store.StatusSucceeded {
			t.Fatalf("bwc run subwf.parent_catch: exit %d, status %s, result %s", rc, parent.Status, parent.Result)
		}
		// $result of the failed task holds the child's error and cause. A
		// failed child execution fails the parent's startExecution.sync:2
		// task with States.TaskFailed, as on Step Functions; the cause
		// carries the child's own error (bwc.ActionFailed from its task).
		caught, _ := output(t, parent)["caught"].(map[string]any)
		cause, _ := caught["cause"].(string)
		if caught["error"] != "States.TaskFailed" || !strings.Contains(cause, "core.local exited with status 3") || !strings.Contains(cause, "bwc.ActionFailed") {
			t.Errorf("caught %v: want States.TaskFailed with the child's error name and cause", caught)
		}
		run := s.cliChildren(parent.ID)["run_child"]
		if run.Status != store.StatusFailed || run.ParentID != parent.ID {
			t.Errorf("the caught child: %s, parent %q", run.Status, run.ParentID)
		}
	})
	t.Run("cancel cascades to the child workflow's children", func(t *testing.T) {
		id := s.runAsync("subwf.parent_nap")
		var child, sleeper store.Execution
		waitFor(t, "the sleeping grandchild", func() (bool, error) {
			child = s.cliChildren(id)["nap"]
			if child.ID == "" {
				return false, nil
			}
			sleeper = s.cliChildren(child.ID)["sleep"]
			return sleeper.Status == store.StatusRunning, nil
		})
		if out, errOut, rc := s.cli("execution", "cancel", id); rc != 0 {
			t.Fatalf("bwc execution cancel: exit %d: %s %s", rc, out, errOut)
		}
		for _, ex := range []string{id, child.ID, sleeper.ID} {
			waitFor(t, "execution "+ex+" canceled", func() (bool, error) {
				got, _ := s.cliExecution("execution", "get", ex, "--json")
				return got.Status == store.StatusCanceled, nil
			})
		}
	})
}
