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

// maxConns bounds the connection pool (each connection has its own page
// cache of up to 64 MiB).
const maxConns = 8

// DB is the SQLite store.
type DB struct {
	db   *sql.DB
	opts store.Options
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and migrates
// its schema.
func Open(ctx context.Context, path string, opts store.Options) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("opening store %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
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
	// Writers take turns anyway (one WAL writer); a few connections serve
	// concurrent readers and bound the page caches' memory.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	return &DB{db: db, opts: opts.WithDefaults()}, nil
}

// Close closes the database, first letting SQLite refresh its planner
// statistics (PRAGMA optimize).
func (d *DB) Close() error {
	_, _ = d.db.Exec(`PRAGMA optimize`) // advisory: a failure leaves the old statistics
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("closing store: %w", err)
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
// nanoseconds.
const live = `(expires_at IS NULL OR expires_at > ?)`

// withTx runs fn in an IMMEDIATE transaction.
func (d *DB) withTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
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
	rows, err := d.db.QueryContext(ctx, query, args...)
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

// getDoc reads one live record's doc by id.
func getDoc[T any](ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, table, id string, now time.Time) (T, error) {
	var v T
	var doc []byte
	err := q.QueryRowContext(ctx, `SELECT doc FROM `+table+` WHERE id = ? AND `+live, id, now.UnixNano()).Scan(&doc)
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
	err := tx.QueryRowContext(ctx, `SELECT expires_at FROM `+table+` WHERE id = ?`, id).Scan(&exp)
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
		stmts = append(stmts, `DELETE FROM execution_results WHERE id = ?`, `DELETE FROM output WHERE execution_id = ?`)
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

// createRow runs an idempotent create in one transaction: if a live row
// holds id, it reads it into existing and reports true; otherwise it runs
// insert.
func createRow[T any](ctx context.Context, d *DB, table, id string, now time.Time, insert func(*sql.Tx) error) (existing T, found bool, err error) {
	err = d.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if found, err = claimID(ctx, tx, table, id, now); err != nil || !found {
			if err != nil {
				return err
			}
			return insert(tx)
		}
		existing, err = getDoc[T](ctx, tx, table, id, now)
		return err
	})
	return existing, found, err
}
