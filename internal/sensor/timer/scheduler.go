package timer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/sensor/clock"
)

// ErrNoNextFire is returned by Scheduler.Add for a schedule that will
// never fire again (a DateTimer in the past: st2 does not schedule
// expired timers either).
var ErrNoNextFire = errors.New("the schedule has no future fire time")

// maxCoalesced bounds the walk over missed fire times after the clock
// jumped (a laptop woken from sleep).
const maxCoalesced = 100_000

// Event is one timer fire.
type Event struct {
	ID      string         // the id given to Add
	At      time.Time      // the scheduled fire time
	Payload map[string]any // built by the entry's PayloadFunc (nil without one)
	// Missed counts the earlier fire times that were due at the same wake
	// and coalesced into this event (the clock jumped past them).
	Missed int
}

// Scheduler fires timers on an injected clock. Add and Remove may be
// called at any time, from any goroutine, before or while Run runs; Run
// delivers each fire to the emit function, one at a time, from its own
// goroutine.
//
// When the clock jumps past several fire times of one entry (a suspended
// machine), they are coalesced into one event for the latest of them
// (Event.Missed counts the others); the next fire is the first one after
// the wake. APScheduler, in st2, coalesces too but drops runs more than
// its one-second misfire grace time late.
type Scheduler struct {
	clk  clock.Clock
	emit func(context.Context, Event)

	mu      sync.Mutex
	entries map[string]*entry
	wake    chan struct{} // capacity 1: "the entries changed"
	running bool
}

type entry struct {
	id        string
	sched     Schedule
	payload   PayloadFunc
	next      time.Time
	cancelled bool // removed or replaced; guarded by Scheduler.mu
}

// NewScheduler returns a scheduler that reads time from clk and calls emit
// for every fire.
func NewScheduler(clk clock.Clock, emit func(context.Context, Event)) *Scheduler {
	return &Scheduler{clk: clk, emit: emit, entries: map[string]*entry{}, wake: make(chan struct{}, 1)}
}

// Add schedules sched under id, replacing any entry with that id, and
// returns its first fire time. An [Interval] without a Start is anchored
// now (first fire one interval from now). It fails, wrapping
// ErrNoNextFire, when the schedule never fires after now.
func (s *Scheduler) Add(id string, sched Schedule, payload PayloadFunc) (time.Time, error) {
	if id == "" {
		return time.Time{}, errors.New("adding a timer: empty id")
	}
	if sched == nil {
		return time.Time{}, fmt.Errorf("adding timer %q: nil schedule", id)
	}
	now := s.clk.Now()
	if iv, ok := sched.(Interval); ok {
		sched = iv.Anchored(now)
	}
	next, ok := sched.Next(now)
	if !ok {
		return time.Time{}, fmt.Errorf("adding timer %q: %w", id, ErrNoNextFire)
	}
	s.mu.Lock()
	if old, ok := s.entries[id]; ok {
		old.cancelled = true
	}
	s.entries[id] = &entry{id: id, sched: sched, payload: payload, next: next}
	s.mu.Unlock()
	s.poke()
	return next, nil
}

// Remove unschedules id and reports whether it was scheduled. Once it
// returns, no event of id is delivered, except one whose delivery (the
// emit call) had already started.
func (s *Scheduler) Remove(id string) bool {
	s.mu.Lock()
	e, ok := s.entries[id]
	if ok {
		e.cancelled = true
		delete(s.entries, id)
	}
	s.mu.Unlock()
	if ok {
		s.poke()
	}
	return ok
}

// Next returns the next fire time of id.
func (s *Scheduler) Next(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return time.Time{}, false
	}
	return e.next, true
}

// Len returns the number of scheduled entries.
func (s *Scheduler) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run fires the scheduled timers until ctx ends, then returns ctx's error.
// It may run only once at a time.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("timer scheduler: Run is already running")
	}
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()

	for {
		for _, f := range s.due(s.clk.Now()) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.mu.Lock()
			cancelled := f.e.cancelled
			s.mu.Unlock()
			if !cancelled {
				s.emit(ctx, f.ev)
			}
		}
		next, ok := s.earliest()
		var timer clock.Timer
		var fired <-chan time.Time
		if ok {
			timer = s.clk.NewTimer(next.Sub(s.clk.Now()))
			fired = timer.C()
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return ctx.Err()
		case <-s.wake:
			if timer != nil {
				timer.Stop()
			}
		case <-fired:
		}
	}
}

func (s *Scheduler) earliest() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best time.Time
	found := false
	for _, e := range s.entries {
		if !found || e.next.Before(best) {
			best, found = e.next, true
		}
	}
	return best, found
}

type firing struct {
	ev Event
	e  *entry
}

// due advances every entry whose fire time has come and returns their
// events, in fire-time order (ties by id).
func (s *Scheduler) due(now time.Time) []firing {
	s.mu.Lock()
	var out []firing
	for _, e := range s.entries {
		if e.next.After(now) {
			continue
		}
		at, missed := e.next, 0
		for missed < maxCoalesced {
			n, ok := e.sched.Next(at)
			if !ok || n.After(now) {
				break
			}
			at, missed = n, missed+1
		}
		out = append(out, firing{ev: Event{ID: e.id, At: at, Missed: missed}, e: e})
		if n, ok := e.sched.Next(now); ok {
			e.next = n
		} else {
			delete(s.entries, e.id) // fired for the last time; not cancelled
		}
	}
	s.mu.Unlock()
	for i := range out {
		if p := out[i].e.payload; p != nil {
			out[i].ev.Payload = p(out[i].ev.At)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].ev, out[j].ev
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return a.ID < b.ID
	})
	return out
}
