package localcloud

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/sensor/clock"
)

func TestRunSchedules(t *testing.T) {
	start := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	fn := newRecorder(nil)
	params := map[string]any{"unit": "seconds", "delta": 30.0}
	rules := []*rule.Compiled{
		{Ref: "t.every30s", Enabled: true, Trigger: rule.Trigger{Type: "core.IntervalTimer", Parameters: params}},
		{Ref: "t.off", Enabled: false, Trigger: rule.Trigger{Type: "core.IntervalTimer", Parameters: map[string]any{"unit": "seconds", "delta": 1.0}}},
		{Ref: "t.webhook", Enabled: true, Trigger: rule.Trigger{Type: "core.webhook", Parameters: map[string]any{"url": "x"}}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunSchedules(ctx, rules, fn, clk, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if err := clk.WaitTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		clk.Advance(30 * time.Second)
		var got TimerInput
		raw, _ := json.Marshal(fn.next(t))
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		want := TimerInput{Rule: "t.every30s", Trigger: "core.IntervalTimer", Parameters: params,
			ScheduledTime: start.Add(time.Duration(i) * 30 * time.Second).Format(time.RFC3339)}
		if !jsonSame(got, want) {
			t.Errorf("fire %d: %+v, want %+v", i, got, want)
		}
	}
}

func TestRunPollers(t *testing.T) {
	start := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	fn := newRecorder(nil)
	pollers := []Poller{{Pack: "p", Sensor: "p.fast", Every: 10 * time.Second}, {Pack: "p", Sensor: "p.slow", Every: time.Minute}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunPollers(ctx, pollers, fn, clk, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if err := clk.WaitTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// Each step fires the fast poller; every sixth the slow one too.
	counts := map[string]int{}
	for i := 1; i <= 6; i++ {
		clk.Advance(10 * time.Second)
		n := 1
		if i == 6 {
			n = 2
		}
		for range n {
			got := fn.next(t)
			if at, _ := got["scheduled_time"].(string); got["pack"] != "p" || len(got) != 3 || at != clk.Now().UTC().Format(time.RFC3339) {
				t.Errorf("poller input %v, want {pack, sensor, scheduled_time: now}", got)
			}
			s, _ := got["sensor"].(string)
			counts[s]++
		}
	}
	if counts["p.fast"] != 6 || counts["p.slow"] != 1 {
		t.Errorf("polls %v, want p.fast 6 and p.slow 1", counts)
	}
}

func TestRunInquirySweep(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC))
	fn := newRecorder(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunInquirySweep(ctx, fn, clk, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if err := clk.WaitTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		clk.Advance(time.Minute)
		if got := fn.next(t); len(got) != 1 || got["sweep"] != true {
			t.Errorf("sweep %d: input %v, want {\"sweep\": true}", i, got)
		}
	}
}
