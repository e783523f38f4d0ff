package asl_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
)

// passChain is a chain of n Pass states that set a member of their input
// to a constant (the states that run on patches), with a Choice state that
// reads the input in the middle. With eager, every Pass state also has
// "InputPath": "$", which changes nothing but makes it copy its input.
func passChain(n int, key func(int) string, result func(int) any, eager bool) []byte {
	states := map[string]any{}
	for i := 0; i < n; i++ {
		s := map[string]any{"Type": "Pass", "ResultPath": "$." + key(i), "Result": result(i), "Next": fmt.Sprintf("P%d", i+1)}
		if eager {
			s["InputPath"] = "$"
		}
		if i == n/2 {
			s["Next"] = "Check"
		}
		states[fmt.Sprintf("P%d", i)] = s
	}
	states["Check"] = map[string]any{"Type": "Choice", "Choices": []any{
		map[string]any{"Variable": "$." + key(0), "IsPresent": true, "Next": fmt.Sprintf("P%d", n/2+1)},
	}, "Default": "Done"}
	states[fmt.Sprintf("P%d", n)] = map[string]any{"Type": "Succeed"}
	states["Done"] = map[string]any{"Type": "Fail", "Error": "NotPresent"}
	def, _ := json.Marshal(map[string]any{"StartAt": "P0", "States": states})
	return def
}

type chainRun struct {
	describe string
	history  string
	snaps    [][]byte
}

func runChain(t *testing.T, def []byte, input any) chainRun {
	t.Helper()
	var r chainRun
	in := asl.New(asl.WithClock(asl.NewManualClock(time.Unix(1e9, 0))), asl.WithTransitionHook(func(x *asl.Execution) {
		s, err := x.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		r.snaps = append(r.snaps, s)
	}))
	m, err := in.Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	x, err := in.Start(context.Background(), m, input, asl.StartOptions{Name: "e"})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := json.Marshal(x.Describe())
	h, _ := json.Marshal(x.History())
	r.describe, r.history = string(d), string(h)
	return r
}

// TestPatchedPassChains checks that Pass states that run on patches
// produce what copying Pass states produce (status, output, error and
// history), and that their executions resume from any transition with the
// same history.
func TestPatchedPassChains(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	for _, tc := range []struct {
		name   string
		n      int
		key    func(int) string
		result func(int) any
		input  any
	}{
		{"one state", 1, func(int) string { return "last" }, func(i int) any { return float64(i) }, map[string]any{"x": 1.0}},
		{"same member", 70, func(int) string { return "last" }, func(i int) any { return float64(i) }, map[string]any{"x": 1.0}},
		{"new members", 70, func(i int) string { return fmt.Sprintf("k%d", i) }, func(i int) any { return fmt.Sprintf("<%d & %d>", i, i) }, map[string]any{"x": "<b>"}},
		{"some members", 33, func(i int) string { return string(rune('a' + i%3)) }, func(i int) any { return map[string]any{"i": float64(i), "s": []any{"é", nil, true}} }, map[string]any{}},
		{"chain bound", 65, func(i int) string { return fmt.Sprintf("k%d", i%5) }, func(i int) any { return float64(i) / 3 }, map[string]any{"k1": "old"}},
		{"not an object", 3, func(int) string { return "last" }, func(i int) any { return float64(i) }, "text"},
		{"null input", 3, func(int) string { return "last" }, func(i int) any { return float64(i) }, nil},
		// {"k0": "..."} is 10 bytes and the string: at the limit, then one byte over
		{"at the limit", 1, func(int) string { return "k0" }, func(int) any { return strings.Repeat("x", 262144-10) }, map[string]any{}},
		{"over the limit", 1, func(int) string { return "k0" }, func(int) any { return strings.Repeat("x", 262144-9) }, map[string]any{}},
		{"too big", 5, func(i int) string { return fmt.Sprintf("k%d", i) }, func(int) any { return big }, map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lazy := runChain(t, passChain(tc.n, tc.key, tc.result, false), tc.input)
			eager := runChain(t, passChain(tc.n, tc.key, tc.result, true), tc.input)
			if lazy.describe != eager.describe {
				t.Fatalf("description\n got %s\nwant %s", lazy.describe, eager.describe)
			}
			// the eager states' InputPath is not in the history: compare
			// with the lazy run's snapshots, which must hold the same values
			if lazy.history != eager.history {
				t.Fatalf("history\n got %s\nwant %s", lazy.history, eager.history)
			}
			def := passChain(tc.n, tc.key, tc.result, false)
			for i, snap := range lazy.snaps {
				in := asl.New(asl.WithClock(asl.NewManualClock(time.Unix(1e9, 0))))
				m, err := in.Parse(def)
				if err != nil {
					t.Fatal(err)
				}
				x, err := in.Resume(m, snap)
				if err != nil {
					t.Fatalf("resuming at transition %d: %v", i+1, err)
				}
				if err := x.RunUntilDone(context.Background()); err != nil {
					t.Fatal(err)
				}
				h, _ := json.Marshal(x.History())
				if string(h) != lazy.history {
					t.Fatalf("resumed at transition %d: history\n got %s\nwant %s", i+1, h, lazy.history)
				}
			}
		})
	}
}

// TestFarTimestamps checks that history timestamps more than 292 years
// from the execution's start (kept apart from the others) are exact, and
// survive a snapshot.
func TestFarTimestamps(t *testing.T) {
	def := []byte(`{"StartAt": "W", "States": {
		"W": {"Type": "Wait", "Timestamp": "2400-01-01T00:00:00.000000007Z", "Next": "P"},
		"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.p", "End": true}}}`)
	start := time.Date(2000, 1, 1, 0, 0, 0, 5, time.UTC)
	in := asl.New(asl.WithClock(asl.NewManualClock(start)))
	m, err := in.Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	x, err := in.Start(context.Background(), m, map[string]any{}, asl.StartOptions{Name: "e"})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.RunUntilDone(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := x.History()
	want := time.Date(2400, 1, 1, 0, 0, 0, 7, time.UTC)
	if last := h[len(h)-1]; !last.Timestamp.Equal(want) || last.Type != "ExecutionSucceeded" {
		t.Fatalf("last event %s at %s, want ExecutionSucceeded at %s", last.Type, last.Timestamp, want)
	}
	if first := h[0]; !first.Timestamp.Equal(start) {
		t.Fatalf("first event at %s, want %s", first.Timestamp, start)
	}
	snap, err := x.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	y, err := in.Resume(m, snap)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(h)
	b, _ := json.Marshal(y.History())
	if string(a) != string(b) {
		t.Fatalf("history after resume\n got %s\nwant %s", b, a)
	}
}

// TestSizesFollowed checks the payload limit on outputs whose size the
// interpreter works out as it builds them (Parameters, a Choice passing its
// input on) against the same states with "OutputPath": "$", whose outputs
// it measures.
func TestSizesFollowed(t *testing.T) {
	machine := func(outputPath bool) []byte {
		states := map[string]any{
			"P":    map[string]any{"Type": "Pass", "Parameters": map[string]any{"s.$": "$.s", "n": 1.0}, "Next": "C"},
			"C":    map[string]any{"Type": "Choice", "Choices": []any{map[string]any{"Variable": "$.n", "NumericEquals": 1.0, "Next": "Done"}}},
			"Done": map[string]any{"Type": "Succeed"},
		}
		if outputPath {
			for _, s := range states {
				s.(map[string]any)["OutputPath"] = "$"
			}
		}
		def, _ := json.Marshal(map[string]any{"StartAt": "P", "States": states})
		return def
	}
	// {"n":1,"s":"..."} is 15 bytes and the string (as jsonSize counts)
	for _, n := range []int{262144 - 15, 262144 - 14} {
		input := map[string]any{"s": strings.Repeat("x", n)}
		got := runChain(t, machine(false), input)
		want := runChain(t, machine(true), input)
		if got.describe != want.describe {
			t.Errorf("string of %d bytes: description\n got %.300s\nwant %.300s", n, got.describe, want.describe)
		}
	}
}

// tickingClock moves on by tick at every reading.
type tickingClock struct {
	now  time.Time
	tick time.Duration
}

func (c *tickingClock) Now() time.Time {
	c.now = c.now.Add(c.tick)
	return c.now
}

// TestPatchedPassTimestamps checks the timestamps of Pass states that run
// on patches against copying ones with a clock that moves between the
// events of a state: a little (both events in one record) and more than
// such a record holds.
func TestPatchedPassTimestamps(t *testing.T) {
	for _, tick := range []time.Duration{time.Microsecond + 1, 10 * time.Millisecond} {
		history := func(eager bool) string {
			in := asl.New(asl.WithClock(&tickingClock{now: time.Unix(1e9, 0), tick: tick}))
			m, err := in.Parse(passChain(5, func(int) string { return "k" }, func(i int) any { return float64(i) }, eager))
			if err != nil {
				t.Fatal(err)
			}
			x, err := in.Start(context.Background(), m, map[string]any{}, asl.StartOptions{Name: "e"})
			if err != nil {
				t.Fatal(err)
			}
			h, _ := json.Marshal(x.History())
			return string(h)
		}
		if got, want := history(false), history(true); got != want {
			t.Errorf("tick %s: history\n got %s\nwant %s", tick, got, want)
		}
	}
}
