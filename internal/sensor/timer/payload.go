package timer

import (
	"time"
)

// PayloadFunc builds the trigger payload of one fire at the scheduled time.
type PayloadFunc func(at time.Time) map[string]any

// ExecutedAtLayout is how executed_at is written: RFC 3339 in UTC, with
// the fraction only when there is one ("2026-11-29T22:30:00Z"), the form
// EventBridge Scheduler gives as <aws.scheduler.scheduled-time>.
const ExecutedAtLayout = time.RFC3339Nano

// TimerPayload returns the payload function of st2's timers: every fire
// emits {"executed_at": <scheduled time, RFC 3339 UTC>, "schedule":
// <the timer's trigger parameters>}.
//
// st2 writes executed_at as Python's str() of the actual time and sends
// "schedule": null (it reads a "time" parameter that no timer has); BWC
// sends the scheduled time, in the date-time form TIMER_PAYLOAD_SCHEMA
// declares, and the parameters object that schema's type asks for, so the
// embedded engine and the AWS timer Lambda emit the same payload.
func TimerPayload(params map[string]any) PayloadFunc {
	sched := copyParams(params)
	return func(at time.Time) map[string]any {
		return map[string]any{
			"executed_at": at.UTC().Format(ExecutedAtLayout),
			"schedule":    copyParams(sched),
		}
	}
}

func copyParams(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}
