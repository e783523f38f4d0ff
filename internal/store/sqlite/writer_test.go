package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

// TestGroupCommit checks that writes queued while the writer is busy share
// one transaction, and that a write that fails after writing is rolled back
// alone.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "bwc.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()

	// Hold the writer in a first operation until the others are queued.
	release := make(chan struct{})
	started := make(chan struct{})
	blockerDone := make(chan error, 1)
	go func() {
		blockerDone <- d.write(ctx, func(context.Context, *sql.Tx) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started

	const n = 20
	errBoom := errors.New("boom")
	txs := make([]*sql.Tx, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
				txs[i] = tx
				if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, key_hash, created_at, doc) VALUES (?, ?, 0, '{}')`, fmt.Sprint("k", i), fmt.Sprint("h", i)); err != nil {
					return err
				}
				if i%2 == 1 {
					return errBoom // after writing: the savepoint must undo it
				}
				return nil
			})
		}()
	}
	// Every op is queued once the channel holds n of them.
	for len(d.w.ops) < n {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if err := <-blockerDone; err != nil {
		t.Fatal(err)
	}

	// The writes that succeeded were committed by one transaction (the
	// last one each of them ran in).
	shared := map[*sql.Tx]int{}
	for i := 0; i < n; i += 2 {
		shared[txs[i]]++
	}
	if len(shared) != 1 {
		t.Errorf("the %d queued writes that succeeded ran in %d transactions, want 1", n/2, len(shared))
	}
	for i := range n {
		t.Run(fmt.Sprint("write", i), func(t *testing.T) {
			var count int
			if err := d.db.QueryRow(`SELECT count(*) FROM api_keys WHERE id = ?`, fmt.Sprint("k", i)).Scan(&count); err != nil {
				t.Fatal(err)
			}
			if i%2 == 1 {
				if !errors.Is(errs[i], errBoom) {
					t.Errorf("err = %v, want boom", errs[i])
				}
				if count != 0 {
					t.Errorf("the failed write's row was committed")
				}
				return
			}
			if errs[i] != nil {
				t.Errorf("err = %v", errs[i])
			}
			if count != 1 {
				t.Errorf("the write's row was not committed")
			}
		})
	}
}

// TestWriteAfterClose checks that a write after Close fails instead of
// hanging.
func TestWriteAfterClose(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "bwc.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	err = d.write(ctx, func(context.Context, *sql.Tx) error { return nil })
	if !errors.Is(err, errWriterClosed) {
		t.Errorf("err = %v, want %v", err, errWriterClosed)
	}
}

// Under continuous writes the WAL never stays fully checkpointed long
// enough for SQLite to restart it by itself, so it would grow for ever
// (about five pages per write); the writer restarts it after a background
// checkpoint has copied it. The test writes without pause until the writer
// has restarted the WAL three times: how long that takes depends on the
// machine's load, not whether it happens (without restarts it fails after
// a minute).
func TestWALStaysBounded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bwc.db")
	d, err := Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	const restartFrames = 64
	d.w.restartFrames.Store(restartFrames)

	big := strings.Repeat("x", 3000)
	writes := 0
	for deadline := time.Now().Add(time.Minute); d.w.restarts.Load() < 3; writes++ {
		if time.Now().After(deadline) {
			t.Fatalf("the writer restarted the WAL %d times in a minute of writes (%d writes), want 3", d.w.restarts.Load(), writes)
		}
		if _, err := d.PutKeyValue(ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: fmt.Sprint("k", writes)}, Value: big}); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3 WAL restarts after %d writes; the WAL is %d bytes", writes, info.Size())
}

// Closing the writer twice (a DB closed twice) is harmless: the second
// close returns the first one's outcome, and writes after it are refused.
func TestWriterCloseTwice(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "bwc.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	for i := range 2 {
		if err := d.w.close(); err != nil {
			t.Fatalf("close %d: %v", i+1, err)
		}
	}
	if err := d.write(ctx, func(context.Context, *sql.Tx) error { return nil }); !errors.Is(err, errWriterClosed) {
		t.Errorf("write after close: %v, want errWriterClosed", err)
	}
}
