package timer

import (
	"strings"
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// fires returns the first n fire times after from.
func fires(t *testing.T, s Schedule, from time.Time, n int) []string {
	t.Helper()
	var out []string
	at := from
	for range n {
		next, ok := s.Next(at)
		if !ok {
			out = append(out, "none")
			break
		}
		if !next.After(at) {
			t.Fatalf("Next(%v) = %v, not after", at, next)
		}
		out = append(out, next.UTC().Format(time.RFC3339))
		at = next
	}
	return out
}

func TestCronNext(t *testing.T) {
	from := utc("2026-02-26T10:17:42Z") // a Thursday
	tests := []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"no field fires every second", map[string]any{},
			[]string{"2026-02-26T10:17:43Z", "2026-02-26T10:17:44Z", "2026-02-26T10:17:45Z"}},
		{"hour only: smaller fields default to 0", map[string]any{"hour": 5},
			[]string{"2026-02-27T05:00:00Z", "2026-02-28T05:00:00Z", "2026-03-01T05:00:00Z"}},
		{"minute step, hour above is *", map[string]any{"minute": "*/15"},
			[]string{"2026-02-26T10:30:00Z", "2026-02-26T10:45:00Z", "2026-02-26T11:00:00Z"}},
		{"a/n runs from a to the maximum", map[string]any{"minute": "5/20"},
			[]string{"2026-02-26T10:25:00Z", "2026-02-26T10:45:00Z", "2026-02-26T11:05:00Z"}},
		{"day_of_week 0 is Monday", map[string]any{"day_of_week": 0},
			[]string{"2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"}},
		{"weekday names and ranges", map[string]any{"day_of_week": "mon-fri", "hour": 9, "minute": 30},
			[]string{"2026-02-27T09:30:00Z", "2026-03-02T09:30:00Z", "2026-03-03T09:30:00Z"}},
		{"weekday list with spaces", map[string]any{"day_of_week": "sat , SUN", "hour": "12"},
			[]string{"2026-02-28T12:00:00Z", "2026-03-01T12:00:00Z", "2026-03-07T12:00:00Z"}},
		{"last day of month", map[string]any{"day": "last"},
			[]string{"2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"}},
		{"last friday", map[string]any{"day": "last fri", "hour": 17},
			[]string{"2026-02-27T17:00:00Z", "2026-03-27T17:00:00Z", "2026-04-24T17:00:00Z"}},
		{"second tuesday", map[string]any{"day": "2nd tue"},
			[]string{"2026-03-10T00:00:00Z", "2026-04-14T00:00:00Z"}},
		{"5th monday skips months without one", map[string]any{"day": "5th mon"},
			[]string{"2026-03-30T00:00:00Z", "2026-06-29T00:00:00Z"}},
		{"29 February: leap years only", map[string]any{"month": "feb", "day": 29},
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"month names", map[string]any{"month": "jan-feb,dec", "day": 1},
			[]string{"2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-12-01T00:00:00Z"}},
		{"day and day_of_week must both match", map[string]any{"day": 13, "day_of_week": "fri"},
			[]string{"2026-03-13T00:00:00Z", "2026-11-13T00:00:00Z"}},
		{"ISO week", map[string]any{"week": 1, "day_of_week": "mon"},
			[]string{"2027-01-04T00:00:00Z", "2028-01-03T00:00:00Z"}},
		{"seconds", map[string]any{"minute": 18, "second": "*/20"},
			[]string{"2026-02-26T10:18:00Z", "2026-02-26T10:18:20Z", "2026-02-26T10:18:40Z", "2026-02-26T11:18:00Z"}},
		{"year", map[string]any{"year": 2027},
			[]string{"2027-01-01T00:00:00Z", "none"}},
		{"year step starts at 1970", map[string]any{"year": "*/4", "month": 6},
			[]string{"2026-06-01T00:00:00Z", "2030-06-01T00:00:00Z"}},
		{"past year never fires", map[string]any{"year": 2020},
			[]string{"none"}},
		{"impossible date never fires", map[string]any{"month": 2, "day": 30},
			[]string{"none"}},
		{"integers as float64 from JSON", map[string]any{"hour": 23.0, "minute": 59.0},
			[]string{"2026-02-26T23:59:00Z", "2026-02-27T23:59:00Z"}},
		{"time zone", map[string]any{"timezone": "Asia/Kolkata", "hour": 9},
			[]string{"2026-02-27T03:30:00Z", "2026-02-28T03:30:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCron(tt.params)
			if err != nil {
				t.Fatalf("ParseCron: %v", err)
			}
			got := fires(t, c, from, len(tt.want))
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("fires after %v\n got %v\nwant %v", from, got, tt.want)
			}
		})
	}
}

func TestCronDST(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	// 2026: clocks go 02:00 EST -> 03:00 EDT on 8 March, and 02:00 EDT ->
	// 01:00 EST on 1 November.
	tests := []struct {
		name   string
		params map[string]any
		from   time.Time
		want   []string
	}{
		{"skipped local time does not fire",
			map[string]any{"timezone": "America/New_York", "hour": 2, "minute": 30},
			time.Date(2026, 3, 6, 12, 0, 0, 0, ny),
			[]string{"2026-03-07T02:30:00-05:00", "2026-03-09T02:30:00-04:00"}},
		{"repeated local time fires once, at the first occurrence",
			map[string]any{"timezone": "America/New_York", "hour": 1, "minute": 30},
			time.Date(2026, 10, 31, 12, 0, 0, 0, ny),
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"every half hour across fall-back skips the repeated hour",
			map[string]any{"timezone": "America/New_York", "minute": "*/30"},
			time.Date(2026, 11, 1, 0, 10, 0, 0, ny),
			[]string{"2026-11-01T00:30:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00"}},
		{"every half hour across spring-forward",
			map[string]any{"timezone": "America/New_York", "minute": "*/30"},
			time.Date(2026, 3, 8, 1, 10, 0, 0, ny),
			[]string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"}},
		{"after inside the repeated hour",
			map[string]any{"timezone": "America/New_York", "minute": "*/30"},
			utc("2026-11-01T06:15:00Z"), // 01:15 EST, second pass
			[]string{"2026-11-01T02:00:00-05:00"}},
		{"daily at midnight keeps local midnight across DST",
			map[string]any{"timezone": "America/New_York", "hour": 0},
			time.Date(2026, 3, 7, 12, 0, 0, 0, ny),
			[]string{"2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCron(tt.params)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			at := tt.from
			for range tt.want {
				next, ok := c.Next(at)
				if !ok {
					t.Fatalf("Next(%v): none", at)
				}
				got = append(got, next.In(ny).Format(time.RFC3339))
				at = next
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestCronErrors(t *testing.T) {
	tests := []struct {
		params map[string]any
		want   string // substring
	}{
		{map[string]any{"hour": 24}, `parameter "hour": expression "24": 24 is above the maximum 23`},
		{map[string]any{"minute": "*/0"}, `parameter "minute": expression "*/0": the step must be higher than 0`},
		{map[string]any{"minute": "*/60"}, `the step 60 is larger than the range`},
		{map[string]any{"day": "0"}, `parameter "day": expression "0": 0 is below the minimum 1`},
		{map[string]any{"day": "10-5"}, `the range starts at 10, after its end 5`},
		{map[string]any{"day_of_week": "7"}, `parameter "day_of_week": expression "7": 7 is above the maximum 6`},
		{map[string]any{"day_of_week": "monday"}, `unknown weekday name "monday"`},
		{map[string]any{"month": "foo"}, `unknown month name "foo"`},
		{map[string]any{"day": "6th fri"}, `parameter "day": expression "6th fri": unrecognized expression`},
		{map[string]any{"hour": "last"}, `parameter "hour": expression "last": unrecognized expression`},
		{map[string]any{"hour": "1,,2"}, `parameter "hour": expression "": unrecognized`},
		{map[string]any{"hour": ""}, `parameter "hour": empty expression`},
		{map[string]any{"hour": true}, `parameter "hour": got boolean true, expected an integer or a cron expression string`},
		{map[string]any{"hour": 1.5}, `parameter "hour": got 1.5`},
		{map[string]any{"hours": 1}, `unknown parameter "hours"`},
		{map[string]any{"timezone": "Mars/Olympus"}, `parameter "timezone": unknown time zone "Mars/Olympus"`},
		{map[string]any{"timezone": 5}, `parameter "timezone": got 5, expected a string`},
		{map[string]any{"year": 1969}, `1969 is below the minimum 1970`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := ParseCron(tt.params)
			if err == nil {
				t.Fatalf("ParseCron(%v): no error", tt.params)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseCron(%v)\n  error %q\n  want  %q", tt.params, err, tt.want)
			}
		})
	}
}

func TestCronString(t *testing.T) {
	c, err := ParseCron(map[string]any{"hour": "*/2", "day_of_week": "mon"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.String(), "cron[day_of_week='mon', hour='*/2']"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// matchesCivil checks a wall-clock time against every field directly,
// independently of nextCivil's search.
func (c *Cron) matchesCivil(cv civil) bool {
	f := &c.fields
	date := time.Date(cv.y, cv.mo, cv.d, 0, 0, 0, 0, time.UTC)
	_, wk := date.ISOWeek()
	y, ok := f[fYear].nextYear(cv.y)
	return ok && y == cv.y && f[fMonth].has(int(cv.mo)) && f[fDay].dayMatches(cv.y, cv.mo, cv.d) &&
		f[fWeek].has(wk) && f[fDayOfWeek].has(mondayIndex(date.Weekday())) &&
		f[fHour].has(cv.h) && f[fMinute].has(cv.m) && f[fSecond].has(cv.s)
}

// TestCronAgainstScan compares Next with a minute-by-minute scan of a
// month around a DST change: a wall-clock time fires at its first
// occurrence only, and a skipped one never.
func TestCronAgainstScan(t *testing.T) {
	exprs := []map[string]any{
		{"minute": "*/7", "hour": "1-3"},
		{"day": "last", "hour": "2", "minute": "30"},
		{"day_of_week": "sun", "hour": "*/5", "minute": 0},
		{"day": "1st sun,15", "hour": 2, "minute": "0,59"},
		{"week": "*/2", "day_of_week": "fri", "hour": 23, "minute": 59},
		{"day_of_week": "sun", "hour": "1-2", "minute": "*/10"},
	}
	for _, z := range []struct {
		zone        string
		year, month int
	}{
		{"Europe/Paris", 2026, 3},         // spring forward 29 March 02:00 -> 03:00
		{"America/New_York", 2026, 11},    // fall back 1 November 02:00 -> 01:00
		{"Australia/Lord_Howe", 2026, 4},  // fall back by half an hour, 5 April 02:00 -> 01:30
		{"Australia/Lord_Howe", 2026, 10}, // spring forward by half an hour, 4 October 02:00 -> 02:30
	} {
		loc := mustLoc(t, z.zone)
		from := time.Date(z.year, time.Month(z.month), 1, 0, 0, 0, 0, loc)
		to := from.AddDate(0, 1, 0)
		for _, e := range exprs {
			params := map[string]any{"timezone": z.zone}
			for k, v := range e {
				params[k] = v
			}
			c, err := ParseCron(params)
			if err != nil {
				t.Fatal(err)
			}
			var want []time.Time
			seen := map[civil]bool{}
			for u := from.Add(time.Minute); !u.After(to); u = u.Add(time.Minute) {
				cv := civilOf(u.In(loc))
				if c.matchesCivil(cv) && !seen[cv] {
					seen[cv] = true
					want = append(want, u)
				}
			}
			var got []time.Time
			for at := from; ; {
				n, ok := c.Next(at)
				if !ok || n.After(to) {
					break
				}
				got = append(got, n)
				at = n
			}
			if len(got) != len(want) {
				t.Errorf("%s %v: %d fires, scan found %d", z.zone, e, len(got), len(want))
				continue
			}
			for i := range got {
				if !got[i].Equal(want[i]) {
					t.Errorf("%s %v: fire %d at %v, scan says %v", z.zone, e, i, got[i], want[i])
					break
				}
			}
		}
	}
}
