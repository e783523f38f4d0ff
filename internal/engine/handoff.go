package engine

import (
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/sensor/clock"
	"github.com/bwc-project/bwc/internal/sensor/timer"
)

// Hand-offs to the local cloud (`bwc serve --aws`): when a Lambda
// function does what the engine would do in-process, the engine must not
// do it too, or every timer would fire twice and every polling sensor
// would run twice. Call them between Open and Run.

// HandOffTimers stops the engine from firing the rules' timers itself:
// the local cloud's schedules invoke the timer function instead (as
// EventBridge Scheduler does on AWS). Timers still counts the timers the
// rules declare.
func (e *Engine) HandOffTimers() {
	e.sched = timer.NewScheduler(clock.System(), e.fireTimer)
}

// HandOffSensors stops the engine from running the packs' Go polling
// sensors and returns them, for the local cloud to invoke the poller
// function for each at its poll interval (as the stack's schedules do).
// Sensors still lists them.
func (e *Engine) HandOffSensors() []*pack.Sensor {
	s := e.sensors.sensors
	e.sensors.sensors = nil
	return s
}

// PollInterval is the interval, in seconds, at which a polling sensor
// polls: its poll_interval, or the sensor SDK's default.
func PollInterval(s *pack.Sensor) int { return pollInterval(s) }
