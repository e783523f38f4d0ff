package timer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/sensor/clock"
)

// harness runs a Scheduler on a fake clock and collects its events.
type harness struct {
	t      *testing.T
	ctx    context.Context
	clk    *clock.Fake
	s      *Scheduler
	events chan Event
	done   chan error
}

func newHarness(t *testing.T, start time.Time) *harness {
	t.Helper()
	// The deadline only guards against a hang; no assertion depends on it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	h := &harness{t: t, ctx: ctx, clk: clock.NewFake(start), events: make(chan Event, 100), done: make(chan error, 1)}
	h.s = NewScheduler(h.clk, func(_ context.Context, ev Event) { h.events <- ev })
	go func() { h.done <- h.s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-h.done
	})
	return h
}

// fireAt waits until the scheduler has armed a timer for at, moves the
// clock there and returns the event that follows.
func (h *harness) fireAt(at time.Time) Event {
	h.t.Helper()
	if err := h.clk.WaitDeadline(h.ctx, at); err != nil {
		h.t.Fatal(err)
	}
	h.clk.Set(at)
	return h.next()
}

func (h *harness) next() Event {
	h.t.Helper()
	select {
	case ev := <-h.events:
		return ev
	case <-h.ctx.Done():
		h.t.Fatal("no event")
	}
	return Event{}
}

// quiet checks that no event is pending once the scheduler is idle again
// (waiting on a timer for next).
func (h *harness) quiet(next time.Time) {
	h.t.Helper()
	if err := h.clk.WaitDeadline(h.ctx, next); err != nil {
		h.t.Fatal(err)
	}
	select {
	case ev := <-h.events:
		h.t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

func TestSchedulerInterval(t *testing.T) {
	start := utc("2026-11-29T22:00:00Z")
	h := newHarness(t, start)
	params := map[string]any{"unit": "seconds", "delta": 30}
	iv, err := ParseInterval(params)
	if err != nil {
		t.Fatal(err)
	}
	first, err := h.s.Add("rule1", iv, TimerPayload(params))
	if err != nil {
		t.Fatal(err)
	}
	if want := start.Add(30 * time.Second); !first.Equal(want) {
		t.Fatalf("first fire %v, want %v (one interval after Add, as st2)", first, want)
	}
	for i := 1; i <= 3; i++ {
		at := start.Add(time.Duration(i) * 30 * time.Second)
		ev := h.fireAt(at)
		if ev.ID != "rule1" || !ev.At.Equal(at) || ev.Missed != 0 {
			t.Fatalf("fire %d: %+v", i, ev)
		}
		if got := ev.Payload["executed_at"]; got != at.Format(time.RFC3339) {
			t.Errorf("executed_at = %v, want %v", got, at.Format(time.RFC3339))
		}
		if sched, _ := ev.Payload["schedule"].(map[string]any); sched["unit"] != "seconds" {
			t.Errorf("schedule = %v", ev.Payload["schedule"])
		}
	}
	h.quiet(start.Add(120 * time.Second))
}

func TestSchedulerRemove(t *testing.T) {
	start := utc("2026-11-29T22:00:00Z")
	h := newHarness(t, start)
	every := func(d time.Duration) Interval { return Interval{Every: d} }
	if _, err := h.s.Add("a", every(10*time.Second), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Add("b", every(15*time.Second), nil); err != nil {
		t.Fatal(err)
	}
	if ev := h.fireAt(start.Add(10 * time.Second)); ev.ID != "a" {
		t.Fatalf("got %+v, want a", ev)
	}
	if !h.s.Remove("a") {
		t.Fatal("Remove(a) = false")
	}
	if h.s.Remove("a") {
		t.Fatal("second Remove(a) = true")
	}
	if ev := h.fireAt(start.Add(15 * time.Second)); ev.ID != "b" {
		t.Fatalf("got %+v, want b", ev)
	}
	// a would have fired at 20s; b fires at 30s and nothing else comes.
	if ev := h.fireAt(start.Add(30 * time.Second)); ev.ID != "b" || !ev.At.Equal(start.Add(30*time.Second)) {
		t.Fatalf("got %+v, want b at 30s", ev)
	}
	h.quiet(start.Add(45 * time.Second))
	if h.s.Len() != 1 {
		t.Errorf("Len = %d, want 1", h.s.Len())
	}
}

func TestSchedulerDateAndCron(t *testing.T) {
	start := utc("2026-11-29T22:00:00Z")
	h := newHarness(t, start)
	d, err := ParseDate(map[string]any{"date": "2026-11-29 22:05:00"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Add("once", d, nil); err != nil {
		t.Fatal(err)
	}
	c, err := ParseCron(map[string]any{"minute": "*/10"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Add("cron", c, nil); err != nil {
		t.Fatal(err)
	}
	if ev := h.fireAt(utc("2026-11-29T22:05:00Z")); ev.ID != "once" {
		t.Fatalf("got %+v", ev)
	}
	if _, ok := h.s.Next("once"); ok {
		t.Error("a fired DateTimer stays scheduled")
	}
	if ev := h.fireAt(utc("2026-11-29T22:10:00Z")); ev.ID != "cron" {
		t.Fatalf("got %+v", ev)
	}
	h.quiet(utc("2026-11-29T22:20:00Z"))

	// An expired date is refused, as st2 does not schedule it.
	past, _ := ParseDate(map[string]any{"date": "2026-11-29 21:00:00"})
	if _, err := h.s.Add("past", past, nil); !errors.Is(err, ErrNoNextFire) {
		t.Errorf("Add(expired date) error %v, want ErrNoNextFire", err)
	}
}

func TestSchedulerCoalescesMissedFires(t *testing.T) {
	start := utc("2026-11-29T22:00:00Z")
	h := newHarness(t, start)
	if _, err := h.s.Add("m", Interval{Every: time.Minute}, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.clk.WaitDeadline(h.ctx, start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// The machine sleeps for an hour and a half minute.
	h.clk.Set(start.Add(60*time.Minute + 30*time.Second))
	ev := h.next()
	if !ev.At.Equal(start.Add(60*time.Minute)) || ev.Missed != 59 {
		t.Fatalf("got %+v, want one event at +60m with 59 missed", ev)
	}
	if ev := h.fireAt(start.Add(61 * time.Minute)); ev.Missed != 0 {
		t.Fatalf("got %+v", ev)
	}
}

func TestSchedulerReplace(t *testing.T) {
	start := utc("2026-11-29T22:00:00Z")
	h := newHarness(t, start)
	if _, err := h.s.Add("r", Interval{Every: time.Hour}, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.clk.WaitDeadline(h.ctx, start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Replacing the entry re-arms the loop's timer for the new schedule.
	if _, err := h.s.Add("r", Interval{Every: time.Minute}, func(at time.Time) map[string]any { return map[string]any{"v": 2} }); err != nil {
		t.Fatal(err)
	}
	ev := h.fireAt(start.Add(time.Minute))
	if ev.ID != "r" || ev.Payload["v"] != 2 {
		t.Fatalf("got %+v", ev)
	}
	if h.s.Len() != 1 {
		t.Errorf("Len = %d", h.s.Len())
	}
}

func TestSchedulerAddErrors(t *testing.T) {
	s := NewScheduler(clock.NewFake(time.Unix(0, 0)), func(context.Context, Event) {})
	if _, err := s.Add("", Interval{Every: time.Second}, nil); err == nil {
		t.Error("empty id accepted")
	}
	if _, err := s.Add("x", nil, nil); err == nil {
		t.Error("nil schedule accepted")
	}
}

func TestSchedulerRunOnce(t *testing.T) {
	h := newHarness(t, time.Unix(0, 0))
	if _, err := h.s.Add("x", Interval{Every: time.Hour}, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.clk.WaitDeadline(h.ctx, time.Unix(3600, 0)); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Run(h.ctx); err == nil {
		t.Error("a second concurrent Run returned nil")
	}
}

// TestSchedulerRemoveDuringDelivery removes an entry that is due at the
// same wake as the one being delivered: it must not be delivered.
func TestSchedulerRemoveDuringDelivery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Unix(0, 0)
	clk := clock.NewFake(start)
	events := make(chan Event, 10)
	var s *Scheduler
	s = NewScheduler(clk, func(_ context.Context, ev Event) {
		if ev.ID == "a" {
			s.Remove("b")
		}
		events <- ev
	})
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.Add(id, Interval{Every: time.Minute}, nil); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if err := clk.WaitDeadline(ctx, start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	clk.Set(start.Add(time.Minute))
	var got []string
	for range 2 {
		got = append(got, (<-events).ID)
	}
	// The loop is idle again once it waits for the next minute.
	if err := clk.WaitDeadline(ctx, start.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		got = append(got, ev.ID)
	default:
	}
	if len(got) != 2 || got[0] != "a" || got[1] != "c" {
		t.Errorf("delivered %v, want [a c]", got)
	}
	cancel()
	<-done
}
