// Command benchcmp measures BWC's ASL interpreter against the npm package
// aws-local-stepfunctions (pinned, on node) on the same state machines,
// side by side in one run: a chain of 100 Pass states, a Choice loop of
// 1,000 iterations, a Map over 1,000 items and a Parallel state of 10
// branches. Both must produce the same output. It prints, per machine, the
// state transitions per second of each and the ratio, and as its last line
// one JSON object:
// {"min_speedup": x, "speedups": {machine: ratio}, "bwc_transitions_per_sec": {...}, "aws_local_stepfunctions_transitions_per_sec": {...}, "transitions": {...}}.
//
// usage: go run ./internal/asl/benchcmp [-seconds 1] [-rounds 3] [-node-modules DIR]
//
// The machine may be shared: each round measures BWC then node on each
// machine, and the best time of each over the rounds counts. Both warm up
// (node's JIT) for a quarter of the measuring time first, and both time
// only runs of an already parsed machine.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/asl/asltest"
	"github.com/bwc-project/bwc/internal/nodetools"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchcmp:", err)
		os.Exit(1)
	}
}

// findNodeModules finds the node_modules directory holding aws-local-stepfunctions.
func findNodeModules(flagDir string) (string, error) {
	dir, err := nodetools.Find(flagDir, "aws-local-stepfunctions")
	if err != nil {
		return "", fmt.Errorf("finding the reference implementation: %w", err)
	}
	return dir, nil
}

// sourceDir is the directory of this program's sources (bench.js lives
// there), found from the working directory.
func sourceDir() string {
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "internal", "asl", "benchcmp")
		}
		if filepath.Dir(d) == d {
			return "."
		}
	}
}

type measured struct {
	nsPerRun    float64
	transitions int
	output      any
}

func measureBWC(bm asltest.BenchMachine, seconds float64) (measured, error) {
	def, err := json.Marshal(bm.Definition)
	if err != nil {
		return measured{}, fmt.Errorf("encoding %s: %w", bm.Name, err)
	}
	in := asl.New(asl.WithClock(asl.NewManualClock(time.Unix(0, 0))))
	m, err := in.Parse(def)
	if err != nil {
		return measured{}, fmt.Errorf("parsing %s: %w", bm.Name, err)
	}
	ctx := context.Background()
	x, err := in.Start(ctx, m, bm.Input, asl.StartOptions{})
	if err != nil {
		return measured{}, fmt.Errorf("running %s: %w", bm.Name, err)
	}
	d := x.Describe()
	if d.Status != asl.StatusSucceeded {
		return measured{}, fmt.Errorf("running %s: %s %s %s", bm.Name, d.Status, d.Error, d.Cause)
	}
	transitions := 0
	for _, e := range x.History() {
		if strings.HasSuffix(e.Type, "StateEntered") {
			transitions++
		}
	}
	// the same method as bench.js: warm up for a quarter of `seconds` (at
	// least 3 runs), then run for `seconds`, time per run
	warm := time.Now().Add(time.Duration(seconds * 0.25 * float64(time.Second)))
	for i := 0; i < 3 || time.Now().Before(warm); i++ {
		if _, err := in.Start(ctx, m, bm.Input, asl.StartOptions{Name: "bench"}); err != nil {
			return measured{}, err
		}
	}
	n := 0
	begin := time.Now()
	budget := time.Duration(seconds * float64(time.Second))
	for time.Since(begin) < budget {
		if _, err := in.Start(ctx, m, bm.Input, asl.StartOptions{Name: "bench"}); err != nil {
			return measured{}, err
		}
		n++
	}
	best := float64(time.Since(begin).Nanoseconds()) / float64(n)
	return measured{nsPerRun: best, transitions: transitions, output: d.Output}, nil
}

// measureNode runs one machine on aws-local-stepfunctions for about
// seconds and returns its time per run and output.
func measureNode(modules string, bm asltest.BenchMachine, seconds float64) (float64, any, error) {
	type nodeMachine struct {
		Name       string         `json:"name"`
		Definition map[string]any `json:"definition"`
		Input      any            `json:"input"`
	}
	spec := struct {
		Machines []nodeMachine `json:"machines"`
		Seconds  float64       `json:"seconds"`
	}{Machines: []nodeMachine{{bm.Name, bm.Definition, bm.Input}}, Seconds: seconds}
	data, err := json.Marshal(spec)
	if err != nil {
		return 0, nil, fmt.Errorf("encoding %s: %w", bm.Name, err)
	}
	cmd := exec.Command("node", filepath.Join(sourceDir(), "bench.js"), modules)
	cmd.Stdin = bytes.NewReader(data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, nil, fmt.Errorf("running %s on aws-local-stepfunctions: %w\n%s", bm.Name, err, stderr.String())
	}
	var js []struct {
		NsPerRun float64 `json:"ns_per_run"`
		Output   any     `json:"output"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &js); err != nil {
		return 0, nil, fmt.Errorf("decoding aws-local-stepfunctions results for %s: %w", bm.Name, err)
	}
	if len(js) != 1 {
		return 0, nil, fmt.Errorf("aws-local-stepfunctions returned %d results for %s, want 1", len(js), bm.Name)
	}
	return js[0].NsPerRun, js[0].Output, nil
}

func run() error {
	seconds := flag.Float64("seconds", 1, "measuring time per machine, implementation and round")
	rounds := flag.Int("rounds", 3, "rounds; each machine's best time per implementation counts (the machine may be shared)")
	modulesFlag := flag.String("node-modules", "", "node_modules directory holding aws-local-stepfunctions (default $BWC_NODE_MODULES)")
	flag.Parse()
	modules, err := findNodeModules(*modulesFlag)
	if err != nil {
		return err
	}
	machines := asltest.BenchMachines()
	bwc := map[string]measured{}
	node := map[string]float64{}
	for round := 0; round < *rounds; round++ {
		for _, bm := range machines {
			r, err := measureBWC(bm, *seconds)
			if err != nil {
				return err
			}
			if prev, ok := bwc[bm.Name]; !ok || r.nsPerRun < prev.nsPerRun {
				bwc[bm.Name] = r
			}
			runtime.GC()
			ns, out, err := measureNode(modules, bm, *seconds)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(normalize(bwc[bm.Name].output), normalize(out)) {
				return fmt.Errorf("%s: the outputs differ: BWC %v, aws-local-stepfunctions %v", bm.Name, bwc[bm.Name].output, out)
			}
			if prev, ok := node[bm.Name]; !ok || ns < prev {
				node[bm.Name] = ns
			}
		}
	}
	speedups := map[string]float64{}
	bwcTPS := map[string]float64{}
	jsTPS := map[string]float64{}
	transitions := map[string]int{}
	minSpeedup := math.Inf(1)
	fmt.Printf("%-18s %11s %16s %28s %9s\n", "machine", "transitions", "BWC trans/s", "aws-local-stepfunctions t/s", "speedup")
	for _, bm := range machines {
		b, ns := bwc[bm.Name], node[bm.Name]
		bt := float64(b.transitions) / (b.nsPerRun / 1e9)
		jt := float64(b.transitions) / (ns / 1e9)
		ratio := ns / b.nsPerRun
		speedups[bm.Name] = math.Round(ratio*100) / 100
		bwcTPS[bm.Name] = math.Round(bt)
		jsTPS[bm.Name] = math.Round(jt)
		transitions[bm.Name] = b.transitions
		minSpeedup = math.Min(minSpeedup, ratio)
		fmt.Printf("%-18s %11d %16.0f %28.0f %8.1fx\n", bm.Name, b.transitions, bt, jt, ratio)
	}
	line, err := json.Marshal(map[string]any{
		"min_speedup":             math.Round(minSpeedup*100) / 100,
		"speedups":                speedups,
		"bwc_transitions_per_sec": bwcTPS,
		"aws_local_stepfunctions_transitions_per_sec": jsTPS,
		"transitions": transitions,
	})
	if err != nil {
		return fmt.Errorf("encoding the summary: %w", err)
	}
	fmt.Println(string(line))
	return nil
}

// normalize round-trips a value through JSON so Go and node outputs
// compare as JSON.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
