package timer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAPSchedulerConformance checks CronTimer against fire times recorded
// from APScheduler's CronTrigger, the implementation st2 uses
// (testdata/apscheduler/gen.py; UTC and zones without DST only). Extra
// case files in the same format are read from the directory named by
// BWC_APSCHEDULER_CASES.
func TestAPSchedulerConformance(t *testing.T) {
	files := []string{filepath.Join("testdata", "apscheduler", "cases.json")}
	if dir := os.Getenv("BWC_APSCHEDULER_CASES"); dir != "" {
		extra, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, extra...)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { checkAPSchedulerCases(t, f) })
	}
}

func checkAPSchedulerCases(t *testing.T, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Generator string
		Cases     []struct {
			Params map[string]any `json:"params"`
			From   string         `json:"from"`
			Fires  []string       `json:"fires"`
			Error  string         `json:"error"`
		}
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Cases) == 0 {
		t.Fatal("no cases")
	}
	failed := 0
	for i, c := range data.Cases {
		cron, err := ParseCron(c.Params)
		if c.Error != "" {
			if err == nil {
				t.Errorf("case %d %v: %s rejects it (%s), BWC accepts it", i, c.Params, data.Generator, c.Error)
				failed++
			}
			continue
		}
		if err != nil {
			t.Errorf("case %d %v: %v", i, c.Params, err)
			failed++
			continue
		}
		from, err := time.Parse(time.RFC3339, c.From)
		if err != nil {
			t.Fatal(err)
		}
		// Five fire times were recorded; fewer means APScheduler found no
		// more, and BWC must say "none" there too.
		want := c.Fires
		if len(want) < 5 {
			want = append(append([]string{}, want...), "none")
		}
		got := fires(t, cron, from, len(want))
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("case %d %v after %s:\n got %v\nwant %v", i, c.Params, c.From, got, want)
			failed++
		}
		if failed > 10 {
			t.Fatal("too many failures")
		}
	}
	t.Logf("%d cases from %s", len(data.Cases), data.Generator)
}
