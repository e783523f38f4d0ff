package timer

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseInterval(t *testing.T) {
	tests := []struct {
		params map[string]any
		want   time.Duration
		err    string
	}{
		{params: map[string]any{"unit": "seconds", "delta": 30}, want: 30 * time.Second},
		{params: map[string]any{"unit": "minutes", "delta": json.Number("5")}, want: 5 * time.Minute},
		{params: map[string]any{"unit": "hours", "delta": 2.0}, want: 2 * time.Hour},
		{params: map[string]any{"unit": "days", "delta": int64(1), "timezone": "UTC"}, want: 24 * time.Hour},
		{params: map[string]any{"unit": "weeks", "delta": 2}, want: 14 * 24 * time.Hour},
		{params: map[string]any{"delta": 2}, err: `parameter "unit" is required`},
		{params: map[string]any{"unit": "fortnights", "delta": 2}, err: `parameter "unit": got "fortnights", expected one of weeks, days, hours, minutes, seconds`},
		{params: map[string]any{"unit": "hours"}, err: `parameter "delta" is required`},
		{params: map[string]any{"unit": "hours", "delta": "5"}, err: `parameter "delta": got "5", expected a positive integer`},
		{params: map[string]any{"unit": "hours", "delta": 0}, err: `parameter "delta": got 0, expected a positive integer`},
		{params: map[string]any{"unit": "hours", "delta": 1.5}, err: `parameter "delta": got 1.5`},
		{params: map[string]any{"unit": "hours", "delta": 1, "every": 3}, err: `unknown parameter "every"`},
		{params: map[string]any{"unit": "weeks", "delta": 1 << 40}, err: `too long an interval`},
	}
	for _, tt := range tests {
		iv, err := ParseInterval(tt.params)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseInterval(%v) error %v, want %q", tt.params, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseInterval(%v): %v", tt.params, err)
			continue
		}
		if iv.Every != tt.want {
			t.Errorf("ParseInterval(%v).Every = %v, want %v", tt.params, iv.Every, tt.want)
		}
	}
}

func TestIntervalNext(t *testing.T) {
	start := utc("2026-01-01T00:00:00Z")
	iv := Interval{Every: 90 * time.Second}.Anchored(start)
	if !iv.Start.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("anchored Start = %v", iv.Start)
	}
	got := fires(t, iv, start, 3)
	want := []string{"2026-01-01T00:01:30Z", "2026-01-01T00:03:00Z", "2026-01-01T00:04:30Z"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
	// Next from an arbitrary time lands on the grid.
	if n, _ := iv.Next(utc("2026-01-01T01:00:10Z")); !n.Equal(utc("2026-01-01T01:01:30Z")) {
		t.Errorf("Next off-grid = %v", n)
	}
	// A day is 24 hours even across a DST change.
	ny := mustLoc(t, "America/New_York")
	d := Interval{Every: 24 * time.Hour, Start: time.Date(2026, 3, 7, 12, 0, 0, 0, ny)}
	if n, _ := d.Next(d.Start); n.In(ny).Hour() != 13 {
		t.Errorf("24h after noon EST across spring-forward = %v, want 13:00 EDT", n.In(ny))
	}
}

func TestParseDate(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		params map[string]any
		want   time.Time
		err    string
	}{
		{params: map[string]any{"date": "2026-12-31 23:59:59"}, want: utc("2026-12-31T23:59:59Z")},
		{params: map[string]any{"date": "2026-12-31T23:59:59Z", "timezone": "America/New_York"}, want: utc("2026-12-31T23:59:59Z")},
		{params: map[string]any{"date": "2026-12-31T23:59:59+01:00"}, want: utc("2026-12-31T22:59:59Z")},
		{params: map[string]any{"date": "2026-12-31 08:00", "timezone": "America/New_York"}, want: time.Date(2026, 12, 31, 8, 0, 0, 0, ny)},
		{params: map[string]any{"date": "2026-12-31"}, want: utc("2026-12-31T00:00:00Z")},
		{params: map[string]any{"date": "2026-11-01 01:30:00", "timezone": "America/New_York"}, want: utc("2026-11-01T05:30:00Z")},
		{params: map[string]any{"date": "2026-03-08 02:30:00", "timezone": "America/New_York"}, err: `"2026-03-08 02:30:00" does not exist in America/New_York`},
		{params: map[string]any{"date": "31/12/2026"}, err: `parameter "date": cannot parse "31/12/2026"`},
		{params: map[string]any{"date": 20261231}, err: `parameter "date": got 20261231, expected a date-time string`},
		{params: map[string]any{}, err: `parameter "date" is required`},
		{params: map[string]any{"date": "2026-12-31", "tz": "UTC"}, err: `unknown parameter "tz"`},
	}
	for _, tt := range tests {
		d, err := ParseDate(tt.params)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDate(%v) error %v, want %q", tt.params, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDate(%v): %v", tt.params, err)
			continue
		}
		if !d.At.Equal(tt.want) {
			t.Errorf("ParseDate(%v).At = %v, want %v", tt.params, d.At, tt.want)
		}
		if _, ok := d.Next(tt.want); ok {
			t.Errorf("a date fires once: Next(at) must be false")
		}
		if n, ok := d.Next(tt.want.Add(-time.Nanosecond)); !ok || !n.Equal(tt.want) {
			t.Errorf("Next(just before) = %v, %v", n, ok)
		}
	}
}

func TestParse(t *testing.T) {
	for _, ref := range []string{"core.IntervalTimer", "core.st2.IntervalTimer"} {
		s, err := Parse(ref, map[string]any{"unit": "seconds", "delta": 1})
		if err != nil {
			t.Fatalf("Parse(%s): %v", ref, err)
		}
		if _, ok := s.(Interval); !ok {
			t.Errorf("Parse(%s) = %T", ref, s)
		}
	}
	if s, err := Parse("core.CronTimer", nil); err != nil || s == nil {
		t.Errorf("Parse(core.CronTimer, nil) = %v, %v", s, err)
	}
	if _, err := Parse("core.st2.DateTimer", map[string]any{"date": "2030-01-01"}); err != nil {
		t.Errorf("Parse(core.st2.DateTimer): %v", err)
	}
	if _, err := Parse("core.webhook", nil); !errors.Is(err, ErrUnknownTimer) {
		t.Errorf("Parse(core.webhook) error %v, want ErrUnknownTimer", err)
	}
	if !IsTimer("core.CronTimer") || IsTimer("core.webhook") {
		t.Error("IsTimer")
	}
}

func TestTimerPayload(t *testing.T) {
	params := map[string]any{"unit": "seconds", "delta": 30}
	p := TimerPayload(params)
	params["delta"] = 99 // the payload keeps the parameters it was given
	got := p(time.Date(2026, 11, 29, 23, 30, 0, 0, time.FixedZone("X", 3600)))
	if got["executed_at"] != "2026-11-29T22:30:00Z" {
		t.Errorf("executed_at = %v", got["executed_at"])
	}
	sched, ok := got["schedule"].(map[string]any)
	if !ok || sched["unit"] != "seconds" || sched["delta"] != 30 {
		t.Errorf("schedule = %#v", got["schedule"])
	}
	got2 := p(time.Date(2026, 11, 29, 22, 30, 0, 500_000_000, time.UTC))
	if got2["executed_at"] != "2026-11-29T22:30:00.5Z" {
		t.Errorf("executed_at with fraction = %v", got2["executed_at"])
	}
}
