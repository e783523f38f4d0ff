package lambdafn_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/aws/lambdafn"
	"github.com/bwc-project/bwc/internal/rule"
)

// TestEnforcerRefusesAnInputTooLargeForStepFunctions: parameters over
// Step Functions' 256 KiB input fail with bwc.InvalidTask (delivering the
// event again cannot help), naming the limit, and start nothing.
func TestEnforcerRefusesAnInputTooLargeForStepFunctions(t *testing.T) {
	f := newFixture(t)
	h, err := lambdafn.NewEnforcer(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	env := rule.NewEnvelope("ti-big", "core.webhook", map[string]any{"url": "monitoring/alert"}, map[string]any{
		"headers": map[string]any{},
		"body": map[string]any{
			"labels":      map[string]any{"alertname": "DiskFull", "severity": "critical", "instance": strings.Repeat("w", 300<<10), "mountpoint": "/data"},
			"annotations": map[string]any{"threshold": "80"},
		},
	}, "trace-big", time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC))
	raw, err := env.JSON()
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Handle(context.Background(), lambdafn.EnforcerEvent{Rule: "examples.disk_alert", Event: raw})
	if got := errorType(t, err); got != lambdafn.ErrNameInvalidTask || !strings.Contains(err.Error(), "262144") {
		t.Errorf("error %s %v, want %s naming the 262144-byte limit", got, err, lambdafn.ErrNameInvalidTask)
	}
	if len(f.sfn.starts) != 0 {
		t.Errorf("%d executions started, want none", len(f.sfn.starts))
	}
}

// TestRunnerErrorsHideSecretValues: a secret parameter's value that fails
// its schema is not quoted in the function error (kept in the Step
// Functions history and the logs).
func TestRunnerErrorsHideSecretValues(t *testing.T) {
	f := newFixture(t, filepath.Join("testdata", "packs"))
	createParent(t, f)
	h := lambdafn.NewRunner(f.deps)
	for _, tc := range []struct {
		name string
		in   lambdafn.RunnerEvent
	}{
		{"workflow task", lambdafn.RunnerEvent{Action: "secrettest.pin", Parameters: map[string]any{"pin": "hunter2"},
			Context: map[string]any{"task": "pin", "workflow": "examples.remediate_disk", "workflow_execution": parentARN}}},
		{"direct rule target", lambdafn.RunnerEvent{Action: "secrettest.pin", Parameters: map[string]any{"pin": "hunter2"},
			Execution: "arn:aws:states:us-east-1:000000000000:execution:bwc-bwc_action:ex-pin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Handle(context.Background(), tc.in)
			if got := errorType(t, err); got != lambdafn.ErrNameInvalidTask {
				t.Fatalf("errorType %s (%v), want %s", got, err, lambdafn.ErrNameInvalidTask)
			}
			if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "/pin") {
				t.Errorf("error %q: want the parameter named and its value not quoted", err)
			}
		})
	}
}

// TestTimerRefusesAnEventTooLargeForTheBus: a fire whose event is over
// EventBridge's 256 KiB is a bwc.BadEvent (not retried as bwc.Internal)
// and records no trigger instance that would stay pending.
func TestTimerRefusesAnEventTooLargeForTheBus(t *testing.T) {
	f := newFixture(t)
	_, err := lambdafn.NewTimer(f.deps).Handle(context.Background(), lambdafn.TimerEvent{
		Rule: "x.y", Trigger: "core.IntervalTimer", ScheduledTime: "2026-11-30T01:05:00Z",
		Parameters: map[string]any{"unit": "minutes", "delta": 5.0, "note": strings.Repeat("n", 300<<10)},
	})
	if got := errorType(t, err); got != lambdafn.ErrNameBadEvent || !strings.Contains(err.Error(), "262144") {
		t.Errorf("error %s %.300v, want %s naming the 262144-byte limit", got, err, lambdafn.ErrNameBadEvent)
	}
	if len(f.events.entries) != 0 {
		t.Errorf("%d events put, want none", len(f.events.entries))
	}
}
