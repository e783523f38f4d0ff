package runner

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/store"
)

// ActionTrigger is the trigger type every finished execution emits.
const ActionTrigger = "core.actiontrigger"

// EmitActionTrigger puts core.actiontrigger for a finished execution on
// the bus, with st2's payload (execution_id, status, start_timestamp,
// end_timestamp, action_name, action_ref, runner_ref, parameters as
// stored, result) and the event id "actiontrigger:<id>", so that a
// redelivered finish emits it once. Outcomes: nil; the bus's error, or
// the entry's when the bus refused it.
func EmitActionTrigger(ctx context.Context, pub Publisher, ex store.Execution) error {
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
	out, err := pub.PutEvents(ctx, []bus.Entry{{
		ID:       "actiontrigger:" + ex.ID,
		Trigger:  ActionTrigger,
		Payload:  payload,
		TraceTag: ex.Context.TraceTag,
		Time:     ex.EndedAt,
	}})
	if err == nil && out.FailedEntryCount > 0 {
		err = errors.New(out.Entries[0].ErrorMessage)
	}
	return err
}

// OutputStore keeps output chunks; store.Output satisfies it.
type OutputStore interface {
	AppendOutput(ctx context.Context, c store.OutputChunk) error
}

// StoreOutput returns a Request.Output that appends the chunks of
// execution id to st, numbered from 1 across both streams, a remote
// host's chunks prefixed with "<host>: ", stamped with now. A chunk stored
// already (a redelivery) is skipped; any other error goes to failed with
// the chunk's number. The function it returns is called by one runner at
// a time (not concurrently).
func StoreOutput(ctx context.Context, st OutputStore, id string, now func() time.Time, failed func(seq int64, err error)) func(Chunk) {
	var seq int64
	return func(c Chunk) {
		seq++
		stream := store.Stdout
		if c.Stream == StreamStderr {
			stream = store.Stderr
		}
		data := string(c.Data)
		if c.Host != "" {
			data = c.Host + ": " + data
		}
		err := st.AppendOutput(ctx, store.OutputChunk{ExecutionID: id, Seq: seq, Stream: stream, Data: data, At: now()})
		if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			failed(seq, err)
		}
	}
}
