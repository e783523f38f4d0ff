package tests

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/store"
)

// TestAWSPathHandWritten runs an action of runner type asl through the AWS
// path: the api function (behind the API Gateway front) starts the
// action's own state machine in the local cloud with its parameters, the
// machine's two parallel tasks invoke the runner function, and the
// completion function records the machine's output in DynamoDB — the
// output the embedded engine gives the same run (TestHandWrittenStateMachine).
// On the generic action machine the run would fail: the runner function
// does not run asl actions.
func TestAWSPathHandWritten(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("examples:\n  chat_webhook_url: http://127.0.0.1:9/\n  chat_token: t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startAWSPath(t, dir, cfg)
	ctx := context.Background()
	ex, err := p.API.Run(ctx, api.RunRequest{Action: "e2e.hand_written", Parameters: map[string]any{"name": "asl"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.API.Wait(ctx, ex.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusSucceeded {
		t.Fatalf("e2e.hand_written: %s %s", got.Status, got.Result)
	}
	if g := output(t, got)["greetings"]; g != "hello asl (happy) / hello asl (sad)" {
		t.Errorf("greetings %q", g)
	}
	// Its tasks are its children, as on the embedded engine: the
	// definition passes context.workflow_execution, as compiled workflows do.
	kids := p.children(ex.ID)
	if got := keys(kids); got != "happy,sad" {
		t.Errorf("tasks run: %s, want happy,sad", got)
	}
	for task, k := range kids {
		if k.Action != "e2e.greet" || k.Status != store.StatusSucceeded || k.Context.TraceTag != got.Context.TraceTag {
			t.Errorf("task %s: %s %s trace %q, want e2e.greet succeeded trace %q", task, k.Action, k.Status, k.Context.TraceTag, got.Context.TraceTag)
		}
	}
	stored, err := p.db.GetExecution(ctx, ex.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Runner != pack.RunnerASL || stored.Status != store.StatusSucceeded || stored.Parameters["name"] != "asl" {
		t.Errorf("DynamoDB has %s runner %s parameters %v, want the succeeded asl execution", stored.Status, stored.Runner, stored.Parameters)
	}
}
