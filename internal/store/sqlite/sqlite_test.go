package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/secret"
	"github.com/bwc-project/bwc/internal/store/sqlite"
	"github.com/bwc-project/bwc/internal/store/storetest"
)

func open(t *testing.T, path string, opts store.Options) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		return open(t, filepath.Join(t.TempDir(), ".bwc", "bwc.db"), opts)
	})
}

// TestSecretAtRest reads the file behind the store's back.
func TestSecretAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bwc.db")
	db := open(t, path, store.Options{Cipher: &storetest.Cipher{}})
	_, err := db.PutKeyValue(ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: "pw"}, Value: "hunter2-plain", Secret: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.CreateExecution(ctx, store.Execution{ID: "e", Action: "a.b", Parameters: map[string]any{"token": "tok-plain"}, SecretParameters: []string{"token"}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var value, doc []byte
	if err := raw.QueryRow(`SELECT value FROM key_values WHERE name = 'pw'`).Scan(&value); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(`SELECT doc FROM executions WHERE id = 'e'`).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(value, []byte("hunter2-plain")) || len(value) == 0 {
		t.Fatalf("secret stored as %q", value)
	}
	if bytes.Contains(doc, []byte("tok-plain")) {
		t.Fatalf("secret parameter stored in clear: %s", doc)
	}
}

// TestReopen checks that data survives a reopen and that migrating an
// up-to-date file is a no-op.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bwc.db")
	db, err := sqlite.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateExecution(ctx, store.Execution{ID: "e", Action: "a.b"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := open(t, path, store.Options{})
	if _, err := db2.GetExecution(ctx, "e"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	var mode string
	raw, _ := sql.Open("sqlite", path)
	defer raw.Close()
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// TestRunPurge runs the periodic purge over a real file and checks that it
// deletes expired rows (not only hides them).
func TestRunPurge(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "bwc.db")
	clock := storetest.NewClock(storetest.T0)
	db := open(t, path, store.Options{Clock: clock, Retention: store.Retention{Executions: time.Minute}})
	for i := range 3 {
		if _, err := db.CreateExecution(ctx, store.Execution{ID: fmt.Sprint("e", i), Action: "a.b", Result: []byte(`"r"`)}); err != nil {
			t.Fatal(err)
		}
		if err := db.AppendOutput(ctx, store.OutputChunk{ExecutionID: fmt.Sprint("e", i), Seq: 1, Stream: store.Stdout, Data: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Minute)
	deleted := make(chan int, 1000)
	failures := make(chan error, 1000)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = store.RunPurge(ctx, db, 5*time.Millisecond, func(n int, err error) {
			if err != nil && ctx.Err() == nil {
				failures <- err
			}
			deleted <- n
		})
	}()
	defer func() {
		cancel()
		<-stopped
		close(failures)
		for err := range failures {
			t.Error(err)
		}
	}()
	total := 0
	for total < 6 {
		select {
		case n := <-deleted:
			total += n
		case <-time.After(10 * time.Second):
			t.Fatalf("purge deleted %d rows in 10s, want 6 (3 executions, 3 output chunks)", total)
		}
	}
	raw, _ := sql.Open("sqlite", path)
	defer raw.Close()
	for _, table := range []string{"executions", "execution_results", "output"} {
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s has %d rows after purge (%v)", table, n, err)
		}
	}
}

// TestTwoHandlesOneFile races compare-and-set through two independent
// handles on one file, as two processes would.
func TestTwoHandlesOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bwc.db")
	a := open(t, path, store.Options{})
	b := open(t, path, store.Options{})
	const n = 20
	for i := range n {
		if _, err := a.CreateExecution(ctx, store.Execution{ID: fmt.Sprint("e", i), Action: "a.b", Status: store.StatusRunning}); err != nil {
			t.Fatal(err)
		}
	}
	wins := make(chan string, 2*n)
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for _, h := range []*sqlite.DB{a, b} {
		wg.Go(func() {
			for i := range n {
				_, err := h.UpdateExecution(ctx, fmt.Sprint("e", i), store.ExecutionUpdate{From: store.StatusRunning, To: store.StatusSucceeded})
				switch {
				case err == nil:
					wins <- fmt.Sprint("e", i)
				case !errors.Is(err, store.ErrConflict):
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(wins)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for id := range wins {
		if seen[id] {
			t.Fatalf("%s finished twice", id)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Fatalf("%d executions finished, want %d", len(seen), n)
	}
}

// TestExecutionSecretsBoundToID moves an execution's sealed secrets to
// another execution behind the store's back: they must not decrypt there.
func TestExecutionSecretsBoundToID(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bwc.db")
	c, err := secret.New(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, path, store.Options{Cipher: c})
	for _, x := range []store.Execution{
		{ID: "e1", Action: "a.b", Parameters: map[string]any{"token": "tok-plain"}, SecretParameters: []string{"token"}},
		{ID: "e2", Action: "a.b"},
	} {
		if _, err := db.CreateExecution(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.ExecutionSecrets(ctx, "e1")
	if err != nil || got["token"] != "tok-plain" {
		t.Fatalf("secrets of e1: %v, %v", got, err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var sealed []byte
	if err := raw.QueryRow(`SELECT sealed FROM execution_secrets WHERE id = 'e1'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("tok-plain")) {
		t.Fatalf("sealed secrets hold the value in clear: %q", sealed)
	}
	if _, err := raw.Exec(`INSERT INTO execution_secrets (id, sealed) VALUES ('e2', ?)`, sealed); err != nil {
		t.Fatal(err)
	}
	got, err = db.ExecutionSecrets(ctx, "e2")
	if !errors.Is(err, secret.ErrDecrypt) {
		t.Fatalf("secrets moved to e2: %v, %v; want secret.ErrDecrypt", got, err)
	}
}
