package engine

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

// retryDelayDirs are the packs of the delayed-retry tests: retrydelay.fails
// always fails, has a secret parameter, and is retried once 60 s later.
var retryDelayDirs = []string{filepath.Join("..", "..", "packs", "core"), filepath.Join("testdata", "retrydelay")}

// shiftedClock reads real time shifted by an offset, so that a test can
// put an engine at a later point of a delay while timers still run.
type shiftedClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *shiftedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// engineRun is an engine started on a database by a test, which stops it
// as a restart does.
type engineRun struct {
	t      *testing.T
	eng    *Engine
	cancel context.CancelFunc
	done   chan error
}

func startClocked(t *testing.T, db string, clock func() time.Time) *engineRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	eng, err := Open(ctx, Config{PackDirs: retryDelayDirs, DBPath: db, Listen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// Set before Run starts anything (recovery included).
	eng.executor.opts.Now = clock
	r := &engineRun{t: t, eng: eng, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- eng.Run(ctx) }()
	t.Cleanup(r.stop)
	// The API answers once the engine has recovered what an earlier run
	// left: only then is what the test starts not taken for it (recovery
	// abandons an execution it finds running).
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(eng.URL + "/api/v1/health")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine's API does not answer: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *engineRun) stop() {
	if r.done == nil {
		return
	}
	r.cancel()
	if err := <-r.done; err != nil {
		r.t.Errorf("engine: %v", err)
	}
	r.done = nil
}

// executions lists the executions of retrydelay.fails, waiting until
// ready accepts them.
func (r *engineRun) executions(what string, ready func([]store.Execution) bool) []store.Execution {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		page, err := r.eng.Store.ListExecutions(context.Background(), store.ExecutionQuery{Action: "retrydelay.fails", Limit: store.MaxLimit})
		if err != nil {
			r.t.Fatal(err)
		}
		if ready(page.Items) {
			return page.Items
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("waiting for %s; executions: %+v", what, page.Items)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func find(list []store.Execution, id string) (store.Execution, bool) {
	for _, ex := range list {
		if ex.ID == id {
			return ex, true
		}
	}
	return store.Execution{}, false
}

// retryOf returns the retry of execution id among list.
func retryOf(list []store.Execution, id string) (store.Execution, bool) {
	for _, ex := range list {
		if ex.Context.RetryOf == id {
			return ex, true
		}
	}
	return store.Execution{}, false
}

// TestDelayedRetrySurvivesARestart: a failed execution's retry, whose
// policy waits 60 s, is recorded delayed at once with its not-before time
// and its link to the original (secret parameter masked). The engine stops
// during the delay and starts again: the retry runs exactly once, from the
// same record, not before its time, whether its time has come at the
// restart or is still some way off.
func TestDelayedRetrySurvivesARestart(t *testing.T) {
	const token = "tok-51d0e"
	for _, tc := range []struct {
		name string
		// left is the time left of the delay when the engine restarts.
		left time.Duration
	}{
		{"due at restart", -time.Second},
		{"not due at restart", 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "bwc.db")
			clock := &shiftedClock{}
			first := startClocked(t, db, clock.now)
			orig, err := first.eng.Executor().Run(context.Background(), RunRequest{Action: "retrydelay.fails", Parameters: map[string]any{"token": token}, User: "test"})
			if err != nil {
				t.Fatal(err)
			}
			list := first.executions("the delayed retry", func(l []store.Execution) bool {
				_, ok := retryOf(l, orig.ID)
				return ok
			})
			failed, _ := find(list, orig.ID)
			delayed, _ := retryOf(list, orig.ID)
			first.stop()

			if failed.Status != store.StatusFailed {
				t.Fatalf("original %s is %s, want failed", failed.ID, failed.Status)
			}
			if delayed.Status != store.StatusDelayed || delayed.Context.RetryAttempt != 1 {
				t.Fatalf("retry %s: %s, attempt %d; want delayed, attempt 1", delayed.ID, delayed.Status, delayed.Context.RetryAttempt)
			}
			notBefore := delayed.Context.NotBefore
			if notBefore.Before(failed.EndedAt.Add(60 * time.Second)) {
				t.Fatalf("retry not before %v, want 60 s or more after the failure at %v", notBefore, failed.EndedAt)
			}
			if got := delayed.Parameters["token"]; got != store.Masked {
				t.Errorf("retry record keeps token %v, want it masked", got)
			}

			// Stopped during the delay: nothing ran it.
			clock.mu.Lock()
			clock.offset = time.Until(notBefore) - tc.left
			clock.mu.Unlock()
			second := startClocked(t, db, clock.now)
			list = second.executions("the retry to finish", func(l []store.Execution) bool {
				ex, ok := find(l, delayed.ID)
				return ok && ex.Status.Finished()
			})
			second.stop()

			if len(list) != 2 {
				t.Fatalf("%d executions of retrydelay.fails, want 2 (the original and one retry): %+v", len(list), list)
			}
			ran, _ := find(list, delayed.ID)
			if ran.Status != store.StatusFailed || ran.Context.RetryOf != orig.ID {
				t.Fatalf("retry %s: %s, retry of %q; want failed (it ran), retry of %s; result %s", ran.ID, ran.Status, ran.Context.RetryOf, orig.ID, ran.Result)
			}
			var scheduled []time.Time
			for _, c := range ran.StatusLog {
				if c.Status == store.StatusScheduled {
					scheduled = append(scheduled, c.At)
				}
			}
			if len(scheduled) != 1 {
				t.Fatalf("retry scheduled %d times, want once: %+v", len(scheduled), ran.StatusLog)
			}
			if scheduled[0].Before(notBefore) {
				t.Errorf("retry scheduled at %v, before its not-before time %v", scheduled[0], notBefore)
			}
		})
	}
}
