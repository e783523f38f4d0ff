package timer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The trigger types of the core pack's timers. st2 packs may also spell
// them core.st2.IntervalTimer, core.st2.CronTimer and core.st2.DateTimer;
// [Parse] accepts both.
const (
	IntervalTimerRef = "core.IntervalTimer"
	CronTimerRef     = "core.CronTimer"
	DateTimerRef     = "core.DateTimer"
)

// ErrUnknownTimer is returned by Parse for a trigger type that is not a timer.
var ErrUnknownTimer = errors.New("not a timer trigger type")

// IsTimer reports whether ref names one of the core timers.
func IsTimer(ref string) bool { return canonicalRef(ref) != "" }

func canonicalRef(ref string) string {
	switch ref {
	case IntervalTimerRef, "core.st2.IntervalTimer":
		return IntervalTimerRef
	case CronTimerRef, "core.st2.CronTimer":
		return CronTimerRef
	case DateTimerRef, "core.st2.DateTimer":
		return DateTimerRef
	}
	return ""
}

// Parse builds the schedule of a timer trigger from its rule's trigger
// parameters (as decoded from YAML or JSON). Errors name the parameter and
// say what was expected.
func Parse(ref string, params map[string]any) (Schedule, error) {
	switch canonicalRef(ref) {
	case IntervalTimerRef:
		return ParseInterval(params)
	case CronTimerRef:
		return ParseCron(params)
	case DateTimerRef:
		return ParseDate(params)
	}
	return nil, fmt.Errorf("trigger type %q: %w (expected %s, %s or %s)", ref, ErrUnknownTimer, IntervalTimerRef, CronTimerRef, DateTimerRef)
}

var intervalUnits = map[string]time.Duration{
	"weeks":   7 * 24 * time.Hour,
	"days":    24 * time.Hour,
	"hours":   time.Hour,
	"minutes": time.Minute,
	"seconds": time.Second,
}

// ParseInterval parses core.IntervalTimer parameters: unit (weeks, days,
// hours, minutes or seconds) and delta (a positive integer) are required;
// timezone is accepted, as st2 does, and has no effect on an interval.
func ParseInterval(params map[string]any) (Interval, error) {
	if err := checkKeys(params, "timezone", "unit", "delta"); err != nil {
		return Interval{}, err
	}
	if _, err := optString(params, "timezone"); err != nil {
		return Interval{}, err
	}
	unitV, ok := params["unit"]
	if !ok {
		return Interval{}, errors.New(`parameter "unit" is required (one of weeks, days, hours, minutes, seconds)`)
	}
	unit, _ := unitV.(string)
	per, ok := intervalUnits[unit]
	if !ok {
		return Interval{}, fmt.Errorf(`parameter "unit": got %s, expected one of weeks, days, hours, minutes, seconds`, describe(unitV))
	}
	deltaV, ok := params["delta"]
	if !ok {
		return Interval{}, errors.New(`parameter "delta" is required (a positive integer)`)
	}
	delta, ok := asInt(deltaV)
	if !ok || delta <= 0 {
		return Interval{}, fmt.Errorf(`parameter "delta": got %s, expected a positive integer`, describe(deltaV))
	}
	if delta > int64(math.MaxInt64/per) {
		return Interval{}, fmt.Errorf(`parameter "delta": %d %s is too long an interval`, delta, unit)
	}
	return Interval{Every: time.Duration(delta) * per, Unit: unit, Delta: delta}, nil
}

// ParseCron parses core.CronTimer parameters: timezone (an IANA name,
// default UTC) and the APScheduler fields year, month, day, week,
// day_of_week, hour, minute and second, each an integer or an expression
// string.
func ParseCron(params map[string]any) (*Cron, error) {
	if err := checkKeys(params, append([]string{"timezone"}, fieldNames[:]...)...); err != nil {
		return nil, err
	}
	tz, err := optString(params, "timezone")
	if err != nil {
		return nil, err
	}
	exprs := map[string]string{}
	for _, name := range fieldNames {
		v, ok := params[name]
		if !ok || v == nil {
			continue
		}
		switch x := v.(type) {
		case string:
			exprs[name] = x
		default:
			n, ok := asInt(v)
			if !ok {
				return nil, fmt.Errorf("parameter %q: got %s, expected an integer or a cron expression string", name, describe(v))
			}
			exprs[name] = strconv.FormatInt(n, 10)
		}
	}
	return NewCron(exprs, tz)
}

// dateLayouts are the date forms core.DateTimer accepts (st2 parses the
// date with dateutil, which is lenient; these are the usual forms).
var dateLayouts = []struct {
	layout    string
	hasOffset bool
}{
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04:05.999999999", false},
	{"2006-01-02 15:04:05.999999999Z07:00", true},
	{"2006-01-02 15:04:05.999999999", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02 15:04", false},
	{"2006-01-02", false},
}

// ParseDate parses core.DateTimer parameters: date (required; RFC 3339, or
// "YYYY-MM-DD HH:MM[:SS[.fff]]", or "YYYY-MM-DD") and timezone (an IANA
// name, default UTC). A date without a UTC offset is a wall-clock time in
// timezone; one that does not exist there (skipped by a daylight-saving
// change) is an error, one that occurs twice means the first occurrence.
func ParseDate(params map[string]any) (DateTimer, error) {
	if err := checkKeys(params, "timezone", "date"); err != nil {
		return DateTimer{}, err
	}
	tz, err := optString(params, "timezone")
	if err != nil {
		return DateTimer{}, err
	}
	loc, tz, err := loadLocation(tz)
	if err != nil {
		return DateTimer{}, err
	}
	v, ok := params["date"]
	if !ok {
		return DateTimer{}, errors.New(`parameter "date" is required (e.g. "2026-12-31 23:59:59")`)
	}
	s, ok := v.(string)
	if !ok {
		return DateTimer{}, fmt.Errorf(`parameter "date": got %s, expected a date-time string such as "2026-12-31 23:59:59"`, describe(v))
	}
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if l.hasOffset {
			t, err := time.Parse(l.layout, s)
			if err == nil {
				return DateTimer{Date: Date{At: t.In(loc)}, Timezone: tz}, nil
			}
			continue
		}
		t, err := time.ParseInLocation(l.layout, s, time.UTC)
		if err != nil {
			continue
		}
		c := &Cron{loc: loc}
		at, ok := c.resolve(civilOf(t))
		if !ok {
			return DateTimer{}, fmt.Errorf("parameter \"date\": %q does not exist in %s (skipped by a daylight-saving change)", s, tz)
		}
		return DateTimer{Date: Date{At: at.Add(time.Duration(t.Nanosecond()))}, Timezone: tz}, nil
	}
	return DateTimer{}, fmt.Errorf(`parameter "date": cannot parse %q, expected RFC 3339 ("2026-12-31T23:59:59Z") or "YYYY-MM-DD HH:MM:SS"`, s)
}

// DateTimer is a parsed core.DateTimer: a [Date] and the time zone it was
// given in.
type DateTimer struct {
	Date
	Timezone string
}

func checkKeys(params map[string]any, allowed ...string) error {
	var unknown []string
	for k := range params {
		if !contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("unknown parameter %q (expected %s)", unknown[0], strings.Join(allowed, ", "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func optString(params map[string]any, name string) (string, error) {
	v, ok := params[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("parameter %q: got %s, expected a string", name, describe(v))
	}
	return s, nil
}

// asInt accepts the integer forms YAML and JSON decoders produce.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%v", v)
}
