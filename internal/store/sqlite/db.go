package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/bwc-project/bwc/internal/store"
)

// DefaultPath is where the embedded engine keeps its database.
const DefaultPath = ".bwc/bwc.db"

// busyTimeoutMS is how long a connection waits for a lock another holds.
const busyTimeoutMS = 10000

// maxConns bounds the connection pool (each connection has its own page
// cache of up to 64 MiB).
const maxConns = 8

// DB is the SQLite store.
type DB struct {
	db    *sql.DB
	w     *writer // every write goes through it (group commit)
	stmts *stmtCache
	opts  store.Options
	// recent spares UpdateExecution a read of what this store just wrote.
	recent recentExecutions
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and migrates
// its schema.
func Open(ctx context.Context, path string, opts store.Options) (*DB, error) {
	return open(ctx, path, opts, true)
}

// open is Open, with group commit turned off when batching is false (one
// transaction per write, for comparison in benchmarks).
func open(ctx context.Context, path string, opts store.Options, batching bool) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("opening store %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "cache_size(-65536)")    // 64 MiB of page cache per connection
	q.Add("_pragma", "mmap_size(1073741824)") // read through a 1 GiB map
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "wal_autocheckpoint(10000)")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	// One connection is the writer's (SQLite has one writer at a time
	// anyway); the others serve concurrent readers and bound the page
	// caches' memory.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	stmts := &stmtCache{db: db}
	w, err := newWriter(ctx, db, stmts, batching)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	return &DB{db: db, w: w, stmts: stmts, opts: opts.WithDefaults()}, nil
}

// Close finishes the writes in progress and closes the database, first
// letting SQLite refresh its planner statistics (PRAGMA optimize).
func (d *DB) Close() error {
	werr := d.w.close()
	d.stmts.close()
	_, _ = d.db.Exec(`PRAGMA optimize`) // advisory: a failure leaves the old statistics
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("closing store: %w", err)
	}
	if werr != nil {
		return fmt.Errorf("closing store: %w", werr)
	}
	return nil
}

func (d *DB) now() time.Time { return d.opts.Clock.Now().UTC() }

// nanos encodes a time as an INTEGER column; the zero time is NULL.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// nullStr encodes an optional string column.
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// live is the condition that hides expired rows; its argument is now in
// nanoseconds. liveAt2 and liveAt4 take it as the numbered parameter ?2 or
// ?4, for statements that number theirs.
const (
	live    = `(expires_at IS NULL OR expires_at > ?)`
	liveAt2 = `(expires_at IS NULL OR expires_at > ?2)`
	liveAt4 = `(expires_at IS NULL OR expires_at > ?4)`
)

// withTx runs fn in an IMMEDIATE transaction, shared with the writes of
// other callers (see writer): fn's changes are committed when withTx
// returns nil, and rolled back alone when fn fails. fn must not call
// withTx or write, and should leave JSON encoding and other work that needs
// no transaction to its caller: the writer runs one fn at a time. fn may
// run twice (when a write after it in its batch fails, the batch runs
// again), each time on the same database state: it must assign what it
// reports, not accumulate it.
func (d *DB) withTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return d.w.do(ctx, func(_ context.Context, tx *sql.Tx) error { return fn(tx) })
}

// write is withTx for fn that runs statements: its ctx is the caller's
// without the cancellation (see writer.do).
func (d *DB) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return d.w.do(ctx, fn)
}

// cursor is the keyset position of the last row of a page.
type cursor struct {
	T  int64  `json:"t"`
	ID string `json:"id"`
}

// timeQuery builds the WHERE, ORDER BY and LIMIT of a newest-first keyset
// listing over column tcol.
type timeQuery struct {
	where []string
	args  []any
}

func (q *timeQuery) eq(col, v string) {
	if v != "" {
		q.where = append(q.where, col+" = ?")
		q.args = append(q.args, v)
	}
}

func (q *timeQuery) tail(tcol string, r store.TimeRange, token string, limit int, now time.Time) (string, []any, error) {
	q.where = append(q.where, live)
	q.args = append(q.args, now.UnixNano())
	if !r.Since.IsZero() {
		q.where = append(q.where, tcol+" >= ?")
		q.args = append(q.args, r.Since.UnixNano())
	}
	if !r.Until.IsZero() {
		q.where = append(q.where, tcol+" <= ?")
		q.args = append(q.args, r.Until.UnixNano())
	}
	if token != "" {
		var c cursor
		if err := store.DecodeToken(token, &c); err != nil {
			return "", nil, err
		}
		q.where = append(q.where, "("+tcol+", id) < (?, ?)")
		q.args = append(q.args, c.T, c.ID)
	}
	s := " WHERE " + strings.Join(q.where, " AND ") + " ORDER BY " + tcol + " DESC, id DESC LIMIT ?"
	return s, append(q.args, limit+1), nil
}

// listDocs runs a keyset listing whose rows are (time, id, doc) and decodes
// each doc into a T.
func listDocs[T any](ctx context.Context, d *DB, query string, args []any, limit int) (store.Page[T], error) {
	page := store.Page[T]{Items: []T{}}
	stmt, err := d.stmts.get(ctx, query)
	if err != nil {
		return page, err
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return page, err
	}
	defer func() { _ = rows.Close() }()
	var last cursor
	for rows.Next() {
		if len(page.Items) == limit {
			tok, err := store.EncodeToken(last)
			if err != nil {
				return page, err
			}
			page.Next = tok
			break
		}
		var doc []byte
		if err := rows.Scan(&last.T, &last.ID, &doc); err != nil {
			return page, err
		}
		var v T
		if err := json.Unmarshal(doc, &v); err != nil {
			return page, fmt.Errorf("decoding %s: %w", last.ID, err)
		}
		page.Items = append(page.Items, v)
	}
	return page, rows.Err()
}

// readDoc reads one live record's doc by id, in tx or, when tx is nil, on
// a reader connection, with a cached statement.
func readDoc[T any](ctx context.Context, d *DB, tx *sql.Tx, table, id string, now time.Time) (T, error) {
	var v T
	var doc []byte
	err := d.stmts.queryRow(ctx, tx, `SELECT doc FROM `+table+` WHERE id = ? AND `+live, id, now.UnixNano()).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return v, store.ErrNotFound
	}
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		return v, fmt.Errorf("decoding %s: %w", id, err)
	}
	return v, nil
}

// claimID makes room for a create of id in table: it reports whether a live
// row holds the id, and deletes an expired one (with its dependants) so the
// id can be reused.
func claimID(ctx context.Context, tx *sql.Tx, table, id string, now time.Time) (bool, error) {
	var exp sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT expires_at FROM `+table+` WHERE id = ?`, id).Scan(&exp) // rare: after a conflict
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !exp.Valid || exp.Int64 > now.UnixNano() {
		return true, nil
	}
	stmts := []string{`DELETE FROM ` + table + ` WHERE id = ?`}
	if table == "executions" {
		stmts = append(stmts, `DELETE FROM execution_results WHERE id = ?`, `DELETE FROM execution_secrets WHERE id = ?`, `DELETE FROM output WHERE execution_id = ?`)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s, id); err != nil {
			return false, err
		}
	}
	return false, nil
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding record: %w", err)
	}
	return b, nil
}

// createDoc runs an idempotent create as one write: insert (a statement
// ending in ON CONFLICT (id) DO NOTHING) with args and, if it stored the
// row, then(tx) when then is not nil. When the id is taken by a live row,
// createDoc reports found and returns that row (decoded outside the
// transaction); a row past its retention is deleted and the insert run
// again.
func createDoc[T any](ctx context.Context, d *DB, table, id string, now time.Time, insert string, args []any, then func(context.Context, *sql.Tx) error) (existing T, found bool, err error) {
	var doc []byte
	err = d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		doc = nil
		res, err := d.stmts.exec(ctx, tx, insert, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			if found, err = claimID(ctx, tx, table, id, now); err != nil {
				return err
			}
			if found {
				return d.stmts.queryRow(ctx, tx, `SELECT doc FROM `+table+` WHERE id = ?`, id).Scan(&doc)
			}
			if _, err := d.stmts.exec(ctx, tx, insert, args...); err != nil {
				return err
			}
		}
		if then != nil {
			return then(ctx, tx)
		}
		return nil
	})
	if err == nil && found {
		if err = json.Unmarshal(doc, &existing); err != nil {
			err = fmt.Errorf("decoding %s: %w", id, err)
		}
	}
	return existing, found, err
}
