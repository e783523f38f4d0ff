package timer

import (
	"fmt"
	"strings"
	"time"
)

// Cron is an APScheduler-style cron schedule (st2's core.CronTimer): eight
// fields (year, month, day, week, day_of_week, hour, minute, second) that
// must all match, evaluated in a time zone.
//
// Daylight-saving time is handled as EventBridge Scheduler does: a local
// time that does not exist (skipped by a spring-forward change) does not
// fire, and a local time that occurs twice (fall-back) fires once, at its
// first occurrence.
type Cron struct {
	fields   [numFields]field
	loc      *time.Location
	timezone string
}

// maxYearsSearched bounds the search of Next for schedules whose fields
// never match together (day 31 of February).
const maxYearsSearched = 1000

// NewCron builds a cron schedule from APScheduler field expressions keyed
// by field name ("hour": "*/2"). Absent fields follow APScheduler: those
// more significant than the least significant given field are "*", the
// less significant ones take their minimum (week and day_of_week "*").
// With no field at all the schedule fires every second. timezone is an
// IANA name; "" means UTC.
func NewCron(exprs map[string]string, timezone string) (*Cron, error) {
	loc, tz, err := loadLocation(timezone)
	if err != nil {
		return nil, err
	}
	c := &Cron{loc: loc, timezone: tz}
	for name := range exprs {
		if fieldIndex(name) < 0 {
			return nil, fmt.Errorf("unknown cron field %q (expected one of %s)", name, strings.Join(fieldNames[:], ", "))
		}
	}
	remaining := len(exprs)
	assignDefaults := false
	for i := 0; i < numFields; i++ {
		name := fieldNames[i]
		src, given := exprs[name]
		isDefault := !given
		switch {
		case given:
			remaining--
			assignDefaults = remaining == 0
		case assignDefaults:
			src = fieldDefault[i]
		default:
			src = "*"
		}
		f, err := parseField(i, src)
		if err != nil {
			return nil, err
		}
		f.isDefault = isDefault
		c.fields[i] = f
	}
	return c, nil
}

func fieldIndex(name string) int {
	for i, n := range fieldNames {
		if n == name {
			return i
		}
	}
	return -1
}

// loadLocation loads an IANA time zone and returns it with its canonical
// name ("UTC" for "", "utc" and "UTC").
func loadLocation(name string) (*time.Location, string, error) {
	switch name {
	case "", "UTC", "utc":
		return time.UTC, "UTC", nil
	case "Local":
		return nil, "", fmt.Errorf("parameter \"timezone\": %q depends on the machine; give an IANA time zone name such as \"Europe/Paris\"", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, "", fmt.Errorf("parameter \"timezone\": unknown time zone %q (expected an IANA name such as \"America/New_York\" or \"UTC\"): %w", name, err)
	}
	return loc, name, nil
}

// Location returns the time zone the schedule is evaluated in.
func (c *Cron) Location() *time.Location { return c.loc }

// Timezone returns the time zone name ("UTC" when none was given).
func (c *Cron) Timezone() string { return c.timezone }

// String renders the schedule like APScheduler does: the given fields.
func (c *Cron) String() string {
	var parts []string
	for _, f := range c.fields {
		if !f.isDefault {
			parts = append(parts, fmt.Sprintf("%s='%s'", fieldNames[f.idx], f.src))
		}
	}
	return "cron[" + strings.Join(parts, ", ") + "]"
}

// civil is a wall-clock date and time, without a zone.
type civil struct {
	y          int
	mo         time.Month
	d, h, m, s int
}

func civilOf(t time.Time) civil {
	y, mo, d := t.Date()
	h, m, s := t.Clock()
	return civil{y, mo, d, h, m, s}
}

func (c civil) utc() time.Time { return time.Date(c.y, c.mo, c.d, c.h, c.m, c.s, 0, time.UTC) }

// add normalizes c plus the given amounts (in UTC, where no day is short).
func (c civil) add(days, hours, minutes, seconds int) civil {
	return civilOf(time.Date(c.y, c.mo, c.d+days, c.h+hours, c.m+minutes, c.s+seconds, 0, time.UTC))
}

// Next returns the first fire time strictly after after, in the schedule's
// time zone.
func (c *Cron) Next(after time.Time) (time.Time, bool) {
	start := after.Truncate(time.Second).Add(time.Second)
	from := civilOf(start.In(c.loc))
	// Each round skips one candidate wall-clock time that does not exist
	// or already fired; an hour of per-second candidates at most per DST
	// change, so the bound is generous.
	for range 1_000_000 {
		cand, ok := c.nextCivil(from)
		if !ok {
			return time.Time{}, false
		}
		if t, ok := c.resolve(cand); ok && t.After(after) {
			return t, true
		}
		from = cand.add(0, 0, 0, 1)
	}
	return time.Time{}, false
}

// resolve maps a wall-clock time to the first instant that shows it in the
// schedule's zone; false when no instant does (a skipped local time).
func (c *Cron) resolve(cv civil) (time.Time, bool) {
	t := time.Date(cv.y, cv.mo, cv.d, cv.h, cv.m, cv.s, 0, c.loc)
	_, off := t.Zone()
	offsets := []int{off}
	start, end := t.ZoneBounds()
	if !start.IsZero() {
		_, o := start.Add(-time.Second).Zone()
		offsets = append(offsets, o)
	}
	if !end.IsZero() {
		_, o := end.Zone()
		offsets = append(offsets, o)
	}
	naive := cv.utc()
	var best time.Time
	found := false
	for _, o := range offsets {
		u := naive.Add(-time.Duration(o) * time.Second).In(c.loc)
		if civilOf(u) == cv && (!found || u.Before(best)) {
			best, found = u, true
		}
	}
	return best, found
}

// nextCivil returns the smallest wall-clock time >= from that every field
// matches.
func (c *Cron) nextCivil(from civil) (civil, bool) {
	f := &c.fields
	cur := from
	// A round that does not return moves to the next month at least once
	// per month of a year whose days never match, so this bounds the
	// search to about maxYearsSearched years.
	rounds := 0
	for {
		y, ok := f[fYear].nextYear(cur.y)
		if !ok {
			return civil{}, false
		}
		if y != cur.y {
			cur = civil{y: y, mo: time.January, d: 1}
		}
		if rounds++; rounds > maxYearsSearched*13 {
			return civil{}, false
		}
		mo, ok := f[fMonth].nextStatic(int(cur.mo), 12)
		if !ok {
			cur = civil{y: cur.y + 1, mo: time.January, d: 1}
			continue
		}
		if time.Month(mo) != cur.mo {
			cur = civil{y: cur.y, mo: time.Month(mo), d: 1}
		}
		d, ok := c.nextDay(cur.y, cur.mo, cur.d)
		if !ok {
			cur = civilOf(time.Date(cur.y, cur.mo+1, 1, 0, 0, 0, 0, time.UTC))
			continue
		}
		if d != cur.d {
			cur = civil{y: cur.y, mo: cur.mo, d: d}
		}
		h, ok := f[fHour].nextStatic(cur.h, 23)
		if !ok {
			cur = civil{y: cur.y, mo: cur.mo, d: cur.d}.add(1, 0, 0, 0)
			continue
		}
		if h != cur.h {
			cur.h, cur.m, cur.s = h, 0, 0
		}
		m, ok := f[fMinute].nextStatic(cur.m, 59)
		if !ok {
			cur = civil{y: cur.y, mo: cur.mo, d: cur.d, h: cur.h}.add(0, 1, 0, 0)
			continue
		}
		if m != cur.m {
			cur.m, cur.s = m, 0
		}
		s, ok := f[fSecond].nextStatic(cur.s, 59)
		if !ok {
			cur = civil{y: cur.y, mo: cur.mo, d: cur.d, h: cur.h, m: cur.m}.add(0, 0, 1, 0)
			continue
		}
		cur.s = s
		return cur, true
	}
}

// nextDay returns the first day >= d of the month that the day, week and
// day_of_week fields all match.
func (c *Cron) nextDay(y int, mo time.Month, d int) (int, bool) {
	dim := daysIn(y, mo)
	for ; d <= dim; d++ {
		if !c.fields[fDay].dayMatches(y, mo, d) {
			continue
		}
		date := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		if !c.fields[fDayOfWeek].has(mondayIndex(date.Weekday())) {
			continue
		}
		if _, wk := date.ISOWeek(); !c.fields[fWeek].has(wk) {
			continue
		}
		return d, true
	}
	return 0, false
}
