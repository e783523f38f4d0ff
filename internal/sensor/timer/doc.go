// Package timer implements the core pack's timer sensors — st2's
// core.IntervalTimer, core.CronTimer and core.DateTimer — for both
// engines: schedules parsed from a rule's trigger parameters, their next
// fire times (time zones and daylight-saving changes included), a
// Scheduler loop that fires them on an injected clock in the embedded
// engine, and their conversion to EventBridge Scheduler expressions for
// AWS.
//
// # Parameters
//
// The parameters are st2's (see docs/sensors.md):
//
//	core.IntervalTimer  unit: weeks|days|hours|minutes|seconds, delta: integer (timezone accepted, unused)
//	core.CronTimer      timezone, year, month, day, week, day_of_week, hour, minute, second
//	core.DateTimer      date, timezone
//
// CronTimer fields follow APScheduler's CronTrigger, which st2 uses: every
// field must match (day and day_of_week are ANDed, unlike Unix cron),
// day_of_week counts from 0 = Monday, fields above the least significant
// given one default to "*" and those below to their minimum.
//
// # Time zones
//
// Time zone names are IANA names loaded with time.LoadLocation; the host
// binary should import time/tzdata when the machine may lack a zoneinfo
// database (Lambda images). A missing timezone means UTC (st2 uses its
// configured local zone; EventBridge Scheduler defaults to UTC).
//
// # Concurrency
//
// Schedules (Interval, *Cron, Date, DateTimer) are immutable after they are
// built and safe for concurrent use. Scheduler methods are safe for
// concurrent use; Run delivers events from one goroutine, one at a time.
package timer
