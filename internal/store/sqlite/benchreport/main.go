// Command benchreport reads the output of `go test -bench BenchmarkStore`
// for package store/sqlite on stdin, echoes it, prints a table of the
// figures, and prints as its last line one JSON object: rows, load_per_sec,
// db_mb, insert_per_sec, insert_batched_per_sec, list_failed_newest50_ms,
// list_goal_met (the listing under 10 ms) and the CPU time per operation
// (*_cpu_*), which does not depend on how busy the machine is.
//
// It exits 1 when a figure is missing or the input contains a failure.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
		os.Exit(1)
	}
}

var lineRE = regexp.MustCompile(`^BenchmarkStore/(\w+)(?:-\d+)?\s+\d+\s+(.*)$`)

// figures maps (sub-benchmark, unit) to the JSON key.
var figures = []struct {
	bench, unit, key, label string
}{
	{"load", "rows", "rows", "executions loaded"},
	{"load", "rows/s", "load_per_sec", "load rate, batches of 1000 (rows/s)"},
	{"load", "MB", "db_mb", "database file (MB)"},
	{"insert", "rows/s", "insert_per_sec", "single insert (rows/s)"},
	{"insert_batched", "rows/s", "insert_batched_per_sec", "batched insert, 100 a batch (rows/s)"},
	{"list_failed_newest50", "ms/list", "list_failed_newest50_ms", "newest 50 failed of one action (ms)"},
	// CPU time (user+system of the whole process) per operation: the same
	// figures, independent of how busy a shared machine is.
	{"load", "cpu-us/row", "load_cpu_us_per_row", "load CPU per row (us)"},
	{"insert", "cpu-us/row", "insert_cpu_us_per_row", "single insert CPU per row (us)"},
	{"insert_batched", "cpu-us/row", "insert_batched_cpu_us_per_row", "batched insert CPU per row (us)"},
	{"list_failed_newest50", "cpu-ms/list", "list_failed_newest50_cpu_ms", "newest 50 failed CPU (ms)"},
}

func run(in io.Reader, out io.Writer) error {
	values := map[string]float64{}
	failed := false
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(out, line)
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") {
			failed = true
		}
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				values[m[1]+" "+fields[i+1]] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading benchmark output: %w", err)
	}
	if failed {
		return fmt.Errorf("the benchmark run failed")
	}
	summary := map[string]any{}
	fmt.Fprintln(out)
	for _, f := range figures {
		v, ok := values[f.bench+" "+f.unit]
		if !ok {
			return fmt.Errorf("no %s figure for BenchmarkStore/%s", f.unit, f.bench)
		}
		fmt.Fprintf(out, "  %-42s %14.3f\n", f.label, v)
		summary[f.key] = v
	}
	summary["list_goal_met"] = summary["list_failed_newest50_ms"].(float64) < 10
	b, err := json.Marshal(summary)
	if err != nil {
		return fmt.Errorf("encoding figures: %w", err)
	}
	fmt.Fprintln(out, string(b))
	return nil
}
