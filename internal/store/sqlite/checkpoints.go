package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

var _ store.Checkpoints = (*DB)(nil)

// readCheckpoint reads the stored checkpoint of an execution.
func readCheckpoint(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (store.Checkpoint, error) {
	cp := store.Checkpoint{ExecutionID: id}
	var upd int64
	err := q.QueryRowContext(ctx, `SELECT version, updated_at, data FROM checkpoints WHERE execution_id = ?`, id).Scan(&cp.Version, &upd, &cp.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return cp, store.ErrNotFound
	}
	if err != nil {
		return cp, err
	}
	cp.UpdatedAt = time.Unix(0, upd).UTC()
	return cp, nil
}

// PutCheckpoint implements store.Checkpoints: in one transaction (through
// the writer, see withTx), it reads the stored version and writes the new
// one only if it is the expected one.
func (d *DB) PutCheckpoint(ctx context.Context, cp store.Checkpoint) (store.Checkpoint, error) {
	if err := cp.Validate(); err != nil {
		return cp, fmt.Errorf("putting checkpoint: %w", err)
	}
	now := d.now()
	var cur store.Checkpoint
	conflict := false
	err := d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		cur, err = readCheckpoint(ctx, tx, cp.ExecutionID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			cur = store.Checkpoint{ExecutionID: cp.ExecutionID}
		case err != nil:
			return err
		}
		if cur.Version != cp.Version {
			conflict = true
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO checkpoints (execution_id, version, updated_at, data) VALUES (?, ?, ?, ?)
ON CONFLICT (execution_id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, data = excluded.data`,
			cp.ExecutionID, cp.Version+1, now.UnixNano(), []byte(cp.Data))
		return err
	})
	if err != nil {
		return cp, fmt.Errorf("putting checkpoint of %s: %w", cp.ExecutionID, err)
	}
	if conflict {
		return cur, fmt.Errorf("putting checkpoint of %s version %d (stored: %d): %w", cp.ExecutionID, cp.Version, cur.Version, store.ErrConflict)
	}
	cp.Version++
	cp.UpdatedAt = now
	return cp, nil
}

// GetCheckpoint implements store.Checkpoints.
func (d *DB) GetCheckpoint(ctx context.Context, executionID string) (store.Checkpoint, error) {
	cp, err := readCheckpoint(ctx, d.db, executionID)
	if err != nil {
		return cp, fmt.Errorf("getting checkpoint of %s: %w", executionID, err)
	}
	return cp, nil
}

// DeleteCheckpoint implements store.Checkpoints.
func (d *DB) DeleteCheckpoint(ctx context.Context, executionID string) error {
	err := d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM checkpoints WHERE execution_id = ?`, executionID)
		if err != nil {
			return err
		}
		return affected(res)
	})
	if err != nil {
		return fmt.Errorf("deleting checkpoint of %s: %w", executionID, err)
	}
	return nil
}
