package store

import "time"

// Retention is how long each record type is kept after it is created. A
// negative duration keeps records forever. Key-value pairs expire only when
// they carry their own ExpiresAt; API keys never expire.
type Retention struct {
	TriggerInstances time.Duration
	Enforcements     time.Duration
	Executions       time.Duration // and their output
	Inquiries        time.Duration
}

// DefaultRetention is the retention when none is configured.
var DefaultRetention = Retention{
	TriggerInstances: 30 * 24 * time.Hour,
	Enforcements:     30 * 24 * time.Hour,
	Executions:       90 * 24 * time.Hour,
	Inquiries:        90 * 24 * time.Hour,
}

func (r Retention) withDefaults() Retention {
	if r.TriggerInstances == 0 {
		r.TriggerInstances = DefaultRetention.TriggerInstances
	}
	if r.Enforcements == 0 {
		r.Enforcements = DefaultRetention.Enforcements
	}
	if r.Executions == 0 {
		r.Executions = DefaultRetention.Executions
	}
	if r.Inquiries == 0 {
		r.Inquiries = DefaultRetention.Inquiries
	}
	return r
}

// expiry returns from+d, or the zero time when d is negative (keep forever).
func expiry(from time.Time, d time.Duration) time.Time {
	if d < 0 {
		return time.Time{}
	}
	return from.Add(d)
}

// Expired reports whether a record with the given expiry is gone at now.
func Expired(expiresAt, now time.Time) bool {
	return !expiresAt.IsZero() && !now.Before(expiresAt)
}
