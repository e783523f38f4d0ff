package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// maxBatch bounds the operations one group commit holds, so that a caller
// never waits behind an unbounded transaction.
const maxBatch = 256

// errWriterClosed is what a write gets after Close.
var errWriterClosed = errors.New("the store is closed")

// writeOp is one caller's write: fn runs inside the batch's transaction,
// and done receives its outcome after the commit (or the rollback).
type writeOp struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	err  error
	pan  any // a panic of fn, raised again in the caller's goroutine
	done chan struct{}
}

var opPool = sync.Pool{New: func() any { return &writeOp{done: make(chan struct{}, 1)} }}

// writer is the group commit: one goroutine and one connection run every
// write of the store. Callers hand it operations; it takes every operation
// queued meanwhile (up to maxBatch), runs them in one IMMEDIATE
// transaction in which one that fails is rolled back alone (see run),
// commits once and then answers each caller. A caller's write is therefore
// committed, with the same durability as before (WAL, synchronous=NORMAL),
// when its call returns; what changes is that one commit serves many
// callers: SQLite's locks are taken once, and a page that several of them
// change (the newest leaf of a table or of a time index) is written to the
// WAL once. With batching off, each operation has a transaction of its own
// (the comparison point of the benchmarks).
type writer struct {
	db       *sql.DB
	conn     *sql.Conn
	stmts    *stmtCache
	batching bool

	mu     sync.RWMutex // guards closed against sends on ops
	closed bool

	closeOnce sync.Once
	closeErr  error
	ops       chan *writeOp
	exited    chan struct{}

	stopCheckpoints chan struct{}
	checkpointsDone chan struct{}
	// restartWanted asks the writer to restart the WAL: a background
	// checkpoint has just copied it, and it is restartFrames long or more.
	restartWanted atomic.Bool
	restartFrames atomic.Int64 // walRestartFrames, but in tests
	// restarts counts the WAL restarts that succeeded (for tests).
	restarts atomic.Int64
}

// checkpointEvery is how often the WAL is copied back into the database
// file, off the write path.
const checkpointEvery = 100 * time.Millisecond

// walRestartFrames is the WAL length (in pages of 4 KiB) from which the
// writer has the WAL start again from its beginning (see restartWAL): the
// WAL file stays under about 128 MiB, and the short pause of a restart
// comes at most every second or so at 500 triggers/s.
const walRestartFrames = 32768

func newWriter(ctx context.Context, db *sql.DB, stmts *stmtCache, batching bool) (*writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening the writer's connection: %w", err)
	}
	// The writer does not checkpoint the WAL when it commits (SQLite's
	// default, which stalls the commit that crosses the threshold, and
	// every write waiting behind it, while pages are copied and the
	// database file is synced); a background loop checkpoints instead,
	// PASSIVE, which never blocks the writer. Durability is the same:
	// committed transactions are in the WAL, which SQLite replays after a
	// crash.
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_autocheckpoint(0)`); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("configuring the writer's connection: %w", err)
	}
	w := &writer{
		db: db, conn: conn, stmts: stmts, batching: batching, ops: make(chan *writeOp, maxBatch), exited: make(chan struct{}),
		stopCheckpoints: make(chan struct{}), checkpointsDone: make(chan struct{}),
	}
	w.restartFrames.Store(walRestartFrames)
	go w.loop()
	go w.checkpoints()
	return w, nil
}

// checkpoints runs PASSIVE WAL checkpoints on a reader connection until
// close, and asks the writer to restart the WAL when it has grown long.
func (w *writer) checkpoints() {
	defer close(w.checkpointsDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stopCheckpoints:
			return
		case <-t.C:
			// A failed checkpoint is retried at the next tick; the WAL
			// only grows meanwhile.
			frames, err := w.checkpoint()
			if err != nil || frames < w.restartFrames.Load() {
				continue
			}
			// Copy what was committed during that pass too (much less),
			// and so on, so that the writer's restart has little left.
			for range 4 {
				next, err := w.checkpoint()
				if err != nil {
					break
				}
				caughtUp := next-frames < walCaughtUpFrames
				frames = next
				if caughtUp {
					break
				}
			}
			w.restartWanted.Store(true)
		}
	}
}

// walCaughtUpFrames is how few pages a background checkpoint pass must
// have left behind for the writer to restart the WAL after it.
const walCaughtUpFrames = 64

// checkpoint runs one PASSIVE checkpoint and returns the length of the WAL
// in pages.
func (w *writer) checkpoint() (int64, error) {
	var busy, frames, copied int64
	err := w.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
	return frames, err
}

// do runs fn in a write transaction and returns once that transaction has
// committed (nil; or fn's error, fn's writes rolled back) or failed to
// commit (an error; nothing of fn was written). fn gets a context that carries ctx's values but not its
// cancellation: an interrupted statement would roll back every caller's
// writes of the batch. ctx is checked before fn runs.
func (w *writer) do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := opPool.Get().(*writeOp)
	op.ctx, op.fn, op.err, op.pan = ctx, fn, nil, nil
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		opPool.Put(op)
		return errWriterClosed
	}
	select {
	case w.ops <- op:
	case <-ctx.Done():
		w.mu.RUnlock()
		opPool.Put(op)
		return ctx.Err()
	}
	w.mu.RUnlock()
	// Once queued, the operation is waited for: the writer may have run
	// it, and the caller must learn whether it committed.
	<-op.done
	err, pan := op.err, op.pan
	op.ctx, op.fn = nil, nil
	opPool.Put(op)
	if pan != nil {
		panic(pan)
	}
	return err
}

// close stops taking operations, lets the writer finish those queued and
// releases its connection. Closing again waits for the first close and
// returns its outcome.
func (w *writer) close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closed = true
		close(w.ops)
		w.mu.Unlock()
		<-w.exited
		close(w.stopCheckpoints)
		<-w.checkpointsDone
		if err := w.conn.Close(); err != nil {
			w.closeErr = fmt.Errorf("closing the writer's connection: %w", err)
		}
	})
	return w.closeErr
}

func (w *writer) loop() {
	defer close(w.exited)
	batch := make([]*writeOp, 0, maxBatch)
	for op := range w.ops {
		batch = append(batch[:0], op)
		if w.batching {
			// Let the goroutines that are about to write queue their
			// operations, so that they share this commit.
			runtime.Gosched()
		}
	gather:
		for w.batching && len(batch) < maxBatch {
			select {
			case next, ok := <-w.ops:
				if !ok {
					break gather
				}
				batch = append(batch, next)
			default:
				break gather
			}
		}
		w.run(batch)
		for i, op := range batch {
			op.done <- struct{}{}
			batch[i] = nil
		}
		if w.restartWanted.Swap(false) {
			w.restartWAL()
		}
	}
}

// restartWAL makes the next commit write the WAL from its beginning, so
// that the file stops growing. SQLite does that by itself only when a
// write transaction starts with the whole WAL copied into the database,
// which a background checkpoint racing a busy writer seldom achieves; so
// the writer, between two batches and just after a background checkpoint
// (see checkpoints), runs a RESTART checkpoint: it syncs the WAL, copies
// the little that was committed since the background checkpoint, syncs the
// database file and restarts the WAL; writes wait meanwhile (a few
// milliseconds, mostly the syncs). It does not wait for readers
// (busy_timeout 0 for the call): if one still reads from the WAL, the
// restart is tried again after the next background checkpoint.
func (w *writer) restartWAL() {
	ctx := context.Background()
	if _, err := w.conn.ExecContext(ctx, `PRAGMA busy_timeout(0)`); err != nil {
		return
	}
	var busy, frames, copied int64
	if err := w.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &copied); err == nil && busy == 0 {
		w.restarts.Add(1)
	}
	_, _ = w.conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout(%d)`, busyTimeoutMS))
}

// run executes one batch in one transaction and sets each op's outcome.
// The ops first run one after the other with no savepoint, the cheapest
// way (a savepoint copies every page it changes). If one fails, possibly
// after writing, the transaction is rolled back and the batch runs again
// without it, each op inside its own savepoint; since the ops before it
// find the database as they did the first time, they do the same again.
func (w *writer) run(batch []*writeOp) {
	ctx := context.Background()
	tx, err := w.conn.BeginTx(ctx, nil)
	if err != nil {
		failAll(batch, fmt.Errorf("beginning a write transaction: %w", err))
		return
	}
	failed := -1
	for i, op := range batch {
		if op.err = op.ctx.Err(); op.err != nil {
			continue // gone before its turn: nothing written
		}
		if op.err = op.call(tx); op.err != nil || op.pan != nil {
			failed = i
			break
		}
	}
	if failed >= 0 {
		_ = tx.Rollback()
		if len(batch) == 1 {
			return
		}
		if tx, err = w.conn.BeginTx(ctx, nil); err != nil {
			failAll(batch, fmt.Errorf("beginning a write transaction: %w", err))
			return
		}
		if err := w.runSavepoints(ctx, tx, batch); err != nil {
			_ = tx.Rollback()
			failAll(batch, err)
			return
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(batch, fmt.Errorf("committing a write transaction: %w", err))
	}
}

// failAll gives err to every op of the batch that has no outcome of its
// own: none of their writes was committed.
func failAll(batch []*writeOp, err error) {
	for _, op := range batch {
		if op.err == nil && op.pan == nil {
			op.err = err
		}
	}
}

// runSavepoints runs, each inside its own savepoint, the ops of a batch
// that have no outcome yet (the failed op and those whose context ended
// keep theirs). The error is one that leaves the transaction unusable
// (every op of the batch then fails); an op's own failure is in op.err.
func (w *writer) runSavepoints(ctx context.Context, tx *sql.Tx, batch []*writeOp) error {
	for _, op := range batch {
		if op.err != nil || op.pan != nil {
			continue
		}
		if op.err = op.ctx.Err(); op.err != nil {
			continue
		}
		if _, err := w.stmts.exec(ctx, tx, `SAVEPOINT op`); err != nil {
			return fmt.Errorf("opening a savepoint: %w", err)
		}
		if op.err = op.call(tx); op.err != nil || op.pan != nil {
			if _, err := w.stmts.exec(ctx, tx, `ROLLBACK TO op`); err != nil {
				return fmt.Errorf("rolling back to a savepoint: %w", err)
			}
		}
		if _, err := w.stmts.exec(ctx, tx, `RELEASE op`); err != nil {
			return fmt.Errorf("releasing a savepoint: %w", err)
		}
	}
	return nil
}

// call runs the op's function, catching a panic for its caller.
func (op *writeOp) call(tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			op.pan = p
			err = fmt.Errorf("write operation panicked: %v", p)
		}
	}()
	return op.fn(context.WithoutCancel(op.ctx), tx)
}

// stmtCache keeps one prepared statement per query text, so hot queries are
// parsed once per connection instead of once per call. database/sql
// prepares a cached statement lazily on each connection that runs it (the
// writer's, and the readers').
type stmtCache struct {
	db *sql.DB
	m  sync.Map // query -> *sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := c.m.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := c.m.LoadOrStore(query, s); loaded {
		_ = s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// exec runs a cached statement in tx.
func (c *stmtCache) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	s, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, s).ExecContext(ctx, args...)
}

// queryRow runs a cached single-row query in tx, or on a reader connection
// when tx is nil.
func (c *stmtCache) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	s, err := c.get(ctx, query)
	if err != nil {
		// A Row carrying the error: Scan reports it.
		if tx != nil {
			return tx.QueryRowContext(ctx, query, args...)
		}
		return c.db.QueryRowContext(ctx, query, args...)
	}
	if tx != nil {
		s = tx.StmtContext(ctx, s)
	}
	return s.QueryRowContext(ctx, args...)
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.m.Range(func(k, v any) bool {
		_ = v.(*sql.Stmt).Close()
		c.m.Delete(k)
		return true
	})
}
