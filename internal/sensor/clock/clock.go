// Package clock is the time source the sensor building blocks are given:
// the system clock in production and a [Fake] in tests, so that timers,
// signature tolerances and replay windows run instantly and
// deterministically.
//
// Concurrency: every Clock and Timer in this package is safe for concurrent
// use. A [Fake] only moves when a test calls [Fake.Advance] or [Fake.Set].
package clock

import "time"

// Clock tells the time and makes timers.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that sends the clock's time on its channel
	// once d has elapsed (at once when d <= 0).
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer made by a Clock.
type Timer interface {
	// C is the channel the firing time is sent on (once; buffered).
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether the call
	// stopped the timer (false when it had already fired or been stopped).
	Stop() bool
}

// System returns the real clock (time.Now, time.NewTimer).
func System() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (s systemTimer) C() <-chan time.Time { return s.t.C }
func (s systemTimer) Stop() bool          { return s.t.Stop() }
