package clock

import (
	"context"
	"testing"
	"time"
)

func TestFake(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	a := f.NewTimer(2 * time.Second)
	b := f.NewTimer(time.Second)
	c := f.NewTimer(3 * time.Second)
	if f.Timers() != 3 {
		t.Fatalf("Timers = %d", f.Timers())
	}
	if d, _ := f.NextDeadline(); !d.Equal(start.Add(time.Second)) {
		t.Fatalf("NextDeadline = %v", d)
	}
	f.Advance(1500 * time.Millisecond)
	select {
	case got := <-b.C():
		if !got.Equal(start.Add(1500 * time.Millisecond)) {
			t.Errorf("b fired with %v", got)
		}
	default:
		t.Fatal("b did not fire")
	}
	select {
	case <-a.C():
		t.Fatal("a fired early")
	default:
	}
	if !c.Stop() || c.Stop() {
		t.Error("Stop should report true once")
	}
	f.Advance(10 * time.Second)
	if _, ok := <-a.C(); !ok || b.Stop() {
		t.Error("a should have fired; b cannot be stopped after firing")
	}
	select {
	case <-c.C():
		t.Error("a stopped timer fired")
	default:
	}
	if f.Timers() != 0 {
		t.Errorf("Timers = %d after all fired or stopped", f.Timers())
	}
	if z := f.NewTimer(0); len(z.C()) != 1 {
		t.Error("a zero-duration timer fires at once")
	}
}

func TestFakeWait(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { f.NewTimer(time.Minute) }()
	if err := f.WaitTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitDeadline(ctx, time.Unix(60, 0)); err != nil {
		t.Fatal(err)
	}
	short, stop := context.WithCancel(context.Background())
	stop()
	if err := f.WaitTimers(short, 5); err == nil {
		t.Error("WaitTimers with a cancelled context returned nil")
	}
}

func TestFakeBackwardsPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Advance(-1) did not panic")
		}
	}()
	NewFake(time.Unix(0, 0)).Advance(-1)
}

func TestSystem(t *testing.T) {
	c := System()
	if c.Now().IsZero() {
		t.Error("zero time")
	}
	tm := c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Error("Stop of a pending system timer = false")
	}
}
