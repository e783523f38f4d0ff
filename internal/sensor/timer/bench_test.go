package timer

import (
	"testing"
	"time"
)

func BenchmarkCronNext(b *testing.B) {
	for _, bc := range []struct {
		name   string
		params map[string]any
	}{
		{"every_15_min_paris", map[string]any{"minute": "*/15", "timezone": "Europe/Paris"}},
		{"last_fri_utc", map[string]any{"day": "last fri", "hour": 17}},
		{"every_second", map[string]any{}},
	} {
		c, err := ParseCron(bc.params)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			for b.Loop() {
				n, ok := c.Next(at)
				if !ok {
					b.Fatal("no next")
				}
				at = n
			}
		})
	}
}
