package timer

import (
	"time"
)

// Schedule says when a timer fires.
type Schedule interface {
	// Next returns the first fire time strictly after after, and false when
	// the schedule never fires again.
	Next(after time.Time) (time.Time, bool)
}

var (
	_ Schedule = Interval{}
	_ Schedule = (*Cron)(nil)
	_ Schedule = Date{}
)

// Interval fires every Every, starting at Start: at Start, Start+Every,
// Start+2·Every, ... Durations are elapsed time (a day is 24 hours, across
// daylight-saving changes too), as APScheduler and EventBridge Scheduler's
// rate() count them.
//
// An Interval with a zero Start is anchored by [Scheduler.Add], which sets
// Start to one interval after the time it is added (st2's IntervalTimer
// first fires one interval after it is created). Next on an unanchored
// Interval counts from after itself.
type Interval struct {
	Every time.Duration
	Start time.Time
	// Unit and Delta are the IntervalTimer parameters it was made from
	// (for EventBridge rate expressions); zero when built by hand.
	Unit  string
	Delta int64
}

// Anchored returns the interval with Start set to now+Every when it has no
// Start yet.
func (i Interval) Anchored(now time.Time) Interval {
	if i.Start.IsZero() {
		i.Start = now.Add(i.Every)
	}
	return i
}

// Next returns the first Start + k·Every (k >= 0) strictly after after.
func (i Interval) Next(after time.Time) (time.Time, bool) {
	if i.Every <= 0 {
		return time.Time{}, false
	}
	if i.Start.IsZero() {
		return after.Add(i.Every), true
	}
	if after.Before(i.Start) {
		return i.Start, true
	}
	k := after.Sub(i.Start)/i.Every + 1
	return i.Start.Add(k * i.Every), true
}

// Date fires once, at At.
type Date struct {
	At time.Time
}

// Next returns At when it is after after.
func (d Date) Next(after time.Time) (time.Time, bool) {
	if d.At.After(after) {
		return d.At, true
	}
	return time.Time{}, false
}
