package asl

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to the definition parser: it must never
// panic, and a definition it accepts must run (with a failing task port
// and a manual clock) without panicking.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("testdata/machines/*.json")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}`,
		`{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericGreaterThan": 1, "Next": "B"}], "Default": "B"}, "B": {"Type": "Succeed"}}}`,
		`{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Map", "Items": "{% [1,2] %}", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": "{% $states.input * 2 %}", "End": true}}}, "End": true}}}`,
		`{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "States.Format('{} {}', $.a, States.UUID())"}, "ResultPath": "$.r", "End": true}}}`,
		`{"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 5, "End": true}}}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}], "End": true}, "F": {"Type": "Fail", "ErrorPath": "$.Error"}}}`,
		`{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}], "End": true}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		in := New(WithClock(NewManualClock(time.Unix(0, 0))), WithRandom(func() float64 { return 0.5 }))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		x, err := in.Start(ctx, m, map[string]any{"a": 1.0, "x": 2.0}, StartOptions{})
		if err != nil {
			return
		}
		_ = x.RunUntilDone(ctx)
		if _, err := x.Snapshot(); err != nil {
			t.Fatalf("snapshot of an accepted machine: %v", err)
		}
	})
}
