// Command loadgen measures the embedded engine under load, from another
// process over loopback, as `make bench-engine` runs it.
//
// It starts `bwc serve` with the repository's packs and a bench pack (a
// trigger type bench.event and a rule that runs core.noop for each), on a
// free port with a temporary database, then:
//
//  1. sustained throughput: concurrent senders post bench.event triggers to
//     /api/v1/webhooks/st2 as fast as the engine acknowledges them for
//     -seconds; the rate is the triggers acknowledged divided by the time
//     until every one of them has been enforced and its execution has
//     finished;
//  2. latency at 500/s: triggers are sent open-loop at 500 per second for
//     -latency-seconds; p50 and p99 are the acknowledgement latency of the
//     webhook (the trigger instance is durably recorded when it answers),
//     and, from the audit trail, the end-to-end latency from the trigger
//     instance to the end of its execution.
//
// It prints a table and, as its last line, the figures as one JSON object.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/api/client"
	"github.com/bwc-project/bwc/internal/store"
)

const benchPack = `ref: bench
name: bench
description: Load generator content.
version: 0.1.0
author: BWC
`

const benchSensor = `class_name: Bench
description: Bench triggers.
trigger_types:
  - name: event
    payload_schema:
      type: object
      properties:
        n: {type: integer}
      required: [n]
`

const benchRule = `name: r
pack: bench
description: Each bench event runs noop.
enabled: true
trigger:
  type: bench.event
criteria:
  trigger.n:
    type: greaterthan
    pattern: -1
action:
  ref: core.noop
`

func main() {
	bin := flag.String("bwc", "bin/bwc", "the bwc binary")
	packs := flag.String("packs", "packs", "the repository's packs directory")
	seconds := flag.Float64("seconds", 5, "duration of the sustained phase")
	latSeconds := flag.Float64("latency-seconds", 5, "duration of the 500/s phase")
	senders := flag.Int("senders", 32, "concurrent senders in the sustained phase")
	profile := flag.String("cpuprofile", "", "have bwc serve write a CPU profile here")
	flag.Parse()
	if err := run(*bin, *packs, *seconds, *latSeconds, *senders, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(bin, packs string, seconds, latSeconds float64, senders int, profile string) error {
	dir, err := os.MkdirTemp("", "bwc-bench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	for path, text := range map[string]string{
		"packs/bench/pack.yaml":      benchPack,
		"packs/bench/sensors/s.yaml": benchSensor,
		"packs/bench/rules/r.yaml":   benchRule,
	} {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return err
		}
	}
	args := []string{"serve", "--packs", packs, "--packs", filepath.Join(dir, "packs"),
		"--db", filepath.Join(dir, ".bwc", "bwc.db"), "--listen", "127.0.0.1:0", "--log-level", "error"}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting bwc serve: %w", err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	url := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "API:" {
			url = f[1]
			break
		}
	}
	if url == "" {
		return fmt.Errorf("bwc serve did not print its URL")
	}
	go func() {
		for sc.Scan() { // keep the pipe drained
		}
	}()
	key, err := os.ReadFile(filepath.Join(dir, ".bwc", "api-key"))
	if err != nil {
		return err
	}
	c := client.New(url, strings.TrimSpace(string(key)), nil)
	ctx := context.Background()

	// 1. Sustained throughput.
	var acked atomic.Int64
	var seq atomic.Int64
	start := time.Now()
	stop := start.Add(time.Duration(seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				n := seq.Add(1)
				_, err := c.Trigger(ctx, api.TriggerRequest{Trigger: "bench.event", Payload: map[string]any{"n": n}}, "")
				if err != nil {
					fmt.Fprintln(os.Stderr, "loadgen: trigger:", err)
					return
				}
				acked.Add(1)
			}
		}()
	}
	wg.Wait()
	sent := time.Since(start)
	if err := drain(ctx, c); err != nil {
		return err
	}
	drained := time.Since(start)
	sustained := float64(acked.Load()) / drained.Seconds()
	ackRate := float64(acked.Load()) / sent.Seconds()

	// 2. Latency at 500/s, open loop.
	const rate = 500
	total := int(latSeconds * rate)
	lat := make([]time.Duration, total)
	tis := make([]string, total)
	var lwg sync.WaitGroup
	t0 := time.Now()
	for i := range total {
		at := t0.Add(time.Duration(i) * time.Second / rate)
		time.Sleep(time.Until(at))
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			s := time.Now()
			acc, err := c.Trigger(ctx, api.TriggerRequest{Trigger: "bench.event", Payload: map[string]any{"n": i}}, "")
			lat[i] = time.Since(s)
			if err == nil {
				tis[i] = acc.TriggerInstanceID
			} else {
				lat[i] = time.Hour
			}
		}()
	}
	lwg.Wait()
	if err := drain(ctx, c); err != nil {
		return err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := ms(pct(lat, 50)), ms(pct(lat, 99))
	e2e := endToEnd(ctx, c, tis, 200)
	sort.Slice(e2e, func(i, j int) bool { return e2e[i] < e2e[j] })

	fmt.Printf("%-40s %12s\n", "measure", "value")
	fmt.Printf("%-40s %12d\n", "triggers acknowledged (sustained phase)", acked.Load())
	fmt.Printf("%-40s %12.0f\n", "acknowledged per second", ackRate)
	fmt.Printf("%-40s %12.0f\n", "sustained (enforced and run) per second", sustained)
	fmt.Printf("%-40s %12.2f\n", "ack p50 ms at 500/s", p50)
	fmt.Printf("%-40s %12.2f\n", "ack p99 ms at 500/s", p99)
	fmt.Printf("%-40s %12.2f\n", "end-to-end p50 ms at 500/s (sample)", ms(pct(e2e, 50)))
	fmt.Printf("%-40s %12.2f\n", "end-to-end p99 ms at 500/s (sample)", ms(pct(e2e, 99)))
	res, _ := json.Marshal(map[string]any{
		"sustained_triggers_per_sec": round(sustained),
		"acked_triggers_per_sec":     round(ackRate),
		"p50_ms_at_500":              round(p50),
		"p99_ms_at_500":              round(p99),
		"e2e_p50_ms_at_500":          round(ms(pct(e2e, 50))),
		"e2e_p99_ms_at_500":          round(ms(pct(e2e, 99))),
	})
	fmt.Println(string(res))
	return nil
}

// drain waits until no execution of the bench rule is unfinished.
func drain(ctx context.Context, c *client.Client) error {
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		busy := false
		for _, st := range []store.ExecutionStatus{store.StatusRequested, store.StatusScheduled, store.StatusRunning} {
			l, err := c.Executions(ctx, store.ExecutionQuery{Status: st, Rule: "bench.r", Limit: 1})
			if err != nil {
				return err
			}
			busy = busy || len(l.Items) > 0
		}
		// The newest trigger instances must be processed too (the bus may
		// hold events not enforced yet).
		tl, err := c.TriggerInstances(ctx, "bench.event", 1)
		if err != nil {
			return err
		}
		if len(tl.Items) > 0 && tl.Items[0].Status == store.TriggerPending {
			busy = true
		}
		if !busy {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the engine did not drain its backlog")
}

// endToEnd reads, for a sample of trigger instances, the time from the
// trigger instance to the end of its execution.
func endToEnd(ctx context.Context, c *client.Client, tis []string, n int) []time.Duration {
	var out []time.Duration
	step := len(tis) / n
	if step < 1 {
		step = 1
	}
	for i := 0; i < len(tis); i += step {
		if tis[i] == "" {
			continue
		}
		l, err := c.Executions(ctx, store.ExecutionQuery{TriggerInstanceID: tis[i], Limit: 1})
		if err != nil || len(l.Items) == 0 {
			continue
		}
		ex := l.Items[0]
		ti, err := c.TriggerInstance(ctx, tis[i])
		if err != nil || ex.EndedAt.IsZero() {
			continue
		}
		out = append(out, ex.EndedAt.Sub(ti.OccurredAt))
	}
	return out
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := (len(d)*p + 99) / 100
	if i > 0 {
		i--
	}
	return d[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
