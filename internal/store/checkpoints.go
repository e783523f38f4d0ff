package store

import (
	"context"
	"encoding/json"
	"time"
)

// Checkpoint is the saved state of a running workflow execution: what the
// workflow engine needs to pick the workflow up where it was after a
// restart. Data is opaque to the store and may be of any size.
type Checkpoint struct {
	ExecutionID string `json:"execution_id"`
	// Version counts the puts of the checkpoint: 1 after the first. In a
	// put it is the version the caller read (0: it expects none stored).
	Version   int64           `json:"version"`
	Data      json.RawMessage `json:"data"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Validate checks a checkpoint before it is written.
func (c Checkpoint) Validate() error {
	switch {
	case c.ExecutionID == "":
		return invalidf("checkpoint: execution id is empty")
	case c.Version < 0:
		return invalidf("checkpoint of %s: version %d is negative", c.ExecutionID, c.Version)
	case len(c.Data) == 0:
		return invalidf("checkpoint of %s: data is empty", c.ExecutionID)
	}
	return nil
}

// Checkpoints keeps the checkpoints of running workflows, one per
// execution. Used by the workflow engine: it puts one after each step,
// reads it to resume after a restart, and deletes it when the workflow
// ends.
//
// Puts are compare-and-set on the version, so a stale writer (a process
// that lost the workflow to another, or a put that raced a newer one)
// cannot overwrite a newer checkpoint.
type Checkpoints interface {
	// PutCheckpoint stores cp.Data as the checkpoint of cp.ExecutionID if
	// the stored version is cp.Version (0: none is stored). Outcomes: the
	// checkpoint as stored (Version cp.Version+1, UpdatedAt the store's
	// clock); ErrConflict with the current checkpoint when another version
	// is stored (with a zero Version when none is, e.g. it was deleted);
	// ErrInvalid; a storage error (the stored checkpoint is then the old
	// or the new one, never a mix).
	PutCheckpoint(ctx context.Context, cp Checkpoint) (Checkpoint, error)
	// GetCheckpoint returns the latest checkpoint of an execution.
	// Outcomes: the checkpoint; ErrNotFound; a storage error.
	GetCheckpoint(ctx context.Context, executionID string) (Checkpoint, error)
	// DeleteCheckpoint removes the checkpoint of an execution, whatever
	// its version (the workflow ended). Outcomes: nil; ErrNotFound; a
	// storage error.
	DeleteCheckpoint(ctx context.Context, executionID string) error
}
