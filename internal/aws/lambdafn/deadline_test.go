package lambdafn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/aws/lambdafn"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
)

// deadlineRunner reports the deadline the action was given and fails as
// an action whose context ended would.
type deadlineRunner struct {
	deadline time.Time
	cause    error
}

func (r *deadlineRunner) Run(ctx context.Context, _ runner.Request) (runner.Result, error) {
	r.deadline, _ = ctx.Deadline()
	<-ctx.Done()
	r.cause = context.Cause(ctx)
	return runner.Result{}, &runner.ActionError{Name: runner.ErrNameActionTimeout, Err: r.cause}
}

// TestRunnerStopsBeforeTheFunctionTimeout: the action's context ends
// before the invocation's deadline (with time kept to record its end),
// so a long action is recorded as timed out instead of being cut off
// with its execution left running.
func TestRunnerStopsBeforeTheFunctionTimeout(t *testing.T) {
	f := newFixture(t)
	r := &deadlineRunner{}
	f.deps.Runners = r
	createParent(t, f)
	h := lambdafn.NewRunner(f.deps)
	invocation := time.Now().Add(1500 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), invocation)
	defer cancel()
	_, err := h.Handle(ctx, lambdafn.RunnerEvent{
		Action: "core.local", Parameters: map[string]any{"cmd": "sleep 600"},
		Context: map[string]any{"task": "slow", "workflow": "examples.remediate_disk", "workflow_execution": parentARN},
	})
	if got := errorType(t, err); got != runner.ErrNameActionTimeout {
		t.Errorf("errorType %s, want %s", got, runner.ErrNameActionTimeout)
	}
	if r.deadline.IsZero() || !r.deadline.Before(invocation.Add(-time.Second+time.Millisecond)) || !errors.Is(r.cause, lambdafn.ErrFunctionDeadline) {
		t.Fatalf("the action's deadline %v (cause %v), want at least 1s before the invocation's %v, cause ErrFunctionDeadline", r.deadline, r.cause, invocation)
	}
	page, err := f.store.ListExecutions(context.Background(), store.ExecutionQuery{ParentID: "ex-parent"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Status != store.StatusTimeout {
		t.Errorf("children %+v, want one timed out", page.Items)
	}
}
