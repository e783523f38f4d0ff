package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
)

// ActionTrigger is the trigger type every finished execution emits.
const ActionTrigger = runner.ActionTrigger

// finish moves an execution to its final status with result, from
// whatever unfinished status it is in, and emits core.actiontrigger. An
// execution already finished is left as it is (a redelivered status
// change) and reported with false.
func (d *Deps) finish(ctx context.Context, log *slog.Logger, id string, to store.ExecutionStatus, result any) (store.Execution, bool, error) {
	var raw json.RawMessage
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			b, _ = json.Marshal(runner.WithError(nil, runner.ErrNameActionFailed, fmt.Sprintf("the result cannot be encoded as JSON: %v", err)))
		}
		raw = b
	}
	for range 5 {
		cur, err := d.Store.GetExecution(ctx, id)
		if err != nil {
			return store.Execution{}, false, fmt.Errorf("finishing execution %s: %w", id, err)
		}
		if cur.Status.Finished() {
			return cur, false, nil
		}
		target := to
		switch {
		case store.CanTransition(cur.Status, to):
		case to == store.StatusCanceled && store.CanTransition(cur.Status, store.StatusCanceling):
			target = store.StatusCanceling
		case store.CanTransition(cur.Status, store.StatusRunning):
			// Step Functions sends no RUNNING change to the completion
			// function (only the end): a scheduled execution ran.
			target = store.StatusRunning
		}
		got, err := d.Store.UpdateExecution(ctx, id, store.ExecutionUpdate{From: cur.Status, To: target, Result: raw, At: d.Now()})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return store.Execution{}, false, fmt.Errorf("finishing execution %s (%s -> %s): %w", id, cur.Status, target, err)
		}
		if target != to {
			continue // one step more
		}
		d.emit(ctx, log, got)
		return got, true, nil
	}
	return store.Execution{}, false, fmt.Errorf("finishing execution %s: it kept changing status: %w", id, store.ErrConflict)
}

// advance moves an execution to status to when the transition table allows
// it from where it is (scheduled -> running at the start of a run); it is
// a no-op otherwise.
func (d *Deps) advance(ctx context.Context, id string, to store.ExecutionStatus) (store.Execution, error) {
	for range 5 {
		cur, err := d.Store.GetExecution(ctx, id)
		if err != nil {
			return store.Execution{}, fmt.Errorf("moving execution %s to %s: %w", id, to, err)
		}
		if cur.Status == to || !store.CanTransition(cur.Status, to) {
			return cur, nil
		}
		got, err := d.Store.UpdateExecution(ctx, id, store.ExecutionUpdate{From: cur.Status, To: to, At: d.Now()})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return store.Execution{}, fmt.Errorf("moving execution %s to %s: %w", id, to, err)
		}
		return got, nil
	}
	return store.Execution{}, fmt.Errorf("moving execution %s to %s: it kept changing status: %w", id, to, store.ErrConflict)
}

// emit publishes core.actiontrigger for a finished execution, with the
// payload the embedded executor emits (runner.EmitActionTrigger).
func (d *Deps) emit(ctx context.Context, log *slog.Logger, ex store.Execution) {
	if err := runner.EmitActionTrigger(ctx, d.Events, ex); err != nil {
		log.Error("emitting core.actiontrigger", "execution", ex.ID, "err", err)
	}
}
