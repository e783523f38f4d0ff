// Command benchcmp measures BWC's JSONata against jsonata-js 2.0.6 (on
// node) on expressions typical of workflows and rules, side by side in one
// run. It prints one line per expression (BWC's time per evaluation,
// jsonata-js's, the ratio) and, as its last line, one JSON object:
// {"min_speedup": x, "speedups": {name: ratio}, "bwc_ns": {...}, "jsonata_js_ns": {...}}.
//
// Both implementations are measured the same way (a warm-up, then batches
// of evaluations of a compiled expression until the time budget is spent),
// in rounds that alternate between them; each implementation's best round
// counts, so that load from other processes on a shared machine distorts
// the ratios less. The results of the two are compared first.
//
// usage: go run ./internal/jsonata/benchcmp [-seconds 1] [-rounds 3] [-node-modules DIR]
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
	"time"

	"github.com/bwc-project/bwc/internal/jsonata"
	"github.com/bwc-project/bwc/internal/nodetools"
)

type benchCase struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

func cases() []benchCase {
	return []benchCase{
		{"path", `items.customer.address.city`},
		{"predicate", `items[status = "open" and priority >= 3].id`},
		{"string_building", `$join(items.(customer.name & " <" & customer.email & "> #" & $string(id)), "; ")`},
		{"map_filter_reduce", `$reduce($filter($map(items, function($v) { $v.price * $v.qty }), function($x) { $x > 50 }), function($a, $b) { $a + $b }, 0)`},
		{"object_construction", `items.{"id": id, "who": $uppercase(customer.name), "total": price * qty, "tags": tags, "open": status = "open"}`},
		{"group_by", `items{status: {"count": $count(id), "sum": $sum(price)}}`},
		{"sort_slice", `items^(>priority, id)[[0..9]].id`},
		{"rule_condition", `$count(items[priority > 3 and $contains(customer.email, /@example\.org$/)]) > 0 and $exists(items[0].tags)`},
	}
}

// input builds the 100-element document the expressions run against.
func input() map[string]any {
	statuses := []string{"open", "closed", "pending"}
	cities := []string{"Lisbon", "Oslo", "Lima", "Perth", "Quito"}
	items := make([]any, 100)
	for i := range items {
		dom := "example.com"
		if i%3 == 0 {
			dom = "example.org"
		}
		items[i] = map[string]any{
			"id":       float64(i + 1),
			"status":   statuses[i%3],
			"priority": float64(i % 5),
			"price":    float64(i%17) * 3.25,
			"qty":      float64(i%7 + 1),
			"tags":     []any{"t" + fmt.Sprint(i%4), "x"},
			"customer": map[string]any{
				"name":    fmt.Sprintf("customer %d", i),
				"email":   fmt.Sprintf("c%d@%s", i, dom),
				"address": map[string]any{"city": cities[i%5], "zip": fmt.Sprintf("%05d", i*37)},
			},
		}
	}
	return map[string]any{"items": items}
}

// findNodeModules finds the node_modules directory holding jsonata.
func findNodeModules(flagDir string) (string, error) {
	dir, err := nodetools.Find(flagDir, "jsonata")
	if err != nil {
		return "", fmt.Errorf("finding the reference implementation: %w", err)
	}
	return dir, nil
}

func run() error {
	seconds := flag.Float64("seconds", 1, "measuring time per expression and implementation")
	rounds := flag.Int("rounds", 3, "measuring rounds (each implementation's best round counts)")
	modulesFlag := flag.String("node-modules", "", "node_modules directory holding jsonata (default $BWC_NODE_MODULES)")
	flag.Parse()
	modules, err := findNodeModules(*modulesFlag)
	if err != nil {
		return err
	}
	doc := input()
	cs := cases()

	// the two implementations must agree before their speed is compared
	if err := checkSameResults(cs, doc, modules); err != nil {
		return err
	}
	// The machine may be shared: measure in rounds, alternating the two
	// implementations, and keep each one's best round per expression.
	compiled := make([]*jsonata.Expr, len(cs))
	for i, c := range cs {
		e, err := jsonata.Compile(c.Expr)
		if err != nil {
			return fmt.Errorf("compiling %s: %w", c.Name, err)
		}
		compiled[i] = e
	}
	budget := time.Duration(*seconds / float64(*rounds) * float64(time.Second))
	bwc := map[string]float64{}
	jsBest := map[string]float64{}
	for r := 0; r < *rounds; r++ {
		for i, c := range cs {
			ns, err := measure(compiled[i], doc, budget)
			if err != nil {
				return fmt.Errorf("evaluating %s: %w", c.Name, err)
			}
			if old, ok := bwc[c.Name]; !ok || ns < old {
				bwc[c.Name] = ns
			}
		}
		runtime.GC()
		js, err := runNode(modules, doc, cs, *seconds/float64(*rounds))
		if err != nil {
			return err
		}
		for _, x := range js {
			if old, ok := jsBest[x.Name]; !ok || x.NsPerOp < old {
				jsBest[x.Name] = x.NsPerOp
			}
		}
	}
	var js []jsResult
	for _, c := range cs {
		js = append(js, jsResult{Name: c.Name, NsPerOp: jsBest[c.Name]})
	}
	speedups := map[string]float64{}
	jsNS := map[string]float64{}
	minSpeedup := math.Inf(1)
	fmt.Printf("%-22s %14s %16s %9s\n", "expression", "BWC ns/eval", "jsonata-js ns/eval", "speedup")
	for _, r := range js {
		b := bwc[r.Name]
		ratio := r.NsPerOp / b
		speedups[r.Name] = math.Round(ratio*100) / 100
		jsNS[r.Name] = math.Round(r.NsPerOp)
		minSpeedup = math.Min(minSpeedup, ratio)
		fmt.Printf("%-22s %14.0f %16.0f %8.1fx\n", r.Name, b, r.NsPerOp, ratio)
	}
	for k, v := range bwc {
		bwc[k] = math.Round(v)
	}
	line, err := json.Marshal(map[string]any{
		"min_speedup":   math.Round(minSpeedup*100) / 100,
		"speedups":      speedups,
		"bwc_ns":        bwc,
		"jsonata_js_ns": jsNS,
	})
	if err != nil {
		return err
	}
	fmt.Println(string(line))
	return nil
}

type jsResult struct {
	Name    string  `json:"name"`
	NsPerOp float64 `json:"ns_per_op"`
}

// measure is BWC's time per evaluation: a warm-up, then batches of
// evaluations until budget has passed (as bench.js measures jsonata-js).
func measure(e *jsonata.Expr, doc map[string]any, budget time.Duration) (float64, error) {
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if _, err := e.Eval(ctx, doc, nil); err != nil {
			return 0, err
		}
	}
	n := 0
	start := time.Now()
	for time.Since(start) < budget {
		for i := 0; i < 20; i++ {
			if _, err := e.Eval(ctx, doc, nil); err != nil {
				return 0, err
			}
		}
		n += 20
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n), nil
}

// runNode measures jsonata-js on every expression in one node process.
func runNode(modules string, doc map[string]any, cs []benchCase, seconds float64) ([]jsResult, error) {
	spec, err := json.Marshal(map[string]any{"input": doc, "cases": cs, "seconds": seconds})
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", filepath.Join(sourceDir(), "bench.js"), modules)
	cmd.Stdin = bytes.NewReader(spec)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("running jsonata-js: %w\n%s", err, stderr.String())
	}
	var js []jsResult
	if err := json.Unmarshal(stdout.Bytes(), &js); err != nil {
		return nil, fmt.Errorf("decoding jsonata-js results: %w", err)
	}
	return js, nil
}

// checkSameResults evaluates each expression with both implementations and
// fails when they differ, so the timings compare the same work.
func checkSameResults(cs []benchCase, doc map[string]any, modules string) error {
	spec, err := json.Marshal(map[string]any{"input": doc, "cases": cs})
	if err != nil {
		return err
	}
	script := `const path=require('path');const jsonata=require(path.join(process.argv[1],'jsonata'));
(async()=>{const c=[];for await(const x of process.stdin)c.push(x);const s=JSON.parse(Buffer.concat(c).toString());
const out=[];for(const k of s.cases){out.push(await jsonata(k.expr).evaluate(s.input,{}));}
process.stdout.write(JSON.stringify(out));})().catch(e=>{console.error(e);process.exit(1)});`
	cmd := exec.Command("node", "-e", script, modules)
	cmd.Stdin = bytes.NewReader(spec)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running jsonata-js: %w\n%s", err, stderr.String())
	}
	var want []any
	if err := json.Unmarshal(stdout.Bytes(), &want); err != nil {
		return fmt.Errorf("decoding jsonata-js results: %w", err)
	}
	for i, c := range cs {
		e, err := jsonata.Compile(c.Expr)
		if err != nil {
			return err
		}
		got, err := e.Eval(context.Background(), doc, nil)
		if err != nil {
			return fmt.Errorf("evaluating %s: %w", c.Name, err)
		}
		gb, _ := json.Marshal(got)
		var g any
		_ = json.Unmarshal(gb, &g)
		if !reflect.DeepEqual(g, want[i]) {
			return fmt.Errorf("%s: BWC and jsonata-js disagree:\nBWC:        %s\njsonata-js: %v", c.Name, gb, want[i])
		}
	}
	return nil
}

func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Dir(file)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchcmp:", err)
		os.Exit(1)
	}
}
