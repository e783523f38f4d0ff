package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

// BenchmarkConcurrentWrites runs, from many goroutines at once, the writes
// the embedded engine makes for one trigger (trigger instance, execution,
// enforcement, two status changes, trigger instance processed), with group
// commit (the store as Open returns it) and with one transaction per write.
// Compare the two writes/s figures: their ratio is what group commit gives.
func BenchmarkConcurrentWrites(b *testing.B) {
	for _, bc := range []struct {
		name string
		open func(context.Context, string, store.Options) (*sqlite.DB, error)
	}{
		{"group_commit", sqlite.Open},
		{"tx_per_write", sqlite.OpenUnbatched},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := bc.open(ctx, filepath.Join(b.TempDir(), "bench.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = db.Close() }()
			var seq atomic.Int64
			b.SetParallelism(16) // 16 goroutines per CPU, as many engine goroutines write at once
			start, cpu := time.Now(), cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := triggerWrites(ctx, db, seq.Add(1)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			writes := float64(b.N * writesPerTrigger)
			b.ReportMetric(writes/time.Since(start).Seconds(), "writes/s")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/writes, "cpu-us/write")
		})
	}
}

const writesPerTrigger = 6

// triggerWrites makes the writes of trigger n.
func triggerWrites(ctx context.Context, db *sqlite.DB, n int64) error {
	ti, err := db.CreateTriggerInstance(ctx, store.TriggerInstance{Trigger: "bench.event", SourceEventID: fmt.Sprint("ev", n), Payload: []byte(`{"n":1}`)})
	if err != nil {
		return err
	}
	id := fmt.Sprint("ex", n)
	if _, err := db.CreateExecution(ctx, store.Execution{ID: id, Action: "core.noop", Runner: "noop", Status: store.StatusScheduled,
		Context: store.ExecutionContext{Rule: "bench.r", TriggerInstanceID: ti.ID, TraceTag: ti.TraceTag}}); err != nil {
		return err
	}
	if _, err := db.CreateEnforcement(ctx, store.Enforcement{ID: fmt.Sprint("en", n), Rule: "bench.r", TriggerInstanceID: ti.ID, ExecutionID: id, Status: store.EnforcementSucceeded}); err != nil {
		return err
	}
	if _, err := db.UpdateExecution(ctx, id, store.ExecutionUpdate{From: store.StatusScheduled, To: store.StatusRunning}); err != nil {
		return err
	}
	if _, err := db.UpdateExecution(ctx, id, store.ExecutionUpdate{From: store.StatusRunning, To: store.StatusSucceeded, Result: []byte(`{}`)}); err != nil {
		return err
	}
	_, err = db.SetTriggerInstanceStatus(ctx, ti.ID, store.TriggerPending, store.TriggerProcessed)
	return err
}
