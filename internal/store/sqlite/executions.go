package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

const (
	insertExecution = `INSERT INTO executions (id, action, status, rule, trigger_instance_id, parent_id, trace_tag, user_name, started_at, expires_at, version, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertResult = `INSERT INTO execution_results (id, result) VALUES (?, ?)`
	upsertResult = `INSERT INTO execution_results (id, result) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET result = excluded.result`
	// insertSecrets runs only after the execution row was inserted, so an
	// execution's secrets are written with it, once.
	insertSecrets = `INSERT INTO execution_secrets (id, sealed) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed`
	// selectExecution reads an execution with its result in one statement.
	selectExecution = `SELECT e.doc, r.result FROM executions e LEFT JOIN execution_results r ON r.id = e.id
WHERE e.id = ?1 AND (e.expires_at IS NULL OR e.expires_at > ?2)`
)

// execRow is a prepared execution ready for its INSERT.
type execRow struct {
	x      store.Execution
	doc    []byte
	sealed []byte // the secret parameters, sealed (store.SealSecrets)
	args   []any
}

func (d *DB) prepareExecution(ctx context.Context, x store.Execution, now time.Time) (execRow, error) {
	sealed, err := store.SealSecrets(ctx, d.opts.Cipher, x)
	if err != nil {
		return execRow{x: x}, err
	}
	x, err = store.PrepareExecution(x, now, d.opts.Retention)
	if err != nil {
		return execRow{x: x}, err
	}
	doc, err := marshal(withoutResult(x))
	if err != nil {
		return execRow{x: x}, err
	}
	c := x.Context
	return execRow{x: x, doc: doc, sealed: sealed, args: []any{x.ID, x.Action, x.Status, nullStr(c.Rule), nullStr(c.TriggerInstanceID), nullStr(x.ParentID),
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
	return r.insertExtras(ctx, tx)
}

// insertExtras writes what goes beside a freshly inserted execution row:
// its result and its sealed secrets.
func (r execRow) insertExtras(ctx context.Context, tx *sql.Tx) error {
	if r.x.Result != nil {
		if _, err := tx.ExecContext(ctx, insertResult, r.x.ID, []byte(r.x.Result)); err != nil {
			return err
		}
	}
	if r.sealed != nil {
		if _, err := tx.ExecContext(ctx, insertSecrets, r.x.ID, r.sealed); err != nil {
			return err
		}
	}
	return nil
}

// CreateExecution implements store.Executions.
func (d *DB) CreateExecution(ctx context.Context, x store.Execution) (store.Execution, error) {
	now := d.now()
	row, err := d.prepareExecution(ctx, x, now)
	if err != nil {
		return row.x, fmt.Errorf("creating execution: %w", err)
	}
	var then func(context.Context, *sql.Tx) error
	if row.x.Result != nil || row.sealed != nil {
		then = func(ctx context.Context, tx *sql.Tx) error {
			if row.x.Result != nil {
				if _, err := d.stmts.exec(ctx, tx, insertResult, row.x.ID, []byte(row.x.Result)); err != nil {
					return err
				}
			}
			if row.sealed != nil {
				if _, err := d.stmts.exec(ctx, tx, insertSecrets, row.x.ID, row.sealed); err != nil {
					return err
				}
			}
			return nil
		}
	}
	old, found, err := createDoc[store.Execution](ctx, d, "executions", row.x.ID, now, insertExecution+` ON CONFLICT (id) DO NOTHING`, row.args, then)
	if found && err == nil {
		// The stored one, with its result.
		old, err = d.getExecution(ctx, nil, row.x.ID, now)
	}
	switch {
	case err != nil:
		return row.x, fmt.Errorf("creating execution %s: %w", row.x.ID, err)
	case found:
		return old, fmt.Errorf("creating execution %s: %w", row.x.ID, store.ErrAlreadyExists)
	}
	if !row.x.Status.Finished() {
		d.recent.put(row.x.ID, row.doc, row.x.Result)
	}
	return row.x, nil
}

// CreateExecutions implements store.Executions, in one transaction.
func (d *DB) CreateExecutions(ctx context.Context, xs []store.Execution) (int, error) {
	now := d.now()
	rows := make([]execRow, len(xs))
	for i, x := range xs {
		r, err := d.prepareExecution(ctx, x, now)
		if err != nil {
			return 0, fmt.Errorf("creating executions: item %d: %w", i, err)
		}
		rows[i] = r
	}
	created := 0
	err := d.withTx(ctx, func(tx *sql.Tx) error {
		created = 0 // fn may run twice (see withTx)
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
				if err := r.insertExtras(ctx, tx); err != nil {
					return err
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

// getExecution reads a live execution with its result, in tx or, when tx
// is nil, on a reader connection.
func (d *DB) getExecution(ctx context.Context, tx *sql.Tx, id string, now time.Time) (store.Execution, error) {
	var x store.Execution
	var doc, result []byte
	err := d.stmts.queryRow(ctx, tx, selectExecution, id, now.UnixNano()).Scan(&doc, &result)
	if errors.Is(err, sql.ErrNoRows) {
		return x, store.ErrNotFound
	}
	if err != nil {
		return x, err
	}
	if err := json.Unmarshal(doc, &x); err != nil {
		return x, fmt.Errorf("decoding %s: %w", id, err)
	}
	if result != nil {
		x.Result = result
	}
	return x, nil
}

// GetExecution implements store.Executions.
func (d *DB) GetExecution(ctx context.Context, id string) (store.Execution, error) {
	x, err := d.getExecution(ctx, nil, id, d.now())
	if err != nil {
		return x, fmt.Errorf("getting execution %s: %w", id, err)
	}
	return x, nil
}

// ExecutionSecrets implements store.Executions.
func (d *DB) ExecutionSecrets(ctx context.Context, id string) (map[string]any, error) {
	var sealed []byte
	err := d.stmts.queryRow(ctx, nil, `SELECT s.sealed FROM executions e LEFT JOIN execution_secrets s ON s.id = e.id
WHERE e.id = ?1 AND (e.expires_at IS NULL OR e.expires_at > ?2)`, id, d.now().UnixNano()).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("reading the secrets of execution %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the secrets of execution %s: %w", id, err)
	}
	return store.OpenSecrets(ctx, d.opts.Cipher, id, sealed)
}

// UpdateExecution implements store.Executions.
func (d *DB) UpdateExecution(ctx context.Context, id string, u store.ExecutionUpdate) (store.Execution, error) {
	if err := store.CheckUpdate(u); err != nil {
		return store.Execution{}, fmt.Errorf("updating execution %s: %w", id, err)
	}
	now := d.now()
	// Optimistic: the record is read (or taken from what this store wrote
	// last) and the update prepared (decoded, applied, encoded) outside
	// the writer; the write only compares the version and stores. Another
	// writer in between makes it read again.
	useRecent := true
	for {
		cur, cached := d.recent.execution(id, now, useRecent)
		if !cached {
			var err error
			if cur, err = d.getExecution(ctx, nil, id, now); err != nil {
				return cur, fmt.Errorf("updating execution %s: %w", id, err)
			}
		}
		next, err := store.ApplyUpdate(cur, u, now)
		if err != nil && cached {
			// Another process may have changed it: ask the database.
			useRecent = false
			continue
		}
		if err != nil {
			return cur, fmt.Errorf("updating execution %s: %w", id, err)
		}
		doc, err := marshal(withoutResult(next))
		if err != nil {
			return cur, fmt.Errorf("updating execution %s: %w", id, err)
		}
		stale := false
		err = d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			res, err := d.stmts.exec(ctx, tx, `UPDATE executions SET status = ?, version = ?, doc = ? WHERE id = ? AND version = ?`,
				next.Status, next.Version, doc, id, cur.Version)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				stale = err == nil
				return err
			}
			if u.Result != nil {
				_, err = d.stmts.exec(ctx, tx, upsertResult, id, []byte(u.Result))
			}
			return err
		})
		switch {
		case err != nil:
			return cur, fmt.Errorf("updating execution %s: %w", id, err)
		case stale:
			// Changed (or purged) since it was read.
			d.recent.drop(id)
			useRecent = false
			continue
		}
		if next.Status.Finished() {
			d.recent.drop(id)
		} else {
			d.recent.put(id, doc, next.Result)
		}
		return next, nil
	}
}

// maxRecent bounds the executions recentExecutions remembers.
const maxRecent = 4096

// recentExecutions remembers, for the unfinished executions this store
// wrote last, their doc and result as written, so that UpdateExecution
// (which the engine calls on executions it has just created or updated)
// need not read them back. An entry is a guess, never trusted: the update
// compares versions in the database, and on a mismatch the entry is
// dropped and the execution read.
type recentExecutions struct {
	mu sync.Mutex
	m  map[string]recentExecution
}

type recentExecution struct{ doc, result []byte }

func (r *recentExecutions) put(id string, doc []byte, result json.RawMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]recentExecution{}
	}
	if _, ok := r.m[id]; !ok && len(r.m) >= maxRecent {
		for k := range r.m { // forget any one
			delete(r.m, k)
			break
		}
	}
	r.m[id] = recentExecution{doc: doc, result: bytes.Clone(result)}
}

func (r *recentExecutions) drop(id string) {
	r.mu.Lock()
	delete(r.m, id)
	r.mu.Unlock()
}

// execution decodes the remembered execution id, if use and there is a
// live one.
func (r *recentExecutions) execution(id string, now time.Time, use bool) (store.Execution, bool) {
	var x store.Execution
	if !use {
		return x, false
	}
	r.mu.Lock()
	e, ok := r.m[id]
	r.mu.Unlock()
	if !ok || json.Unmarshal(e.doc, &x) != nil || (!x.ExpiresAt.IsZero() && !x.ExpiresAt.After(now)) {
		return store.Execution{}, false
	}
	if e.result != nil {
		x.Result = e.result
	}
	return x, true
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
	var n int64
	err = d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := d.stmts.exec(ctx, tx, `INSERT INTO output (execution_id, seq, stream, data, at, expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			c.ExecutionID, c.Seq, c.Stream, c.Data, c.At.UnixNano(), nanos(exp))
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("appending output %s#%d: %w", c.ExecutionID, c.Seq, err)
	}
	if n == 0 {
		return fmt.Errorf("appending output %s#%d: %w", c.ExecutionID, c.Seq, store.ErrAlreadyExists)
	}
	return nil
}

// ListOutput implements store.Output.
func (d *DB) ListOutput(ctx context.Context, executionID string, afterSeq int64, limit int) ([]store.OutputChunk, error) {
	stmt, err := d.stmts.get(ctx, `SELECT seq, stream, data, at FROM output WHERE execution_id = ? AND seq > ? AND `+live+` ORDER BY seq LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("listing output of %s: %w", executionID, err)
	}
	rows, err := stmt.QueryContext(ctx, executionID, afterSeq, d.now().UnixNano(), store.PageLimit(limit))
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
