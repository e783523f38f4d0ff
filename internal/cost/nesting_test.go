package cost

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// diamond is an estimator of levels machines "l<i>", each of whose runs
// starts the next level's machine fanOut times (a diamond collapsed to one
// machine a level): walked without memoizing, the last level runs
// fanOut^(levels-1) times.
func diamond(levels, fanOut int) *estimator {
	e := &estimator{runs: map[string]Run{}, byParam: map[string]string{},
		machines: map[string]*machineRun{}, walking: map[string]bool{}}
	for i := range levels {
		ref := fmt.Sprintf("l%d", i)
		r := Run{Transitions: 1}
		if i+1 < levels {
			for range fanOut {
				r.Children = append(r.Children, fmt.Sprintf("P%d", i+1))
			}
		}
		e.runs[ref] = r
		e.byParam[fmt.Sprintf("P%d", i)] = ref
	}
	return e
}

// A diamond of child workflows is walked once per machine: 16 children
// over 9 levels is 16^8 runs of the last machine, counted without walking
// them.
func TestChildWorkflowsAreWalkedOncePerMachine(t *testing.T) {
	const levels, fanOut = maxNesting + 1, 16
	e := diamond(levels, fanOut)
	u := &usage{Usage: Usage{Invocations: map[string]float64{}}}
	done := make(chan error, 1)
	go func() {
		_, err := e.run(u, "l0", 0)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the estimate did not return: child workflows are walked once per path")
	}
	want, runs := 0.0, 1.0
	for range levels {
		want += runs
		runs *= fanOut
	}
	if u.Transitions != want {
		t.Errorf("transitions %v, want %v (one per run)", u.Transitions, want)
	}
	if len(e.machines) != levels {
		t.Errorf("%d machines memoized, want %d", len(e.machines), levels)
	}
}

// The nesting limit holds whether a machine is walked or found memoized.
func TestWorkflowNestingLimit(t *testing.T) {
	tests := []struct {
		name    string
		levels  int
		wantErr bool
	}{
		{"at the limit", maxNesting + 1, false},
		{"over the limit", maxNesting + 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := diamond(tt.levels, 2)
			u := &usage{Usage: Usage{Invocations: map[string]float64{}}}
			_, err := e.run(u, "l0", 0)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want an error: %t", err, tt.wantErr)
			}
		})
	}
	t.Run("memoized below, reached deeper", func(t *testing.T) {
		e := diamond(maxNesting+1, 1)
		u := &usage{Usage: Usage{Invocations: map[string]float64{}}}
		if _, err := e.run(u, "l1", 0); err != nil { // memoizes l1..l8: 7 below l1
			t.Fatal(err)
		}
		// l1 reached at depth 2: 9 levels below the rule's machine.
		_, err := e.run(u, "l1", 2)
		if err == nil || !strings.Contains(err.Error(), "nested more than 8 deep") {
			t.Fatalf("error %v, want workflows nested more than 8 deep", err)
		}
	})
	t.Run("a workflow starting itself", func(t *testing.T) {
		e := diamond(2, 1)
		e.runs["l1"] = Run{Children: []string{"P0"}}
		u := &usage{Usage: Usage{Invocations: map[string]float64{}}}
		if _, err := e.run(u, "l0", 0); err == nil {
			t.Fatal("no error, want workflows nested too deep")
		}
	})
}
