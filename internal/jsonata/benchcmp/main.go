// Command benchcmp measures BWC's JSONata against jsonata-js 2.0.6 (on
// node) on expressions typical of workflows and rules, side by side in one
// run. It prints one line per expression (BWC's time per evaluation,
// jsonata-js's, the ratio) and, as its last line, one JSON object:
// {"min_speedup": x, "speedups": {name: ratio}, "bwc_ns": {...}, "jsonata_js_ns": {...}}.
//
// usage: go run ./internal/jsonata/benchcmp [-seconds 1] [-node-modules DIR]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/bwc-project/bwc/internal/jsonata"
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

func findNodeModules(flagDir string) (string, error) {
	dir := flagDir
	if dir == "" {
		dir = os.Getenv("BWC_NODE_MODULES")
	}
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "tools", "node_modules")
				break
			}
			if filepath.Dir(d) == d {
				return "", errors.New("cannot find the repository root; set BWC_NODE_MODULES")
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "jsonata", "package.json")); err != nil {
		return "", fmt.Errorf("npm package jsonata not found in %s: run `make node-tools`", dir)
	}
	return dir, nil
}

func run() error {
	seconds := flag.Float64("seconds", 1, "measuring time per expression and implementation")
	modulesFlag := flag.String("node-modules", "", "node_modules directory holding jsonata (default $BWC_NODE_MODULES)")
	flag.Parse()
	modules, err := findNodeModules(*modulesFlag)
	if err != nil {
		return err
	}
	doc := input()
	cs := cases()

	// the two implementations must agree before their speed is compared
	spec, err := json.Marshal(map[string]any{"input": doc, "cases": cs, "seconds": *seconds})
	if err != nil {
		return err
	}
	script := filepath.Join(sourceDir(), "bench.js")
	cmd := exec.Command("node", script, modules)
	cmd.Stdin = bytes.NewReader(spec)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	bwc := map[string]float64{}
	for _, c := range cs {
		e, err := jsonata.Compile(c.Expr)
		if err != nil {
			return fmt.Errorf("compiling %s: %w", c.Name, err)
		}
		ctx := context.Background()
		if _, err := e.Eval(ctx, doc, nil); err != nil {
			return fmt.Errorf("evaluating %s: %w", c.Name, err)
		}
		r := testing.Benchmark(func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := e.Eval(ctx, doc, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		bwc[c.Name] = float64(r.T.Nanoseconds()) / float64(r.N)
	}
	runtime.GC()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running jsonata-js: %w\n%s", err, stderr.String())
	}
	var js []struct {
		Name    string  `json:"name"`
		NsPerOp float64 `json:"ns_per_op"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &js); err != nil {
		return fmt.Errorf("decoding jsonata-js results: %w", err)
	}
	if err := checkSameResults(cs, doc, modules); err != nil {
		return err
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
