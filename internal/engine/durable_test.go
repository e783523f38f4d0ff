package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/api/client"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/engine"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

// durableDirs are the packs of the durability tests: durable.approvals (a
// workflow that marks a file, asks twice and writes both answers; one at a
// time by policy), durable.fanout (a task with items) and durable.flaky
// (always fails; retried twice).
var durableDirs = []string{filepath.Join("..", "..", "packs", "core"), filepath.Join("..", "..", "tests", "testdata", "durable")}

// running is an engine run that a test stops (as a restart does) before
// starting another on the same database.
type running struct {
	t      *testing.T
	eng    *engine.Engine
	api    *client.Client
	cancel context.CancelFunc
	done   chan error
}

func startEngine(t *testing.T, db string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	eng, err := engine.Open(ctx, engine.Config{PackDirs: durableDirs, DBPath: db, Listen: "127.0.0.1:0"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	key, err := os.ReadFile(eng.APIKeyFile)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	r := &running{t: t, eng: eng, api: client.New(eng.URL, strings.TrimSpace(string(key)), nil), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- eng.Run(ctx) }()
	t.Cleanup(r.stop)
	// The API answers once the engine has recovered what an earlier run
	// left: only then is what the test starts not taken for it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := r.api.Health(ctx); err == nil {
			return r
		} else if time.Now().After(deadline) {
			t.Fatalf("the engine's API does not answer: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop stops the engine and waits until it has (once).
func (r *running) stop() {
	if r.done == nil {
		return
	}
	r.cancel()
	if err := <-r.done; err != nil {
		r.t.Errorf("engine: %v", err)
	}
	r.done = nil
}

func (r *running) run(action string, params map[string]any) store.Execution {
	r.t.Helper()
	ex, err := r.eng.Executor().Run(context.Background(), engine.RunRequest{Action: action, Parameters: params, User: "test"})
	if err != nil {
		r.t.Fatalf("running %s: %v", action, err)
	}
	return ex
}

// children returns the child executions of a workflow by task; it fails
// the test when a task has more than one.
func (r *running) children(id string) map[string]store.Execution {
	r.t.Helper()
	page, err := r.eng.Store.ListExecutions(context.Background(), store.ExecutionQuery{ParentID: id, Limit: store.MaxLimit})
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]store.Execution{}
	for _, c := range page.Items {
		if prev, dup := out[c.Context.WorkflowTask]; dup {
			r.t.Fatalf("task %s of %s has two children: %s and %s", c.Context.WorkflowTask, id, prev.ID, c.ID)
		}
		out[c.Context.WorkflowTask] = c
	}
	return out
}

// waitChild waits until the workflow's task has a child in status st.
func (r *running) waitChild(id, task string, st store.ExecutionStatus) store.Execution {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, ok := r.children(id)[task]; ok && c.Status == st {
			return c
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("task %s of %s has no %s child: %v", task, id, st, r.children(id))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus waits until the execution leaves status from.
func (r *running) waitStatus(id string, from store.ExecutionStatus) store.Execution {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ex, err := r.eng.Store.GetExecution(context.Background(), id)
		if err != nil {
			r.t.Fatal(err)
		}
		if ex.Status != from {
			return ex
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("execution %s still %s", id, from)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *running) answer(child store.Execution, answer string) {
	r.t.Helper()
	if _, err := r.api.Respond(context.Background(), engine.InquiryID(child.ID), map[string]any{"answer": answer}); err != nil {
		r.t.Fatalf("answering the inquiry of %s: %v", child.ID, err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWorkflowTaskRunsOnceAfterACrash stops the engine after a workflow
// task has started its child execution, and puts back the store as a crash
// just before the next checkpoint would have left it: with the checkpoint
// from before the child started, or with none at all (a crash before the
// first). The resumed workflow must find the children already created
// (finished, or still waiting) instead of starting them again.
func TestWorkflowTaskRunsOnceAfterACrash(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash func(t *testing.T, st *sqlite.DB, id string, older store.Checkpoint)
	}{
		{"resumed from the checkpoint before the child started", func(t *testing.T, st *sqlite.DB, id string, older store.Checkpoint) {
			cur, err := st.GetCheckpoint(context.Background(), id)
			if err != nil {
				t.Fatalf("the workflow has no checkpoint after a graceful stop: %v", err)
			}
			if cur.Version <= older.Version {
				t.Fatalf("checkpoint version %d, want past %d", cur.Version, older.Version)
			}
			if _, err := st.PutCheckpoint(context.Background(), store.Checkpoint{ExecutionID: id, Version: cur.Version, Data: older.Data}); err != nil {
				t.Fatal(err)
			}
		}},
		{"started over without a checkpoint", func(t *testing.T, st *sqlite.DB, id string, _ store.Checkpoint) {
			if err := st.DeleteCheckpoint(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db, marks := filepath.Join(dir, "bwc.db"), filepath.Join(dir, "marks")
			ctx := context.Background()

			first := startEngine(t, db)
			wf := first.run("durable.approvals", map[string]any{"marks": marks})
			first.waitChild(wf.ID, "ask1", store.StatusPending)
			older, err := first.eng.Store.GetCheckpoint(ctx, wf.ID)
			if err != nil {
				t.Fatalf("no checkpoint while the workflow waits: %v", err)
			}
			first.answer(first.children(wf.ID)["ask1"], "one")
			ask2 := first.waitChild(wf.ID, "ask2", store.StatusPending)
			first.stop()

			st, err := sqlite.Open(ctx, db, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			tc.crash(t, st, wf.ID, older)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}

			second := startEngine(t, db)
			// The inquiry asked before the crash is the one the workflow
			// waits for.
			second.answer(ask2, "two")
			fin := waitFinished(t, second.eng.Store, wf.ID)
			if fin.Status != store.StatusSucceeded {
				t.Fatalf("workflow %s: %s", fin.Status, fin.Result)
			}
			var out map[string]any
			if err := json.Unmarshal(fin.Result, &out); err != nil || out["first"] != "one" || out["second"] != "two" {
				t.Errorf("workflow output %s (%v), want first one, second two", fin.Result, err)
			}
			kids := second.children(wf.ID)
			if len(kids) != 4 || kids["ask2"].ID != ask2.ID {
				t.Errorf("children %v, want one per task (mark, ask1, ask2, done) with ask2 still %s", kids, ask2.ID)
			}
			if got := readFile(t, marks); got != "mark\none-two\n" {
				t.Errorf("marks file %q: a shell task ran twice or not at all", got)
			}
			if _, err := second.eng.Store.GetCheckpoint(ctx, wf.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("checkpoint of the finished workflow: %v, want it deleted", err)
			}
		})
	}
}

// TestConcurrencyPolicyAcrossARestart: a workflow limited to one at a time
// is resumed after a restart without being admitted again; a second one
// started after the restart must wait for it.
func TestConcurrencyPolicyAcrossARestart(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "bwc.db")
	first := startEngine(t, db)
	one := first.run("durable.approvals", map[string]any{"marks": filepath.Join(dir, "one")})
	first.waitChild(one.ID, "ask1", store.StatusPending)
	first.stop()

	second := startEngine(t, db)
	two := second.run("durable.approvals", map[string]any{"marks": filepath.Join(dir, "two")})
	if got := second.waitStatus(two.ID, store.StatusRequested); got.Status != store.StatusDelayed {
		t.Fatalf("the second workflow is %s while the first runs, want delayed", got.Status)
	}
	second.answer(second.waitChild(one.ID, "ask1", store.StatusPending), "a")
	second.answer(second.waitChild(one.ID, "ask2", store.StatusPending), "b")
	oneDone := waitFinished(t, second.eng.Store, one.ID)
	if oneDone.Status != store.StatusSucceeded {
		t.Fatalf("first workflow %s: %s", oneDone.Status, oneDone.Result)
	}
	second.answer(second.waitChild(two.ID, "ask1", store.StatusPending), "c")
	second.answer(second.waitChild(two.ID, "ask2", store.StatusPending), "d")
	twoDone := waitFinished(t, second.eng.Store, two.ID)
	if twoDone.Status != store.StatusSucceeded {
		t.Fatalf("second workflow %s: %s", twoDone.Status, twoDone.Result)
	}
	var scheduled time.Time
	for _, c := range twoDone.StatusLog {
		if c.Status == store.StatusScheduled {
			scheduled = c.At
		}
	}
	if scheduled.IsZero() || scheduled.Before(oneDone.EndedAt) {
		t.Errorf("second workflow scheduled at %v, before the first ended at %v", scheduled, oneDone.EndedAt)
	}
}

// TestRetryCountSurvivesARestart: a crashed engine left the first retry of
// a failed execution requested. After the restart it runs, fails, and is
// retried once more: the policy's two retries in all, not two more.
func TestRetryCountSurvivesARestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bwc.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"cmd": "echo attempt; exit 1"}
	orig, err := st.CreateExecution(ctx, store.Execution{ID: "ex-orig", Action: "durable.flaky", Runner: "local-shell-cmd", Status: store.StatusRequested, Parameters: params})
	if err != nil {
		t.Fatal(err)
	}
	from := store.StatusRequested
	for _, to := range []store.ExecutionStatus{store.StatusScheduled, store.StatusRunning, store.StatusFailed} {
		if _, err := st.UpdateExecution(ctx, orig.ID, store.ExecutionUpdate{From: from, To: to}); err != nil {
			t.Fatal(err)
		}
		from = to
	}
	if _, err := st.CreateExecution(ctx, store.Execution{ID: "ex-retry-1", Action: "durable.flaky", Runner: "local-shell-cmd", Status: store.StatusRequested, Parameters: params,
		Context: store.ExecutionContext{RetryOf: orig.ID, RetryAttempt: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	r := startEngine(t, db)
	var last store.Execution
	deadline := time.Now().Add(30 * time.Second)
	for last.ID == "" {
		page, err := r.eng.Store.ListExecutions(ctx, store.ExecutionQuery{Action: "durable.flaky", Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range page.Items {
			if ex.Context.RetryAttempt == 2 && ex.Status.Finished() {
				last = ex
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no second retry finished; executions: %+v", page.Items)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.stop()
	if last.Context.RetryOf != orig.ID || last.Status != store.StatusFailed {
		t.Errorf("second retry %s: %s, retry of %q; want failed, retry of %s", last.ID, last.Status, last.Context.RetryOf, orig.ID)
	}
	st, err = sqlite.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	page, err := st.ListExecutions(ctx, store.ExecutionQuery{Action: "durable.flaky", Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 {
		t.Errorf("%d executions of durable.flaky, want 3 (the first and two retries)", len(page.Items))
	}
}

// TestReRunFromTaskKeepsVariables re-runs a finished workflow from its
// second question: the answer to the first, published before, is the
// original's; the second question is asked again.
func TestReRunFromTaskKeepsVariables(t *testing.T) {
	dir := t.TempDir()
	marks := filepath.Join(dir, "marks")
	r := startEngine(t, filepath.Join(dir, "bwc.db"))
	ctx := context.Background()
	wf := r.run("durable.approvals", map[string]any{"marks": marks})
	r.answer(r.waitChild(wf.ID, "ask1", store.StatusPending), "one")
	r.answer(r.waitChild(wf.ID, "ask2", store.StatusPending), "two")
	if fin := waitFinished(t, r.eng.Store, wf.ID); fin.Status != store.StatusSucceeded {
		t.Fatalf("workflow %s: %s", fin.Status, fin.Result)
	}

	for _, tc := range []struct {
		name  string
		tasks []string
		want  string
	}{
		{"no task", nil, "no task given"},
		{"unknown task", []string{"ask3"}, `no task "ask3"`},
		{"two tasks", []string{"ask1", "ask2"}, "starts at one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.eng.Executor().ReRunTasks(ctx, wf.ID, tc.tasks, "test")
			var pe *enforcer.ParameterError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a parameter error naming %q", err, tc.want)
			}
		})
	}
	items := r.run("durable.fanout", map[string]any{"marks": filepath.Join(dir, "items")})
	if fin := waitFinished(t, r.eng.Store, items.ID); fin.Status != store.StatusSucceeded {
		t.Fatalf("workflow with items %s: %s", fin.Status, fin.Result)
	}
	var pe *enforcer.ParameterError
	if _, err := r.eng.Executor().ReRunTasks(ctx, items.ID, []string{"each"}, "test"); !errors.As(err, &pe) || !strings.Contains(err.Error(), "cannot start inside") {
		t.Errorf("re-running from a task with items: %v, want a parameter error saying it cannot start there", err)
	}
	if _, err := r.eng.Executor().ReRunTasks(ctx, r.children(wf.ID)["mark"].ID, []string{"mark"}, "test"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("re-running a shell action from a task: %v, want a conflict", err)
	}

	again, err := r.eng.Executor().ReRunTasks(ctx, wf.ID, []string{"ask2"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	r.answer(r.waitChild(again.ID, "ask2", store.StatusPending), "three")
	fin := waitFinished(t, r.eng.Store, again.ID)
	if fin.Status != store.StatusSucceeded {
		t.Fatalf("re-run %s: %s", fin.Status, fin.Result)
	}
	var out map[string]any
	if err := json.Unmarshal(fin.Result, &out); err != nil || out["first"] != "one" || out["second"] != "three" {
		t.Errorf("re-run output %s (%v), want first one (the original's), second three", fin.Result, err)
	}
	if kids := r.children(again.ID); len(kids) != 2 || kids["ask2"].ID == "" || kids["done"].ID == "" {
		t.Errorf("re-run children %v, want ask2 and done", kids)
	}
	if got := readFile(t, marks); got != "mark\none-two\none-three\n" {
		t.Errorf("marks file %q", got)
	}
	if fin.Context.ReRunOf != wf.ID || fin.Context.ReRunStart == nil || fin.Context.ReRunStart.State != "ask2" {
		t.Errorf("re-run context %+v", fin.Context)
	}
}
