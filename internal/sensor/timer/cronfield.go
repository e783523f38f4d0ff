package timer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The eight CronTimer fields, most significant first, with APScheduler's
// bounds and defaults.
const (
	fYear = iota
	fMonth
	fDay
	fWeek
	fDayOfWeek
	fHour
	fMinute
	fSecond
	numFields
)

var (
	fieldNames = [numFields]string{"year", "month", "day", "week", "day_of_week", "hour", "minute", "second"}
	fieldMin   = [numFields]int{1970, 1, 1, 1, 0, 0, 0, 0}
	fieldMax   = [numFields]int{9999, 12, 31, 53, 6, 23, 59, 59}
	// fieldDefault is what a field below the least significant given field
	// defaults to (APScheduler's DEFAULT_VALUES); fields above it are "*".
	fieldDefault = [numFields]string{"*", "1", "1", "*", "*", "0", "0", "0"}
)

var (
	weekdayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	monthNames   = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	positions    = []string{"1st", "2nd", "3rd", "4th", "5th", "last"}
)

var (
	reAll      = regexp.MustCompile(`^\*(?:/([0-9]+))?$`)
	reRange    = regexp.MustCompile(`^([0-9]+)(?:-([0-9]+))?(?:/([0-9]+))?$`)
	reNames    = regexp.MustCompile(`^([a-zA-Z]+)(?:-([a-zA-Z]+))?$`)
	rePosition = regexp.MustCompile(`^(?i)(1st|2nd|3rd|4th|5th|last) +([a-z]+)$`)
	reSplit    = regexp.MustCompile(` *, *`)
)

type exprKind int

const (
	exprRange      exprKind = iota // first..last every step ("*" is min..max)
	exprLastDay                    // day: "last"
	exprWeekdayPos                 // day: "2nd fri", "last mon"
)

// expr is one comma-separated item of a cron field.
type expr struct {
	kind              exprKind
	first, last, step int // exprRange; step >= 1
	pos               int // exprWeekdayPos: 0..4 for 1st..5th, 5 for last
	weekday           int // exprWeekdayPos: 0 = Monday
}

// field is one parsed cron field.
type field struct {
	idx       int
	src       string // the expression as given (or defaulted)
	isDefault bool
	exprs     []expr
	bits      uint64 // values matched by the static (range) expressions; not used for year
}

// parseField parses one APScheduler cron field expression.
func parseField(idx int, src string) (field, error) {
	f := field{idx: idx, src: src}
	name := fieldNames[idx]
	s := strings.TrimSpace(src)
	if s == "" {
		return f, fmt.Errorf("parameter %q: empty expression (expected e.g. \"*\", \"*/5\", \"1-5\" or \"1,15\")", name)
	}
	for _, item := range reSplit.Split(s, -1) {
		e, err := parseExpr(idx, item)
		if err != nil {
			return f, fmt.Errorf("parameter %q: expression %q: %w", name, item, err)
		}
		f.exprs = append(f.exprs, e)
		if e.kind == exprRange && idx != fYear {
			for v := e.first; v <= e.last; v += e.step {
				f.bits |= 1 << uint(v)
			}
		}
	}
	return f, nil
}

func parseExpr(idx int, item string) (expr, error) {
	lo, hi := fieldMin[idx], fieldMax[idx]
	if m := reAll.FindStringSubmatch(item); m != nil {
		step, err := parseStep(m[1])
		if err != nil {
			return expr{}, err
		}
		if step > hi-lo {
			return expr{}, fmt.Errorf("the step %d is larger than the range of the field (%d)", step, hi-lo)
		}
		return expr{kind: exprRange, first: lo, last: hi, step: step}, nil
	}
	if m := reRange.FindStringSubmatch(item); m != nil {
		first, err := parseNumber(m[1])
		if err != nil {
			return expr{}, err
		}
		last := first
		if m[2] != "" {
			if last, err = parseNumber(m[2]); err != nil {
				return expr{}, err
			}
		} else if m[3] != "" {
			last = hi // "a/n": from a to the maximum, every n
		}
		step, err := parseStep(m[3])
		if err != nil {
			return expr{}, err
		}
		return checkRange(idx, first, last, step)
	}
	switch idx {
	case fMonth, fDayOfWeek:
		if m := reNames.FindStringSubmatch(item); m != nil {
			names, offset, what := monthNames, 1, "month"
			if idx == fDayOfWeek {
				names, offset, what = weekdayNames, 0, "weekday"
			}
			first := indexOf(names, m[1])
			if first < 0 {
				return expr{}, fmt.Errorf("unknown %s name %q (expected one of %s)", what, m[1], strings.Join(names, ", "))
			}
			last := first
			if m[2] != "" {
				if last = indexOf(names, m[2]); last < 0 {
					return expr{}, fmt.Errorf("unknown %s name %q (expected one of %s)", what, m[2], strings.Join(names, ", "))
				}
			}
			return checkRange(idx, first+offset, last+offset, 1)
		}
	case fDay:
		if m := rePosition.FindStringSubmatch(item); m != nil {
			wd := indexOf(weekdayNames, m[2])
			if wd < 0 {
				return expr{}, fmt.Errorf("unknown weekday name %q (expected one of %s)", m[2], strings.Join(weekdayNames, ", "))
			}
			return expr{kind: exprWeekdayPos, pos: indexOf(positions, m[1]), weekday: wd}, nil
		}
		if strings.EqualFold(item, "last") {
			return expr{kind: exprLastDay}, nil
		}
	}
	return expr{}, fmt.Errorf("unrecognized expression (expected %s)", fieldSyntax(idx))
}

func checkRange(idx, first, last, step int) (expr, error) {
	lo, hi := fieldMin[idx], fieldMax[idx]
	if first < lo {
		return expr{}, fmt.Errorf("%d is below the minimum %d of %s", first, lo, fieldNames[idx])
	}
	if last > hi {
		return expr{}, fmt.Errorf("%d is above the maximum %d of %s", last, hi, fieldNames[idx])
	}
	if first > last {
		return expr{}, fmt.Errorf("the range starts at %d, after its end %d", first, last)
	}
	if span := last - first; step > 1 && step > span {
		return expr{}, fmt.Errorf("the step %d is larger than the range of the expression (%d)", step, span)
	}
	return expr{kind: exprRange, first: first, last: last, step: step}, nil
}

func fieldSyntax(idx int) string {
	lo, hi := fieldMin[idx], fieldMax[idx]
	base := fmt.Sprintf(`"*", "*/n", "a", "a-b", "a-b/n" or "a/n" with values %d..%d, or a comma-separated list of them`, lo, hi)
	switch idx {
	case fMonth:
		return base + `; or month names jan..dec ("jan-mar")`
	case fDayOfWeek:
		return base + ` (0 = Monday); or weekday names mon..sun ("mon-fri")`
	case fDay:
		return base + `; or "last", or "1st".."5th"/"last" followed by a weekday name ("2nd fri")`
	}
	return base
}

func parseStep(s string) (int, error) {
	if s == "" {
		return 1, nil
	}
	n, err := parseNumber(s)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("the step must be higher than 0")
	}
	return n, nil
}

func parseNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n > 1_000_000 {
		return 0, fmt.Errorf("number %q is out of range", s)
	}
	return n, nil
}

func indexOf(names []string, s string) int {
	for i, n := range names {
		if strings.EqualFold(n, s) {
			return i
		}
	}
	return -1
}

// matchesAll reports whether the field matches every value it can take.
func (f field) matchesAll() bool {
	if f.idx == fYear {
		for _, e := range f.exprs {
			if e.kind == exprRange && e.step == 1 && e.first == fieldMin[fYear] && e.last == fieldMax[fYear] {
				return true
			}
		}
		return false
	}
	full := uint64(1)<<uint(fieldMax[f.idx]+1) - uint64(1)<<uint(fieldMin[f.idx])
	return f.bits&full == full
}

// hasDynamic reports whether the field has "last" or weekday-position items.
func (f field) hasDynamic() bool {
	for _, e := range f.exprs {
		if e.kind != exprRange {
			return true
		}
	}
	return false
}

func (f field) has(v int) bool { return v >= 0 && v < 64 && f.bits&(1<<uint(v)) != 0 }

// nextStatic returns the smallest value >= v in the static set, up to max.
func (f field) nextStatic(v, max int) (int, bool) {
	for ; v <= max; v++ {
		if f.has(v) {
			return v, true
		}
	}
	return 0, false
}

// nextYear returns the smallest year >= y matched by the year field.
func (f field) nextYear(y int) (int, bool) {
	best, ok := 0, false
	for _, e := range f.exprs {
		v := y
		if v < e.first {
			v = e.first
		}
		if r := (v - e.first) % e.step; r != 0 {
			v += e.step - r
		}
		if v <= e.last && (!ok || v < best) {
			best, ok = v, true
		}
	}
	return best, ok
}

// dayMatches reports whether the day field matches day d of month m of
// year y (d is within the month).
func (f field) dayMatches(y int, m time.Month, d int) bool {
	if f.has(d) {
		return true
	}
	dim := daysIn(y, m)
	for _, e := range f.exprs {
		switch e.kind {
		case exprLastDay:
			if d == dim {
				return true
			}
		case exprWeekdayPos:
			if weekdayPosDay(y, m, e.pos, e.weekday) == d {
				return true
			}
		}
	}
	return false
}

// weekdayPosDay returns the day of the month of the pos-th (0-based; 5 =
// last) weekday wd (0 = Monday), or 0 when the month has no such day.
func weekdayPosDay(y int, m time.Month, pos, wd int) int {
	firstWd := mondayIndex(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday())
	dim := daysIn(y, m)
	first := wd - firstWd + 1
	if first <= 0 {
		first += 7
	}
	var day int
	if pos < 5 {
		day = first + pos*7
	} else {
		day = first + ((dim-first)/7)*7
	}
	if day > dim {
		return 0
	}
	return day
}

func mondayIndex(w time.Weekday) int { return (int(w) + 6) % 7 }

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
