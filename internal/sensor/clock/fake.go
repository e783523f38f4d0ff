package clock

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Fake is a manual clock for tests. Its time moves only when Advance or Set
// is called; timers whose deadline is reached then fire, in deadline order.
// WaitTimers lets a test wait until the code under test has armed its
// timers, so no test needs to sleep.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{} // closed and replaced whenever the set of timers changes
}

var _ Clock = (*Fake)(nil)

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer arms a timer that fires when the fake time reaches Now()+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, deadline: f.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- f.now
		t.done = true
		return t
	}
	f.timers = append(f.timers, t)
	f.notifyLocked()
	return t
}

// Advance moves the fake time forward by d and fires every timer that is
// due, in deadline order.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("clock.Fake.Advance(%v): the fake clock cannot go backwards", d))
	}
	f.Set(f.Now().Add(d))
}

// Set moves the fake time to t (which must not be before Now) and fires
// every timer that is due, in deadline order.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.Before(f.now) {
		panic(fmt.Sprintf("clock.Fake.Set(%v): before the fake time %v", t, f.now))
	}
	f.now = t
	sort.SliceStable(f.timers, func(i, j int) bool { return f.timers[i].deadline.Before(f.timers[j].deadline) })
	kept := f.timers[:0]
	fired := false
	for _, tm := range f.timers {
		if !tm.deadline.After(t) {
			tm.c <- t
			tm.done = true
			fired = true
			continue
		}
		kept = append(kept, tm)
	}
	f.timers = kept
	if fired {
		f.notifyLocked()
	}
}

// Timers returns how many timers are armed (not yet fired nor stopped).
func (f *Fake) Timers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// NextDeadline returns the earliest deadline of the armed timers.
func (f *Fake) NextDeadline() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.timers) == 0 {
		return time.Time{}, false
	}
	earliest := f.timers[0].deadline
	for _, t := range f.timers[1:] {
		if t.deadline.Before(earliest) {
			earliest = t.deadline
		}
	}
	return earliest, true
}

// WaitTimers blocks until exactly n timers are armed, or ctx ends.
func (f *Fake) WaitTimers(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		got, ch := len(f.timers), f.changed
		f.mu.Unlock()
		if got == n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d armed fake timers (have %d): %w", n, got, ctx.Err())
		}
	}
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

type fakeTimer struct {
	f        *Fake
	deadline time.Time
	c        chan time.Time
	done     bool // fired or stopped; guarded by f.mu
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	for i, x := range t.f.timers {
		if x == t {
			t.f.timers = append(t.f.timers[:i], t.f.timers[i+1:]...)
			break
		}
	}
	t.f.notifyLocked()
	return true
}

// WaitDeadline blocks until a timer is armed with deadline t, or ctx ends.
func (f *Fake) WaitDeadline(ctx context.Context, t time.Time) error {
	for {
		f.mu.Lock()
		found := false
		for _, tm := range f.timers {
			if tm.deadline.Equal(t) {
				found = true
				break
			}
		}
		ch := f.changed
		f.mu.Unlock()
		if found {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for a fake timer due at %v: %w", t, ctx.Err())
		}
	}
}
