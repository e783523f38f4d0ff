package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
)

// ActionTrigger is the trigger type every finished execution emits.
const ActionTrigger = "core.actiontrigger"

// withError adds {"error": {"name", "message"}} to a result, as the
// embedded executor does.
func withError(v any, name, msg string) any {
	e := map[string]any{"name": name, "message": msg}
	switch m := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(m)+1)
		for k, x := range m {
			out[k] = x
		}
		out["error"] = e
		return out
	case nil:
		return map[string]any{"error": e}
	default:
		return map[string]any{"result": v, "error": e}
	}
}

// errorMessage is the message of an action error without its name.
func errorMessage(err error) string {
	var ae *runner.ActionError
	if errors.As(err, &ae) && ae.Err != nil {
		return ae.Err.Error()
	}
	return err.Error()
}

// finish moves an execution to its final status with result, from
// whatever unfinished status it is in, and emits core.actiontrigger. An
// execution already finished is left as it is (a redelivered status
// change) and reported with false.
func (d *Deps) finish(ctx context.Context, log *slog.Logger, id string, to store.ExecutionStatus, result any) (store.Execution, bool, error) {
	var raw json.RawMessage
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			b, _ = json.Marshal(withError(nil, runner.ErrNameActionFailed, fmt.Sprintf("the result cannot be encoded as JSON: %v", err)))
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
// payload the embedded executor emits.
func (d *Deps) emit(ctx context.Context, log *slog.Logger, ex store.Execution) {
	var result any
	if len(ex.Result) > 0 {
		_ = json.Unmarshal(ex.Result, &result)
	}
	_, name, _ := strings.Cut(ex.Action, ".")
	params := ex.Parameters
	if params == nil {
		params = map[string]any{}
	}
	payload := map[string]any{
		"execution_id":    ex.ID,
		"status":          string(ex.Status),
		"start_timestamp": ex.StartedAt.UTC().Format(time.RFC3339Nano),
		"action_name":     name,
		"action_ref":      ex.Action,
		"runner_ref":      ex.Runner,
		"parameters":      params,
		"result":          result,
	}
	if !ex.EndedAt.IsZero() {
		payload["end_timestamp"] = ex.EndedAt.UTC().Format(time.RFC3339Nano)
	}
	out, err := d.Events.PutEvents(ctx, []bus.Entry{{
		ID:       "actiontrigger:" + ex.ID,
		Trigger:  ActionTrigger,
		Payload:  payload,
		TraceTag: ex.Context.TraceTag,
		Time:     ex.EndedAt,
	}})
	if err == nil && out.FailedEntryCount > 0 {
		err = errors.New(out.Entries[0].ErrorMessage)
	}
	if err != nil {
		log.Error("emitting core.actiontrigger", "execution", ex.ID, "err", err)
	}
}

// outputWriter appends an execution's output chunks to the store, numbered
// from 1.
type outputWriter struct {
	d   *Deps
	ctx context.Context
	id  string
	log *slog.Logger
	seq int64
}

func (w *outputWriter) write(c runner.Chunk) {
	w.seq++
	stream := store.Stdout
	if c.Stream == runner.StreamStderr {
		stream = store.Stderr
	}
	data := string(c.Data)
	if c.Host != "" {
		data = c.Host + ": " + data
	}
	err := w.d.Store.AppendOutput(w.ctx, store.OutputChunk{ExecutionID: w.id, Seq: w.seq, Stream: stream, Data: data, At: w.d.Now()})
	if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		w.log.Error("storing output", "execution", w.id, "seq", w.seq, "err", err)
	}
}
