package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/store"
)

// recover finishes what an earlier process left: executions not started
// yet are started (a delayed one whose context has a NotBefore, a retry
// waiting for its policy's delay, is scheduled when that time comes: at
// once if it has passed, else after the rest of the delay; it leaves
// delayed by a compare-and-set on its status, so it runs once), executions
// that were running (their process is gone) are marked abandoned with the
// reason, and trigger instances recorded but not processed are delivered
// again (enforcement is idempotent).
func (e *Engine) recover(ctx context.Context) error {
	// Read everything in flight first: what is started below changes
	// status, and must not be taken for something an earlier process left.
	var errs []error
	found := map[store.ExecutionStatus][]store.Execution{}
	for _, st := range []store.ExecutionStatus{store.StatusRequested, store.StatusDelayed, store.StatusScheduled,
		store.StatusRunning, store.StatusCanceling, store.StatusPausing, store.StatusPaused, store.StatusResuming, store.StatusPending} {
		list, err := e.listExecutions(ctx, st)
		if err != nil {
			errs = append(errs, err)
		}
		found[st] = list
	}
	for _, st := range []store.ExecutionStatus{store.StatusRequested, store.StatusDelayed, store.StatusScheduled} {
		for _, ex := range found[st] {
			if err := e.executor.resume(ctx, ex); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// Workflows with a checkpoint and inquiries resume once the other
	// executions in flight are settled (abandoned), so that the tasks of a
	// resumed workflow see how their children ended.
	var resumable []store.Execution
	for _, st := range []store.ExecutionStatus{store.StatusRunning, store.StatusCanceling, store.StatusPausing, store.StatusPaused, store.StatusResuming, store.StatusPending} {
		for _, ex := range found[st] {
			if e.resumable(ctx, ex) {
				resumable = append(resumable, ex)
				continue
			}
			if err := e.executor.abandon(ctx, ex); err != nil {
				errs = append(errs, err)
			}
			if isWorkflow(ex.Runner) {
				// Finished: its checkpoint, if any, is of no more use.
				(&checkpointer{w: e.workflows, id: ex.ID}).remove(ctx)
			}
		}
	}
	for _, ex := range resumable {
		if err := e.executor.resumeRunning(ex); err != nil {
			errs = append(errs, err)
		}
		if isWorkflow(ex.Runner) && e.executor.actions.Action(ex.Action) == nil {
			// Abandoned (the workflow is no longer loaded): its checkpoint
			// is of no more use.
			(&checkpointer{w: e.workflows, id: ex.ID}).remove(ctx)
		}
	}
	if len(resumable) > 0 {
		e.log.Info("resumed executions", "count", len(resumable))
	}
	if err := e.redeliver(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// listExecutions lists every execution in status st.
func (e *Engine) listExecutions(ctx context.Context, st store.ExecutionStatus) ([]store.Execution, error) {
	var all []store.Execution
	q := store.ExecutionQuery{Status: st, Limit: store.MaxLimit}
	for {
		page, err := e.Store.ListExecutions(ctx, q)
		if err != nil {
			return all, fmt.Errorf("listing %s executions: %w", st, err)
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		q.Token = page.Next
	}
}

// redeliver puts back on the bus the trigger instances still pending.
//
// The store keeps no trigger parameters with a trigger instance; the
// engine's event ids carry them where rules select by them (a webhook's
// url, a timer's schedule), and triggerParams reads them back.
func (e *Engine) redeliver(ctx context.Context) error {
	var pending []store.TriggerInstance
	q := store.TriggerInstanceQuery{Limit: store.MaxLimit}
	for {
		page, err := e.Store.ListTriggerInstances(ctx, q)
		if err != nil {
			return fmt.Errorf("listing trigger instances: %w", err)
		}
		for _, ti := range page.Items {
			if ti.Status == store.TriggerPending {
				pending = append(pending, ti)
			}
		}
		if page.Next == "" {
			break
		}
		q.Token = page.Next
	}
	// Oldest first, as they arrived.
	for i := len(pending) - 1; i >= 0; i-- {
		if err := e.bus.Redeliver(ctx, pending[i], triggerParams(pending[i])); err != nil {
			return err
		}
	}
	if len(pending) > 0 {
		e.log.Info("redelivered pending trigger instances", "count", len(pending))
	}
	return nil
}

// resumable reports whether an execution found in flight can be picked up:
// a running, pausing or paused workflow with a checkpoint, a running
// workflow without one (it starts over with its parameters, secret ones
// read back from the store, and its tasks find the children they had
// started by their ids), or a pending inquiry.
func (e *Engine) resumable(ctx context.Context, ex store.Execution) bool {
	switch {
	case (ex.Status == store.StatusRunning || ex.Status == store.StatusPausing || ex.Status == store.StatusPaused) && isWorkflow(ex.Runner):
		if e.workflows.hasCheckpoint(ctx, ex.ID) {
			return true
		}
		return ex.Status == store.StatusRunning
	case ex.Status == store.StatusPending && ex.Runner == pack.RunnerInquirer:
		return true
	}
	return false
}

func isWorkflow(runnerType string) bool {
	return runnerType == pack.RunnerWorkflow || runnerType == pack.RunnerASL
}

// triggerParams recovers the trigger parameters of a trigger instance from
// its source event id: webhook events (api.WebhookEventID) carry their url,
// timer events (fireTimer) their timer id, the trigger type followed by
// the parameters as JSON.
func triggerParams(ti store.TriggerInstance) map[string]any {
	if url, ok := api.WebhookURLOf(ti.SourceEventID); ok {
		return map[string]any{"url": url}
	}
	if rest, ok := strings.CutPrefix(ti.SourceEventID, "timer:"+ti.Trigger); ok {
		if at := strings.LastIndex(rest, "@"); at > 0 {
			var params map[string]any
			if json.Unmarshal([]byte(rest[:at]), &params) == nil {
				return params
			}
		}
	}
	return nil
}
