package engine

import (
	"context"
	"path/filepath"
	"testing"
)

// After the hand-offs, Run has no timer to fire and no sensor to run;
// before them it has (so the test would see a hand-off that does nothing).
func TestHandOff(t *testing.T) {
	dirs := []string{filepath.Join("..", "..", "packs", "core"), filepath.Join("..", "..", "tests", "testdata", "packs")}
	eng, err := Open(context.Background(), Config{PackDirs: dirs, DBPath: filepath.Join(t.TempDir(), "bwc.db"), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = eng.Close() }()
	if eng.sched.Len() == 0 || len(eng.sensors.sensors) == 0 {
		t.Fatalf("the test packs should have a timer and a Go sensor: %d timers, %d sensors", eng.sched.Len(), len(eng.sensors.sensors))
	}
	timers, sensors := eng.Timers, len(eng.sensors.sensors)
	eng.HandOffTimers()
	got := eng.HandOffSensors()
	if eng.sched.Len() != 0 {
		t.Errorf("%d timers left to the engine after HandOffTimers", eng.sched.Len())
	}
	if len(eng.sensors.sensors) != 0 || len(got) != sensors {
		t.Errorf("HandOffSensors returned %d sensors and left %d to the engine; want %d and 0", len(got), len(eng.sensors.sensors), sensors)
	}
	if eng.Timers != timers || len(eng.Sensors) != sensors {
		t.Errorf("Timers %d, Sensors %v changed by the hand-offs", eng.Timers, eng.Sensors)
	}
}
