package timer

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrNotExpressible is wrapped by EventBridgeSchedule when a timer cannot
// be expressed exactly as an EventBridge Scheduler schedule; the error
// says why, so the CDK app can refuse the rule or fall back (for example
// to a per-minute schedule with the cron checked in the Lambda).
var ErrNotExpressible = errors.New("not expressible as an EventBridge Scheduler schedule")

// maxExpressionLen is the longest ScheduleExpression EventBridge Scheduler
// accepts.
const maxExpressionLen = 256

// SchedulerExpression is an EventBridge Scheduler schedule:
// ScheduleExpression and ScheduleExpressionTimezone.
type SchedulerExpression struct {
	Expression string // rate(...), cron(...) or at(...)
	Timezone   string // IANA name; "" for rate()
}

// EventBridgeSchedule converts a parsed timer to an EventBridge Scheduler
// schedule: Interval to rate(), Cron to cron() with its time zone,
// DateTimer (or Date, in UTC) to at(). EventBridge Scheduler fires with
// minute precision, so intervals must be whole minutes and cron schedules
// must fire at second 0.
func EventBridgeSchedule(s Schedule) (SchedulerExpression, error) {
	switch x := s.(type) {
	case Interval:
		return rateExpression(x)
	case *Cron:
		return cronExpression(x)
	case DateTimer:
		return atExpression(x)
	case Date:
		return atExpression(DateTimer{Date: x, Timezone: "UTC"})
	}
	return SchedulerExpression{}, fmt.Errorf("schedule %T: %w", s, ErrNotExpressible)
}

func rateExpression(i Interval) (SchedulerExpression, error) {
	const minute = 60_000_000_000
	if i.Every <= 0 || i.Every%minute != 0 {
		return SchedulerExpression{}, fmt.Errorf("interval of %v: EventBridge Scheduler rates are whole minutes: %w", i.Every, ErrNotExpressible)
	}
	n, unit := int64(i.Every/minute), "minute"
	switch {
	case i.Unit == "hours" || (i.Unit == "" && n%60 == 0 && n%1440 != 0):
		n, unit = n/60, "hour"
	case i.Unit == "days" || i.Unit == "weeks" || (i.Unit == "" && n%1440 == 0):
		n, unit = n/1440, "day"
	}
	if n != 1 {
		unit += "s"
	}
	return SchedulerExpression{Expression: fmt.Sprintf("rate(%d %s)", n, unit)}, nil
}

func atExpression(d DateTimer) (SchedulerExpression, error) {
	loc, tz, err := loadLocation(d.Timezone)
	if err != nil {
		return SchedulerExpression{}, err
	}
	t := d.At.In(loc)
	if t.Nanosecond() != 0 {
		return SchedulerExpression{}, fmt.Errorf("date %s has a fraction of a second: %w", t.Format("2006-01-02T15:04:05.999999999"), ErrNotExpressible)
	}
	return SchedulerExpression{Expression: "at(" + t.Format("2006-01-02T15:04:05") + ")", Timezone: tz}, nil
}

// ebWeekday maps APScheduler's weekday (0 = Monday) to EventBridge's
// (1 = Sunday .. 7 = Saturday).
func ebWeekday(wd int) int { return (wd+1)%7 + 1 }

var ebWeekdayNames = []string{"", "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

func cronExpression(c *Cron) (SchedulerExpression, error) {
	f := &c.fields
	fail := func(format string, args ...any) (SchedulerExpression, error) {
		return SchedulerExpression{}, fmt.Errorf("%s: %s: %w", c, fmt.Sprintf(format, args...), ErrNotExpressible)
	}
	if f[fSecond].bits != 1 {
		return fail("second=%q: EventBridge Scheduler fires at second 0 only", f[fSecond].src)
	}
	if !f[fWeek].matchesAll() {
		return fail("week=%q: EventBridge cron has no ISO week field", f[fWeek].src)
	}
	dayAll := f[fDay].matchesAll()
	dowAll := f[fDayOfWeek].matchesAll()
	var dom, dow string
	switch {
	case !dayAll && !dowAll:
		return fail("day=%q and day_of_week=%q are both restricted: CronTimer requires both to match, EventBridge cron takes one of them", f[fDay].src, f[fDayOfWeek].src)
	case dowAll && dayAll:
		dom, dow = "*", "?"
	case !dowAll:
		dom = "?"
		var days []int
		for wd := 0; wd < 7; wd++ {
			if f[fDayOfWeek].has(wd) {
				days = append(days, ebWeekday(wd))
			}
		}
		sort.Ints(days)
		dow = renderRuns(days, func(v int) string { return ebWeekdayNames[v] })
	default:
		var err error
		if dom, dow, err = dayOfMonthExpression(f[fDay]); err != nil {
			return fail("day=%q: %v", f[fDay].src, err)
		}
	}
	year := "*"
	if !f[fYear].matchesAll() {
		var years []int
		for y, ok := f[fYear].nextYear(1970); ok && y <= 2199; y, ok = f[fYear].nextYear(y + 1) {
			years = append(years, y)
		}
		if len(years) == 0 {
			return fail("year=%q: EventBridge Scheduler accepts years 1970-2199", f[fYear].src)
		}
		year = renderSet(years, 1970, 2199)
	}
	expr := fmt.Sprintf("cron(%s %s %s %s %s %s)",
		renderField(f[fMinute]), renderField(f[fHour]), dom, renderField(f[fMonth]), dow, year)
	if len(expr) > maxExpressionLen {
		return fail("the expression is %d characters, EventBridge Scheduler accepts %d", len(expr), maxExpressionLen)
	}
	return SchedulerExpression{Expression: expr, Timezone: c.timezone}, nil
}

func dayOfMonthExpression(f field) (dom, dow string, err error) {
	if !f.hasDynamic() {
		var days []int
		for d := 1; d <= 31; d++ {
			if f.has(d) {
				days = append(days, d)
			}
		}
		return renderSet(days, 1, 31), "?", nil
	}
	if len(f.exprs) != 1 {
		return "", "", errors.New(`"last" and weekday positions must stand alone in EventBridge cron`)
	}
	e := f.exprs[0]
	switch {
	case e.kind == exprLastDay:
		return "L", "?", nil
	case e.pos == 5:
		return "?", strconv.Itoa(ebWeekday(e.weekday)) + "L", nil
	default:
		return "?", fmt.Sprintf("%d#%d", ebWeekday(e.weekday), e.pos+1), nil
	}
}

func renderField(f field) string {
	if f.matchesAll() {
		return "*"
	}
	var vals []int
	for v := fieldMin[f.idx]; v <= fieldMax[f.idx]; v++ {
		if f.has(v) {
			vals = append(vals, v)
		}
	}
	return renderSet(vals, fieldMin[f.idx], fieldMax[f.idx])
}

// renderSet writes a sorted set of values compactly: "*" for all, "a/n"
// for an arithmetic progression that runs to the end of the range, else
// comma-separated values and runs ("1-5,10").
func renderSet(vals []int, lo, hi int) string {
	if len(vals) == hi-lo+1 {
		return "*"
	}
	if len(vals) >= 3 {
		step := vals[1] - vals[0]
		prog := step > 1
		for i := 2; prog && i < len(vals); i++ {
			prog = vals[i]-vals[i-1] == step
		}
		if prog && vals[len(vals)-1]+step > hi {
			return fmt.Sprintf("%d/%d", vals[0], step)
		}
	}
	return renderRuns(vals, strconv.Itoa)
}

func renderRuns(vals []int, name func(int) string) string {
	var parts []string
	for i := 0; i < len(vals); {
		j := i
		for j+1 < len(vals) && vals[j+1] == vals[j]+1 {
			j++
		}
		switch j {
		case i:
			parts = append(parts, name(vals[i]))
		case i + 1:
			parts = append(parts, name(vals[i]), name(vals[j]))
		default:
			parts = append(parts, name(vals[i])+"-"+name(vals[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
