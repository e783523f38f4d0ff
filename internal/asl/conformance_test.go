package asl_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/asl/asltest"
)

// TestConformance runs the case set generated from LocalStack's recorded
// Step Functions executions (testdata/conformance), prints the pass rate
// it computes, and checks that exactly the cases listed in
// testdata/conformance/known-failures.txt fail. With BWC_ASL_CASES set, it
// also runs every case file in that directory (those must all pass).
func TestConformance(t *testing.T) {
	known, err := asltest.KnownFailures("testdata/conformance/known-failures.txt")
	if err != nil {
		t.Fatal(err)
	}
	cases, _, err := asltest.LoadDir("testdata/conformance")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 300 {
		t.Fatalf("only %d cases in testdata/conformance, want at least 300", len(cases))
	}
	passed := 0
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.Name] = true
		o, err := asltest.Run(context.Background(), c, asltest.Options{})
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		_, isKnown := known[c.Name]
		switch {
		case o.Passed():
			passed++
			if isKnown {
				t.Errorf("%s passes but is listed in known-failures.txt: remove it", c.Name)
			}
		case !isKnown:
			t.Errorf("%s: %s", c.Name, strings.Join(o.Mismatches, "; "))
		}
	}
	for name := range known {
		if !seen[name] {
			t.Errorf("known-failures.txt lists %q, which is not a case", name)
		}
	}
	rate := 100 * float64(passed) / float64(len(cases))
	summary := fmt.Sprintf("ASL conformance: %d/%d cases pass (%.1f%%); %d known failures", passed, len(cases), rate, len(cases)-passed)
	t.Log(summary)
	fmt.Println(summary) // shown by `cd internal/asl && go test` (make test-asl)
	if rate < 95 {
		t.Errorf("pass rate %.1f%% is below the 95%% goal", rate)
	}
	if dir := os.Getenv("BWC_ASL_CASES"); dir != "" {
		extra, paths, err := asltest.LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range extra {
			o, err := asltest.Run(context.Background(), c, asltest.Options{})
			if err != nil {
				t.Errorf("%s: %v", paths[i], err)
				continue
			}
			if !o.Passed() {
				t.Errorf("%s: %s", filepath.Base(paths[i]), strings.Join(o.Mismatches, "; "))
			}
		}
		fmt.Printf("BWC_ASL_CASES: ran %d cases from %s\n", len(extra), dir)
	}
}

// TestConformanceFailureReasons prints the known failures grouped by reason
// (go test -run FailureReasons -v).
func TestConformanceFailureReasons(t *testing.T) {
	known, err := asltest.KnownFailures("testdata/conformance/known-failures.txt")
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]int{}
	for _, r := range known {
		by[r]++
	}
	reasons := make([]string, 0, len(by))
	for r := range by {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		t.Logf("%4d  %s", by[r], r)
	}
}
