package lambdafn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bwc-project/bwc/internal/aws/lambdafn"
	"github.com/bwc-project/bwc/internal/store"
)

// written is what secrettest.run_secret wrote to its out file (the runner
// masks secret values in an action's output, so the value is not there).
func written(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the action wrote nothing: %v", err)
	}
	return string(b)
}

// TestSecretParametersStayOutOfStepFunctions: a run started through the
// API keeps its secret parameter encrypted in the execution record; the
// StartExecution input (and the logs) never hold the value, and the
// runner function gets it from the record just before it runs.
func TestSecretParametersStayOutOfStepFunctions(t *testing.T) {
	f := newFixture(t, filepath.Join("testdata", "packs"))
	createKey(t, f)
	ctx := context.Background()
	h, err := lambdafn.NewHTTP(f.deps, "test")
	if err != nil {
		t.Fatal(err)
	}
	const value = "tok-5e1f"
	out := filepath.Join(t.TempDir(), "out")
	body, _ := json.Marshal(map[string]any{"action": "secrettest.run_secret", "parameters": map[string]any{"token": value, "out": out}})
	resp, err := h.Handle(ctx, httpEvent("POST", "/api/v1/executions", string(body), nil))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(resp.Body, value) {
		t.Errorf("the API answer shows the secret value: %s", resp.Body)
	}
	var ex store.Execution
	if err := json.Unmarshal([]byte(resp.Body), &ex); err != nil || ex.ID == "" {
		t.Fatalf("run: HTTP %d %s", resp.StatusCode, resp.Body)
	}
	if len(f.sfn.starts) != 1 {
		t.Fatalf("%d StartExecution calls, want 1", len(f.sfn.starts))
	}
	input := aws.ToString(f.sfn.starts[0].Input)
	if strings.Contains(input, value) || !strings.Contains(input, store.Masked) {
		t.Fatalf("StartExecution input %s: want the secret parameter masked", input)
	}
	var in struct {
		Action     string         `json:"action"`
		Parameters map[string]any `json:"parameters"`
		Context    map[string]any `json:"context"`
	}
	if err := json.Unmarshal([]byte(input), &in); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:states:us-east-1:000000000000:execution:bwc-bwc_action:" + ex.ID
	if _, err := lambdafn.NewRunner(f.deps).Handle(ctx, lambdafn.RunnerEvent{Action: in.Action, Parameters: in.Parameters, Context: in.Context, Execution: arn}); err != nil {
		t.Fatal(err)
	}
	if got := written(t, out); got != value {
		t.Errorf("the action printed %q, want the secret value %q", got, value)
	}
	if triggers := f.events.ofType(lambdafn.ActionTrigger); len(triggers) != 1 || strings.Contains(fmt.Sprint(triggers), value) {
		t.Errorf("core.actiontrigger events %v: want one, without the secret value", triggers)
	}
	rec, err := f.store.GetExecution(ctx, ex.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != store.StatusSucceeded || rec.Parameters["token"] != store.Masked {
		t.Errorf("record: %s with parameters %v, want succeeded and masked", rec.Status, rec.Parameters)
	}

	// A re-run takes the value kept with the original.
	resp, err = h.Handle(ctx, httpEvent("POST", "/api/v1/executions/"+ex.ID+"/re-run", `{}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	var again store.Execution
	if err := json.Unmarshal([]byte(resp.Body), &again); err != nil || again.ID == "" || again.ID == ex.ID {
		t.Fatalf("re-run: HTTP %d %s", resp.StatusCode, resp.Body)
	}
	if len(f.sfn.starts) != 2 || strings.Contains(aws.ToString(f.sfn.starts[1].Input), value) {
		t.Fatalf("StartExecution calls after the re-run: %+v", f.sfn.starts)
	}
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(aws.ToString(f.sfn.starts[1].Input)), &in); err != nil {
		t.Fatal(err)
	}
	arn = "arn:aws:states:us-east-1:000000000000:execution:bwc-bwc_action:" + again.ID
	if _, err := lambdafn.NewRunner(f.deps).Handle(ctx, lambdafn.RunnerEvent{Action: in.Action, Parameters: in.Parameters, Context: in.Context, Execution: arn}); err != nil {
		t.Fatal(err)
	}
	if got := written(t, out); got != value {
		t.Errorf("the re-run wrote %q, want the secret value %q", got, value)
	}
	if strings.Contains(f.logs.String(), value) {
		t.Errorf("the logs show the secret value:\n%s", f.logs)
	}
}

// TestWorkflowTaskResolvesSecretRefs: a workflow's machine gets references
// in place of its secret parameters; a task passing one on to a parameter
// its action declares secret runs with the value kept in the workflow's
// record, and a reference to an execution the task does not run in is
// refused.
func TestWorkflowTaskResolvesSecretRefs(t *testing.T) {
	f := newFixture(t, filepath.Join("testdata", "packs"))
	ctx := context.Background()
	const value = "tok-9a2b"
	for _, x := range []store.Execution{
		{ID: "wf-top", Action: "examples.remediate_disk", Runner: "workflow", Status: store.StatusRunning,
			Parameters: map[string]any{"token": value}, SecretParameters: []string{"token"}},
		{ID: "wf-sub", Action: "examples.remediate_disk", Runner: "workflow", Status: store.StatusRunning, ParentID: "wf-top"},
		{ID: "wf-other", Action: "examples.remediate_disk", Runner: "workflow", Status: store.StatusRunning,
			Parameters: map[string]any{"token": "other"}, SecretParameters: []string{"token"}},
	} {
		if _, err := f.store.CreateExecution(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	run := lambdafn.NewRunner(f.deps)
	for _, tc := range []struct {
		name, parent, ref string
		want              string // the task's stdout; "" for bwc.InvalidTask
	}{
		{"the task's workflow", "wf-top", "wf-top", value},
		{"a workflow above it", "wf-sub", "wf-top", value},
		{"another workflow", "wf-top", "wf-other", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			ev := lambdafn.RunnerEvent{
				Action:     "secrettest.run_secret",
				Parameters: map[string]any{"token": store.SecretRef(tc.ref, "token"), "out": out},
				Context: map[string]any{
					"task":               strings.ReplaceAll(tc.name, " ", "_"),
					"workflow_execution": "arn:aws:states:us-east-1:000000000000:execution:bwc-examples_remediate_disk:" + tc.parent,
				},
			}
			_, err := run.Handle(ctx, ev)
			if tc.want == "" {
				if typ := errorType(t, err); typ != lambdafn.ErrNameInvalidTask {
					t.Errorf("errorType %s, want %s", typ, lambdafn.ErrNameInvalidTask)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := written(t, out); got != tc.want {
				t.Errorf("the task printed %q, want %q", got, tc.want)
			}
			page, err := f.store.ListExecutions(ctx, store.ExecutionQuery{ParentID: tc.parent})
			if err != nil || len(page.Items) == 0 {
				t.Fatalf("children of %s: %v, %v", tc.parent, page.Items, err)
			}
			for _, c := range page.Items {
				if c.Action == "secrettest.run_secret" && c.Parameters["token"] != store.Masked {
					t.Errorf("child %s records %v, want the secret parameter masked", c.ID, c.Parameters)
				}
			}
			if strings.Contains(fmt.Sprint(f.events.ofType(lambdafn.ActionTrigger)), tc.want) {
				t.Errorf("a core.actiontrigger event holds the secret value")
			}
		})
	}
}
