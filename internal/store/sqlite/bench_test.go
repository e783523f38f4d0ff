package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
	"github.com/bwc-project/bwc/internal/store/storetest"
)

// benchRows is how many executions BenchmarkStore loads first:
// $BWC_BENCH_STORE_ROWS, default 1,000,000.
func benchRows(b *testing.B) int {
	if v := os.Getenv("BWC_BENCH_STORE_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("BWC_BENCH_STORE_ROWS=%q: want a number >= 1000", v)
		}
		return n
	}
	return 1_000_000
}

// benchExecution is execution i of a synthetic history: 50 actions, one
// in ten failed, half started by one of 30 rules, a fifth with a parent,
// one every 5 seconds.
func benchExecution(prefix string, i int) store.Execution {
	status := store.StatusSucceeded
	switch {
	case (i+i/50)%10 == 3:
		status = store.StatusFailed
	case i%97 == 0:
		status = store.StatusRunning
	}
	x := store.Execution{
		ID:               fmt.Sprintf("%s%09d", prefix, i),
		Action:           fmt.Sprintf("pack%d.action%d", i%5, i%50),
		Runner:           "local-shell-cmd",
		Parameters:       map[string]any{"cmd": "df -h /var", "host": fmt.Sprintf("web-%d", i%40), "password": "x"},
		SecretParameters: []string{"password"},
		Status:           status,
		StartedAt:        storetest.T0.Add(time.Duration(i) * 5 * time.Second),
		Context:          store.ExecutionContext{User: fmt.Sprintf("user%d", i%20), TraceTag: fmt.Sprintf("trace-%d", i)},
	}
	if i%2 == 0 {
		x.Context.Rule = fmt.Sprintf("pack%d.rule%d", i%5, i%30)
		x.Context.TriggerInstanceID = fmt.Sprintf("ti-%d", i)
	}
	if i%5 == 0 {
		x.ParentID = fmt.Sprintf("wf-%d", i/5)
	}
	return x
}

// BenchmarkStore loads a SQLite store with BWC_BENCH_STORE_ROWS executions
// in batches, then measures single and batched inserts into it and the
// newest-50-failed-executions-of-one-action listing. `make bench-store`
// turns its output into the JSON figures.
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	rows := benchRows(b)
	clock := storetest.NewClock(storetest.T0.Add(time.Duration(rows) * 5 * time.Second))
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := sqlite.Open(ctx, path, store.Options{Clock: clock, Retention: store.Retention{Executions: 10 * 365 * 24 * time.Hour}})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	const loadBatch = 1000
	start, loadCPUStart := time.Now(), cpuTime()
	batch := make([]store.Execution, 0, loadBatch)
	for i := range rows {
		batch = append(batch, benchExecution("ex", i))
		if len(batch) == loadBatch || i == rows-1 {
			if _, err := db.CreateExecutions(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	loadRate := float64(rows) / time.Since(start).Seconds()
	loadCPU := float64((cpuTime() - loadCPUStart).Microseconds()) / float64(rows)

	b.Run("load", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(rows), "rows")
		b.ReportMetric(loadRate, "rows/s")
		b.ReportMetric(loadCPU, "cpu-us/row")
		if info, err := os.Stat(path); err == nil {
			b.ReportMetric(float64(info.Size())/(1<<20), "MB")
		}
	})

	next := rows
	b.Run("insert", func(b *testing.B) {
		start, cpu := time.Now(), cpuTime()
		n := 0
		for b.Loop() {
			if _, err := db.CreateExecution(ctx, benchExecution("ex", next)); err != nil {
				b.Fatal(err)
			}
			next++
			n++
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n), "cpu-us/row")
	})

	const batchSize = 100
	b.Run("insert_batched", func(b *testing.B) {
		start, cpu := time.Now(), cpuTime()
		n := 0
		xs := make([]store.Execution, batchSize)
		for b.Loop() {
			for j := range xs {
				xs[j] = benchExecution("ex", next)
				next++
			}
			if _, err := db.CreateExecutions(ctx, xs); err != nil {
				b.Fatal(err)
			}
			n += batchSize
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n), "cpu-us/row")
	})

	b.Run("list_failed_newest50", func(b *testing.B) {
		q := store.ExecutionQuery{Action: "pack2.action7", Status: store.StatusFailed, Limit: 50}
		start, cpu := time.Now(), cpuTime()
		n := 0
		for b.Loop() {
			p, err := db.ListExecutions(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			if len(p.Items) != 50 && (rows >= 100_000 || len(p.Items) == 0) {
				b.Fatalf("listed %d executions, want 50", len(p.Items))
			}
			n++
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(n), "ms/list")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(n), "cpu-ms/list")
	})
}
