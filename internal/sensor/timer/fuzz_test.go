package timer

import (
	"testing"
	"time"
)

// FuzzCronField parses an arbitrary expression in every field and, when
// it parses, checks that Next returns times after its argument that every
// field matches.
func FuzzCronField(f *testing.F) {
	for _, s := range []string{"*", "*/5", "1-5", "1-10/3", "5/20", "1,2 , 3", "mon-fri", "jan,dec", "last",
		"last fri", "2nd tue", "0", "59", "*/0", "9-3", "", " ", "1,,2", "99999999999999999999", "LAST Sun"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(2))
		f.Add(s, uint8(4))
		f.Add(s, uint8(numFields+6)) // minute, America/New_York
	}
	// Zones with DST changes of an hour and of half an hour, and none.
	zones := []string{"UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"}
	from := time.Date(2026, 3, 8, 6, 59, 30, 0, time.UTC) // just before New York's spring-forward
	f.Fuzz(func(t *testing.T, expr string, which uint8) {
		name := fieldNames[int(which)%numFields]
		zone := zones[int(which/numFields)%len(zones)]
		c, err := NewCron(map[string]string{name: expr}, zone)
		if err != nil {
			return
		}
		at := from
		for range 3 {
			n, ok := c.Next(at)
			if !ok {
				return
			}
			if !n.After(at) {
				t.Fatalf("%s=%q: Next(%v) = %v, not after", name, expr, at, n)
			}
			if !c.matchesCivil(civilOf(n.In(c.Location()))) {
				t.Fatalf("%s=%q: Next(%v) = %v, which the fields do not match", name, expr, at, n)
			}
			at = n
		}
		_, _ = EventBridgeSchedule(c)
	})
}
