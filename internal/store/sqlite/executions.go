package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

const insertExecution = `INSERT INTO executions (id, action, status, rule, trigger_instance_id, parent_id, trace_tag, user_name, started_at, expires_at, version, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// execRow is a prepared execution ready for its INSERT.
type execRow struct {
	x    store.Execution
	args []any
}

func (d *DB) prepareExecution(x store.Execution, now time.Time) (execRow, error) {
	x, err := store.PrepareExecution(x, now, d.opts.Retention)
	if err != nil {
		return execRow{x: x}, err
	}
	doc, err := marshal(withoutResult(x))
	if err != nil {
		return execRow{x: x}, err
	}
	c := x.Context
	return execRow{x: x, args: []any{x.ID, x.Action, x.Status, nullStr(c.Rule), nullStr(c.TriggerInstanceID), nullStr(x.ParentID),
		nullStr(c.TraceTag), nullStr(c.User), x.StartedAt.UnixNano(), nanos(x.ExpiresAt), x.Version, doc}}, nil
}

func withoutResult(x store.Execution) store.Execution {
	x.Result = nil
	return x
}

func (r execRow) insert(ctx context.Context, tx *sql.Tx, exec func(context.Context, ...any) (sql.Result, error)) error {
	if _, err := exec(ctx, r.args...); err != nil {
		return err
	}
	if r.x.Result != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO execution_results (id, result) VALUES (?, ?)`, r.x.ID, []byte(r.x.Result)); err != nil {
			return err
		}
	}
	return nil
}

// CreateExecution implements store.Executions.
func (d *DB) CreateExecution(ctx context.Context, x store.Execution) (store.Execution, error) {
	now := d.now()
	row, err := d.prepareExecution(x, now)
	if err != nil {
		return row.x, fmt.Errorf("creating execution: %w", err)
	}
	var old store.Execution
	found := false
	err = d.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if found, err = claimID(ctx, tx, "executions", row.x.ID, now); err != nil {
			return err
		}
		if found {
			old, err = d.getExecution(ctx, tx, row.x.ID, now)
			return err
		}
		return row.insert(ctx, tx, func(ctx context.Context, args ...any) (sql.Result, error) {
			return tx.ExecContext(ctx, insertExecution, args...)
		})
	})
	switch {
	case err != nil:
		return row.x, fmt.Errorf("creating execution %s: %w", row.x.ID, err)
	case found:
		return old, fmt.Errorf("creating execution %s: %w", row.x.ID, store.ErrAlreadyExists)
	}
	return row.x, nil
}

// CreateExecutions implements store.Executions, in one transaction.
func (d *DB) CreateExecutions(ctx context.Context, xs []store.Execution) (int, error) {
	now := d.now()
	rows := make([]execRow, len(xs))
	for i, x := range xs {
		r, err := d.prepareExecution(x, now)
		if err != nil {
			return 0, fmt.Errorf("creating executions: item %d: %w", i, err)
		}
		rows[i] = r
	}
	created := 0
	err := d.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, insertExecution+` ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer func() { _ = stmt.Close() }()
		for _, r := range rows {
			res, err := stmt.ExecContext(ctx, r.args...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				if r.x.Result != nil {
					if _, err := tx.ExecContext(ctx, `INSERT INTO execution_results (id, result) VALUES (?, ?)`, r.x.ID, []byte(r.x.Result)); err != nil {
						return err
					}
				}
				created++
				continue
			}
			// The id exists: reuse it only if it has expired.
			found, err := claimID(ctx, tx, "executions", r.x.ID, now)
			if err != nil {
				return err
			}
			if !found {
				if err := r.insert(ctx, tx, stmt.ExecContext); err != nil {
					return err
				}
				created++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("creating %d executions: %w", len(xs), err)
	}
	return created, nil
}

func (d *DB) getExecution(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string, now time.Time) (store.Execution, error) {
	x, err := getDoc[store.Execution](ctx, q, "executions", id, now)
	if err != nil {
		return x, err
	}
	var result []byte
	err = q.QueryRowContext(ctx, `SELECT result FROM execution_results WHERE id = ?`, id).Scan(&result)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return x, err
	default:
		x.Result = result
	}
	return x, nil
}

// GetExecution implements store.Executions.
func (d *DB) GetExecution(ctx context.Context, id string) (store.Execution, error) {
	x, err := d.getExecution(ctx, d.db, id, d.now())
	if err != nil {
		return x, fmt.Errorf("getting execution %s: %w", id, err)
	}
	return x, nil
}

// UpdateExecution implements store.Executions.
func (d *DB) UpdateExecution(ctx context.Context, id string, u store.ExecutionUpdate) (store.Execution, error) {
	if err := store.CheckUpdate(u); err != nil {
		return store.Execution{}, fmt.Errorf("updating execution %s: %w", id, err)
	}
	now := d.now()
	var out store.Execution
	err := d.withTx(ctx, func(tx *sql.Tx) error {
		cur, err := getDoc[store.Execution](ctx, tx, "executions", id, now)
		if err != nil {
			return err
		}
		next, err := store.ApplyUpdate(cur, u, now)
		if err != nil {
			if errors.Is(err, store.ErrConflict) {
				out, _ = d.getExecution(ctx, tx, id, now)
			}
			return err
		}
		doc, err := marshal(withoutResult(next))
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE executions SET status = ?, version = ?, doc = ? WHERE id = ? AND version = ?`,
			next.Status, next.Version, doc, id, cur.Version)
		if err != nil {
			return err
		}
		if err := affected(res); err != nil {
			return fmt.Errorf("version %d changed underneath: %w", cur.Version, store.ErrConflict)
		}
		if u.Result != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO execution_results (id, result) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET result = excluded.result`, id, []byte(u.Result)); err != nil {
				return err
			}
			out = next
			return nil
		}
		out, err = d.getExecution(ctx, tx, id, now)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("updating execution %s: %w", id, err)
	}
	return out, nil
}

// ListExecutions implements store.Executions. SQLite picks the index from
// the filters; every filter combination has one leading with an equality
// and ending with (started_at, id), so no listing sorts.
func (d *DB) ListExecutions(ctx context.Context, q store.ExecutionQuery) (store.Page[store.Execution], error) {
	limit := store.PageLimit(q.Limit)
	query, args, err := executionListSQL(q, limit, d.now())
	if err != nil {
		return store.Page[store.Execution]{}, fmt.Errorf("listing executions: %w", err)
	}
	p, err := listDocs[store.Execution](ctx, d, query, args, limit)
	if err != nil {
		return p, fmt.Errorf("listing executions: %w", err)
	}
	return p, nil
}

func executionListSQL(q store.ExecutionQuery, limit int, now time.Time) (string, []any, error) {
	var tq timeQuery
	tq.eq("action", q.Action)
	tq.eq("status", string(q.Status))
	tq.eq("rule", q.Rule)
	tq.eq("trigger_instance_id", q.TriggerInstanceID)
	tq.eq("parent_id", q.ParentID)
	tq.eq("trace_tag", q.TraceTag)
	tq.eq("user_name", q.User)
	tail, args, err := tq.tail("started_at", q.TimeRange, q.Token, limit, now)
	if err != nil {
		return "", nil, err
	}
	return `SELECT started_at, id, doc FROM executions` + tail, args, nil
}

// AppendOutput implements store.Output.
func (d *DB) AppendOutput(ctx context.Context, c store.OutputChunk) error {
	c, exp, err := store.PrepareOutput(c, d.now(), d.opts.Retention)
	if err != nil {
		return fmt.Errorf("appending output: %w", err)
	}
	res, err := d.db.ExecContext(ctx, `INSERT INTO output (execution_id, seq, stream, data, at, expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.ExecutionID, c.Seq, c.Stream, c.Data, c.At.UnixNano(), nanos(exp))
	if err != nil {
		return fmt.Errorf("appending output %s#%d: %w", c.ExecutionID, c.Seq, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("appending output %s#%d: %w", c.ExecutionID, c.Seq, store.ErrAlreadyExists)
	}
	return nil
}

// ListOutput implements store.Output.
func (d *DB) ListOutput(ctx context.Context, executionID string, afterSeq int64, limit int) ([]store.OutputChunk, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT seq, stream, data, at FROM output WHERE execution_id = ? AND seq > ? AND `+live+` ORDER BY seq LIMIT ?`,
		executionID, afterSeq, d.now().UnixNano(), store.PageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("listing output of %s: %w", executionID, err)
	}
	defer func() { _ = rows.Close() }()
	out := []store.OutputChunk{}
	for rows.Next() {
		c := store.OutputChunk{ExecutionID: executionID}
		var at int64
		if err := rows.Scan(&c.Seq, &c.Stream, &c.Data, &at); err != nil {
			return nil, fmt.Errorf("listing output of %s: %w", executionID, err)
		}
		c.At = time.Unix(0, at).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing output of %s: %w", executionID, err)
	}
	return out, nil
}
