package timer

import (
	"errors"
	"strings"
	"testing"
)

func TestEventBridgeSchedule(t *testing.T) {
	tests := []struct {
		ref    string
		params map[string]any
		expr   string
		tz     string
		err    string // substring; the error must wrap ErrNotExpressible
	}{
		{ref: IntervalTimerRef, params: map[string]any{"unit": "minutes", "delta": 1}, expr: "rate(1 minute)"},
		{ref: IntervalTimerRef, params: map[string]any{"unit": "minutes", "delta": 90}, expr: "rate(90 minutes)"},
		{ref: IntervalTimerRef, params: map[string]any{"unit": "seconds", "delta": 120}, expr: "rate(2 minutes)"},
		{ref: IntervalTimerRef, params: map[string]any{"unit": "hours", "delta": 3}, expr: "rate(3 hours)"},
		{ref: IntervalTimerRef, params: map[string]any{"unit": "days", "delta": 1}, expr: "rate(1 day)"},
		{ref: IntervalTimerRef, params: map[string]any{"unit": "weeks", "delta": 2}, expr: "rate(14 days)"},
		{ref: IntervalTimerRef, params: map[string]any{"unit": "seconds", "delta": 30}, err: "rates are whole minutes"},
		{ref: CronTimerRef, params: map[string]any{"hour": 5}, expr: "cron(0 5 * * ? *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"hour": 5, "timezone": "utc"}, expr: "cron(0 5 * * ? *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"day": "*/7"}, expr: "cron(0 0 1/7 * ? *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"year": "*/2", "month": 1}, expr: "cron(0 0 1 1 ? 1970/2)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"minute": "*/15", "timezone": "Europe/Paris"}, expr: "cron(0/15 * * * ? *)", tz: "Europe/Paris"},
		{ref: CronTimerRef, params: map[string]any{"day_of_week": "mon-fri", "hour": 9, "minute": 30}, expr: "cron(30 9 ? * MON-FRI *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"day_of_week": "sat,sun,mon", "hour": 9}, expr: "cron(0 9 ? * SUN,MON,SAT *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"day_of_week": 6}, expr: "cron(0 0 ? * SUN *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"day": "1,15", "hour": "8-18"}, expr: "cron(0 8-18 1,15 * ? *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"day": "last"}, expr: "cron(0 0 L * ? *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"day": "last fri", "hour": 17}, expr: "cron(0 17 ? * 6L *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"day": "2nd tue"}, expr: "cron(0 0 ? * 3#2 *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"month": "jan,apr,jul,oct", "day": 1}, expr: "cron(0 0 1 1/3 ? *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"year": "2027-2030", "month": 6}, expr: "cron(0 0 1 6 ? 2027-2030)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"minute": "1,2,3,10"}, expr: "cron(1-3,10 * * * ? *)", tz: "UTC"},
		{ref: CronTimerRef, params: map[string]any{"second": 30}, err: `second="30": EventBridge Scheduler fires at second 0 only`},
		{ref: CronTimerRef, params: map[string]any{}, err: `second="*"`},
		{ref: CronTimerRef, params: map[string]any{"week": 10}, err: `week="10": EventBridge cron has no ISO week field`},
		{ref: CronTimerRef, params: map[string]any{"day": 13, "day_of_week": "fri"}, err: `day="13" and day_of_week="fri" are both restricted`},
		{ref: CronTimerRef, params: map[string]any{"day": "last,15"}, err: `must stand alone`},
		{ref: CronTimerRef, params: map[string]any{"year": 2300}, err: `EventBridge Scheduler accepts years 1970-2199`},
		{ref: DateTimerRef, params: map[string]any{"date": "2026-12-31 23:59:59"}, expr: "at(2026-12-31T23:59:59)", tz: "UTC"},
		{ref: DateTimerRef, params: map[string]any{"date": "2026-12-31T23:59:59Z", "timezone": "Asia/Tokyo"}, expr: "at(2027-01-01T08:59:59)", tz: "Asia/Tokyo"},
	}
	for _, tt := range tests {
		s, err := Parse(tt.ref, tt.params)
		if err != nil {
			t.Fatalf("Parse(%s, %v): %v", tt.ref, tt.params, err)
		}
		got, err := EventBridgeSchedule(s)
		if tt.err != "" {
			if !errors.Is(err, ErrNotExpressible) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %v: error %v, want %q wrapping ErrNotExpressible", tt.ref, tt.params, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %v: %v", tt.ref, tt.params, err)
			continue
		}
		if got.Expression != tt.expr || got.Timezone != tt.tz {
			t.Errorf("%s %v = %q (tz %q), want %q (tz %q)", tt.ref, tt.params, got.Expression, got.Timezone, tt.expr, tt.tz)
		}
	}
}
