package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/sensor/clock"
	"github.com/bwc-project/bwc/internal/sensor/timer"
)

// FnTimer is the function EventBridge Scheduler's schedules invoke.
const FnTimer = "timer"

// TimerInput is what a schedule sends the timer function, as the CDK
// stack's schedules send it.
type TimerInput struct {
	Rule       string         `json:"rule"`
	Trigger    string         `json:"trigger"`
	Parameters map[string]any `json:"parameters"`
	// ScheduledTime is Scheduler's <aws.scheduler.scheduled-time>, RFC 3339.
	ScheduledTime string `json:"scheduled_time"`
}

// RunSchedules stands in for EventBridge Scheduler: one schedule per
// enabled timer rule (core.IntervalTimer, core.CronTimer, core.DateTimer),
// each fire invoking fn with a TimerInput (failures are logged; Scheduler's
// retries are not imitated). It returns when ctx ends. A timer that does
// not parse is logged and skipped, as the engine does; a date already past
// never fires.
func RunSchedules(ctx context.Context, rules []*rule.Compiled, fn Function, clk clock.Clock, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	byRule := map[string]*rule.Compiled{}
	s := timer.NewScheduler(clk, func(ctx context.Context, ev timer.Event) {
		r := byRule[ev.ID]
		params := r.Trigger.Parameters
		if params == nil {
			params = map[string]any{}
		}
		payload, err := json.Marshal(TimerInput{Rule: r.Ref, Trigger: r.Trigger.Type, Parameters: params, ScheduledTime: ev.At.UTC().Format(time.RFC3339)})
		if err == nil {
			_, err = fn.Invoke(ctx, payload)
		}
		if err != nil && ctx.Err() == nil {
			log.Error("invoking the timer function", "rule", r.Ref, "at", ev.At, "err", err)
		}
	})
	for _, r := range rules {
		if !r.Enabled || !timer.IsTimer(r.Trigger.Type) {
			continue
		}
		sched, err := timer.Parse(r.Trigger.Type, r.Trigger.Parameters)
		if err != nil {
			log.Warn("rule timer not scheduled", "rule", r.Ref, "err", err)
			continue
		}
		byRule[r.Ref] = r
		if _, err := s.Add(r.Ref, sched, nil); err != nil && !errors.Is(err, timer.ErrNoNextFire) {
			return fmt.Errorf("scheduling the timer of rule %s: %w", r.Ref, err)
		}
	}
	if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("running the schedules: %w", err)
	}
	return nil
}

// FnPoller is the function the polling sensors' schedules invoke.
const FnPoller = "poller"

// Poller is one Go polling sensor whose schedule invokes the poller
// function.
type Poller struct {
	Pack   string
	Sensor string // the sensor's reference
	Every  time.Duration
}

// PollerInput is what a polling sensor's schedule sends the poller
// function, as the CDK stack's schedules send it.
type PollerInput struct {
	Pack   string `json:"pack"`
	Sensor string `json:"sensor"`
	// ScheduledTime is Scheduler's <aws.scheduler.scheduled-time>, RFC
	// 3339: the poll's identity, so a retried invocation publishes nothing
	// twice.
	ScheduledTime string `json:"scheduled_time"`
}

// RunPollers stands in for the EventBridge Scheduler schedules of the
// polling sensors: every Every, each poller's fire invokes fn with a
// PollerInput (failures are logged; a poll missed while the function was
// busy is coalesced into the next, and the stack's rounding of intervals
// to whole minutes is not imitated). It returns when ctx ends.
func RunPollers(ctx context.Context, pollers []Poller, fn Function, clk clock.Clock, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	byID := map[string]Poller{}
	s := timer.NewScheduler(clk, func(ctx context.Context, ev timer.Event) {
		p := byID[ev.ID]
		payload, err := json.Marshal(PollerInput{Pack: p.Pack, Sensor: p.Sensor, ScheduledTime: ev.At.UTC().Format(time.RFC3339)})
		if err == nil {
			_, err = fn.Invoke(ctx, payload)
		}
		if err != nil && ctx.Err() == nil {
			log.Error("invoking the poller function", "sensor", p.Sensor, "at", ev.At, "err", err)
		}
	})
	for _, p := range pollers {
		if p.Every <= 0 {
			return fmt.Errorf("scheduling the poller of sensor %s: the interval %s is not positive", p.Sensor, p.Every)
		}
		byID[p.Sensor] = p
		if _, err := s.Add(p.Sensor, timer.Interval{Every: p.Every}, nil); err != nil {
			return fmt.Errorf("scheduling the poller of sensor %s: %w", p.Sensor, err)
		}
	}
	if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("running the pollers' schedules: %w", err)
	}
	return nil
}

// InquirySweepInput is what the stack's inquiry-sweep schedule sends the
// inquiry function.
const InquirySweepInput = `{"sweep":true}`

// InquirySweepEvery is the interval of the stack's inquiry-sweep schedule.
const InquirySweepEvery = time.Minute

// RunInquirySweep stands in for the stack's inquiry-sweep schedule: every
// minute it invokes fn (the inquiry function) with {"sweep": true}, which
// times out the inquiries nobody answered within their ttl (failures are
// logged; the next sweep comes a minute later). It returns when ctx ends.
func RunInquirySweep(ctx context.Context, fn Function, clk clock.Clock, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	s := timer.NewScheduler(clk, func(ctx context.Context, ev timer.Event) {
		if _, err := fn.Invoke(ctx, []byte(InquirySweepInput)); err != nil && ctx.Err() == nil {
			log.Error("invoking the inquiry function's sweep", "at", ev.At, "err", err)
		}
	})
	if _, err := s.Add("inquiry-sweep", timer.Interval{Every: InquirySweepEvery}, nil); err != nil {
		return fmt.Errorf("scheduling the inquiry sweep: %w", err)
	}
	if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("running the inquiry sweep's schedule: %w", err)
	}
	return nil
}
