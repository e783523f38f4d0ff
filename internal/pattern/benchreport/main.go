// Command benchreport reads the output of `go test -bench BenchmarkMatch` for
// package pattern on stdin, echoes it, prints a table of events per second by
// number of patterns, and prints as its last line one JSON object with the
// keys events_per_sec_<N> (and ns_per_event_<N>, matches_per_event_<N>),
// computed from the benchmark lines, plus ratio_10000_to_100.
//
// When the input has several lines for one number of patterns (go test
// -count N), each figure is the median of those lines (the mean of the two
// middle ones for an even count), the same for every number of patterns:
// on a shared machine one run can be slowed by other work, and the median
// is not moved by a few such runs.
//
// It exits 1 when a benchmark line for 1, 100, 1000 or 10000 patterns is
// missing or the input contains a failure.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
		os.Exit(1)
	}
}

type result struct {
	patterns     int
	nsPerOp      float64
	matchesPerEv float64
}

// median returns the median of xs, which it sorts.
func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

var lineRE = regexp.MustCompile(`^BenchmarkMatch/patterns=(\d+)(?:-\d+)?\s+\d+\s+(.*)$`)

func run(in io.Reader, out io.Writer) error {
	runs := map[int][]result{}
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
		n, _ := strconv.Atoi(m[1])
		r := result{patterns: n}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				r.nsPerOp = v
			case "matches/event":
				r.matchesPerEv = v
			}
		}
		if r.nsPerOp > 0 {
			runs[n] = append(runs[n], r)
		}
	}
	results := map[int]result{}
	for n, rs := range runs {
		ns := make([]float64, len(rs))
		matches := make([]float64, len(rs))
		for i, r := range rs {
			ns[i], matches[i] = r.nsPerOp, r.matchesPerEv
		}
		results[n] = result{patterns: n, nsPerOp: median(ns), matchesPerEv: median(matches)}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading benchmark output: %w", err)
	}
	if failed {
		return fmt.Errorf("the benchmark run failed")
	}
	summary := map[string]float64{}
	keys := make([]int, 0, len(results))
	for n := range results {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	fmt.Fprintln(out)
	fmt.Fprintf(out, "%10s  %14s  %12s  %14s  %5s\n", "patterns", "events/s", "ns/event", "matches/event", "runs")
	for _, n := range keys {
		r := results[n]
		eps := 1e9 / r.nsPerOp
		fmt.Fprintf(out, "%10d  %14.0f  %12.1f  %14.2f  %5d\n", n, eps, r.nsPerOp, r.matchesPerEv, len(runs[n]))
		summary[fmt.Sprintf("events_per_sec_%d", n)] = math.Round(eps)
		summary[fmt.Sprintf("ns_per_event_%d", n)] = r.nsPerOp
		summary[fmt.Sprintf("matches_per_event_%d", n)] = r.matchesPerEv
	}
	for _, n := range []int{1, 100, 1000, 10000} {
		if _, ok := results[n]; !ok {
			return fmt.Errorf("no BenchmarkMatch result for %d patterns", n)
		}
	}
	summary["ratio_10000_to_100"] = float64(int64(1000*results[100].nsPerOp/results[10000].nsPerOp)) / 1000
	b, err := json.Marshal(summary)
	if err != nil {
		return fmt.Errorf("encoding the summary: %w", err)
	}
	fmt.Fprintln(out, string(b))
	return nil
}
