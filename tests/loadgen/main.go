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
//     -latency-seconds. p50_ms_at_500 and p99_ms_at_500 are the end-to-end
//     latency of every trigger of this phase, read from the audit trail:
//     from the webhook accepting the trigger (the trigger instance's
//     occurred_at, taken when the webhook puts it on the bus) to its
//     execution succeeding (the execution's ended_at, the time of the
//     succeeded entry of its status log). A trigger whose execution is
//     missing or did not succeed fails the run. ack_p50_ms_at_500 and
//     ack_p99_ms_at_500 are the acknowledgement latency of the webhook as
//     the sender sees it (the trigger instance is durably recorded when it
//     answers).
//
// It prints a table and, as its last line, the figures as one JSON object.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
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
	serverCPU0, selfCPU0 := processCPU(cmd.Process.Pid), selfCPU()
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
	serverCPU, selfCPUUsed := processCPU(cmd.Process.Pid)-serverCPU0, selfCPU()-selfCPU0
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
	ackP50, ackP99 := ms(pct(lat, 50)), ms(pct(lat, 99))
	e2e, err := endToEnd(ctx, c, tis, t0)
	if err != nil {
		return err
	}
	sort.Slice(e2e, func(i, j int) bool { return e2e[i] < e2e[j] })
	p50, p99 := ms(pct(e2e, 50)), ms(pct(e2e, 99))

	fmt.Printf("%-40s %12s\n", "measure", "value")
	fmt.Printf("%-40s %12d\n", "triggers acknowledged (sustained phase)", acked.Load())
	perTrigger := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(acked.Load(), 1)) }
	fmt.Printf("%-40s %12.0f\n", "bwc serve CPU us per trigger (sustained)", perTrigger(serverCPU))
	fmt.Printf("%-40s %12.0f\n", "loadgen CPU us per trigger (sustained)", perTrigger(selfCPUUsed))
	fmt.Printf("%-40s %12.0f\n", "acknowledged per second", ackRate)
	fmt.Printf("%-40s %12.0f\n", "sustained (enforced and run) per second", sustained)
	fmt.Printf("%-40s %12.2f\n", "ack p50 ms at 500/s", ackP50)
	fmt.Printf("%-40s %12.2f\n", "ack p99 ms at 500/s", ackP99)
	fmt.Printf("%-40s %12d\n", "triggers at 500/s (all measured)", len(e2e))
	fmt.Printf("%-40s %12.2f\n", "end-to-end p50 ms at 500/s", p50)
	fmt.Printf("%-40s %12.2f\n", "end-to-end p99 ms at 500/s", p99)
	fmt.Printf("%-40s %12.2f\n", "end-to-end max ms at 500/s", ms(pct(e2e, 100)))
	res, _ := json.Marshal(map[string]any{
		"sustained_triggers_per_sec": round(sustained),
		"acked_triggers_per_sec":     round(ackRate),
		"server_cpu_us_per_trigger":  round(perTrigger(serverCPU)),
		"p50_ms_at_500":              round(p50),
		"p99_ms_at_500":              round(p99),
		"ack_p50_ms_at_500":          round(ackP50),
		"ack_p99_ms_at_500":          round(ackP99),
	})
	fmt.Println(string(res))
	return nil
}

// drain waits until no execution of the bench rule is unfinished and the
// newest bench trigger instance has been processed.
func drain(ctx context.Context, c *client.Client) error {
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		busy := false
		for _, st := range []store.ExecutionStatus{store.StatusRequested, store.StatusScheduled, store.StatusRunning} {
			// By action and status: one index answers it (only the bench
			// rule runs core.noop here).
			l, err := c.Executions(ctx, store.ExecutionQuery{Status: st, Action: "core.noop", Limit: 1})
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

// endToEnd reads from the audit trail, for every trigger instance of tis,
// the time from the trigger instance to the end of its execution: the
// executions of the bench rule started since t0 (a page at a time), then
// each trigger instance. It fails when a trigger was not acknowledged or
// its execution is missing or did not succeed.
func endToEnd(ctx context.Context, c *client.Client, tis []string, since time.Time) ([]time.Duration, error) {
	execs := make(map[string]store.Execution, len(tis))
	q := store.ExecutionQuery{Rule: "bench.r", TimeRange: store.TimeRange{Since: since.Add(-time.Second)}, Limit: store.MaxLimit}
	for {
		l, err := c.Executions(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("listing the executions of the latency phase: %w", err)
		}
		for _, ex := range l.Items {
			execs[ex.Context.TriggerInstanceID] = ex
		}
		if l.Next == "" {
			break
		}
		q.Token = l.Next
	}
	out := make([]time.Duration, len(tis))
	errs := make([]error, len(tis))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(tis); i = int(next.Add(1)) - 1 {
				id := tis[i]
				ex, ok := execs[id]
				switch {
				case id == "":
					errs[i] = fmt.Errorf("trigger %d of the latency phase was not acknowledged", i)
					continue
				case !ok:
					errs[i] = fmt.Errorf("trigger instance %s has no execution of bench.r", id)
					continue
				case ex.Status != store.StatusSucceeded:
					errs[i] = fmt.Errorf("execution %s of trigger instance %s is %s", ex.ID, id, ex.Status)
					continue
				}
				ti, err := c.TriggerInstance(ctx, id)
				if err != nil {
					errs[i] = fmt.Errorf("reading trigger instance %s: %w", id, err)
					continue
				}
				out[i] = ex.EndedAt.Sub(ti.OccurredAt)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
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

// processCPU is the CPU time (user + system) process pid has used, from
// /proc (0 where there is none): a figure that depends less on how busy
// the machine is than the rates do.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// selfCPU is the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
