package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	in := `goos: linux
BenchmarkMatch/patterns=1         	 1804947	       500.0 ns/op	 913.22 MB/s	   1497075 events/s	         0 matches/event	       0 B/op	       0 allocs/op
BenchmarkMatch/patterns=100       	 1000000	      1000 ns/op	 556.95 MB/s	    913029 events/s	         0.01700 matches/event	       4 B/op	       0 allocs/op
BenchmarkMatch/patterns=1000      	  884827	      2000 ns/op	 444.82 MB/s	    729214 events/s	         0.2525 matches/event	       9 B/op	       0 allocs/op
BenchmarkMatch/patterns=10000     	  555390	      4000 ns/op	 297.39 MB/s	    487522 events/s	         2.5 matches/event	      48 B/op	       1 allocs/op
PASS
`
	var out strings.Builder
	if err := run(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var got map[string]float64
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line is not JSON: %v", err)
	}
	want := map[string]float64{"events_per_sec_1": 2e6, "events_per_sec_100": 1e6, "events_per_sec_1000": 5e5, "events_per_sec_10000": 2.5e5, "ratio_10000_to_100": 0.25, "matches_per_event_10000": 2.5}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// Several runs per size: the median of each.
	more := strings.ReplaceAll(strings.ReplaceAll(in, "4000 ns/op", "3000 ns/op"), "500.0 ns/op", "100.0 ns/op") +
		strings.ReplaceAll(strings.ReplaceAll(in, "4000 ns/op", "9000 ns/op"), "500.0 ns/op", "400.0 ns/op")
	out.Reset()
	if err := run(strings.NewReader(in+more), &out); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(out.String()), "\n")
	got = nil
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line is not JSON: %v", err)
	}
	// 10000: 4000, 3000, 9000 → 4000; 1: 500, 100, 400 → 400.
	if got["ns_per_event_10000"] != 4000 || got["ns_per_event_1"] != 400 || got["ratio_10000_to_100"] != 0.25 {
		t.Errorf("medians: got ns_per_event_10000 %v, ns_per_event_1 %v, ratio %v; want 4000, 400, 0.25", got["ns_per_event_10000"], got["ns_per_event_1"], got["ratio_10000_to_100"])
	}
	if err := run(strings.NewReader(strings.ReplaceAll(in, "BenchmarkMatch/patterns=1000 ", "X")), &out); err == nil {
		t.Error("a missing size was not reported")
	}
	if err := run(strings.NewReader(in+"--- FAIL: BenchmarkMatch\n"), &out); err == nil {
		t.Error("a failed run was not reported")
	}
}
