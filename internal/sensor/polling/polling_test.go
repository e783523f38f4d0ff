package polling

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/sensor/payload"
	"github.com/bwc-project/bwc/internal/sensor/sdk"
)

type triggerTypes map[string]*pack.TriggerType

func (m triggerTypes) TriggerType(ref string) *pack.TriggerType { return m[ref] }

func TestChecker(t *testing.T) {
	c := NewChecker(triggerTypes{
		"p.reading": {Ref: "p.reading", Sensor: "p.Probe", PayloadSchema: map[string]any{
			"type": "object", "properties": map[string]any{"n": map[string]any{"type": "integer"}}, "required": []any{"n"},
		}},
		"p.any":    {Ref: "p.any"},
		"p.broken": {Ref: "p.broken", PayloadSchema: map[string]any{"type": 12}},
	})
	for _, tc := range []struct {
		name       string
		sensor     string
		e          sdk.Emission
		want       error
		declaredBy string
	}{
		{"valid", "p.Probe", sdk.Emission{Trigger: "p.reading", Payload: map[string]any{"n": 1}}, nil, ""},
		{"no schema", "p.Probe", sdk.Emission{Trigger: "p.any", Payload: map[string]any{"x": "y"}}, nil, ""},
		{"another sensor's trigger", "p.Other", sdk.Emission{Trigger: "p.reading", Payload: map[string]any{"n": 1}}, nil, "p.Probe"},
		{"bad payload", "p.Probe", sdk.Emission{Trigger: "p.reading", Payload: map[string]any{"n": "one"}}, ErrPayload, ""},
		{"unknown trigger", "p.Probe", sdk.Emission{Trigger: "p.nope", Payload: map[string]any{}}, ErrUnknownTrigger, ""},
		{"schema does not compile", "p.Probe", sdk.Emission{Trigger: "p.broken", Payload: map[string]any{}}, ErrSchema, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Check(tc.sensor, tc.e)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Check = %v, want %v", err, tc.want)
			}
			if err == nil && (got.TriggerType == nil || got.TriggerType.Ref != tc.e.Trigger || got.DeclaredBy != tc.declaredBy) {
				t.Errorf("Check = %+v, want trigger type %s declared by %q", got, tc.e.Trigger, tc.declaredBy)
			}
			var pe *payload.Error
			if errors.Is(err, ErrPayload) && (!errors.As(err, &pe) || pe.Problems[0].Pointer != "/n") {
				t.Errorf("error %v does not list the problem at /n", err)
			}
		})
	}
}

func TestOnceNotBuilt(t *testing.T) {
	_, err := Once(context.Background(), filepath.Join(t.TempDir(), "nothing"), sdk.Settings{Sensor: "p.Probe"}, OnceOptions{})
	if !errors.Is(err, ErrNotBuilt) || !strings.Contains(err.Error(), "p.Probe") {
		t.Errorf("Once = %v, want ErrNotBuilt naming the sensor", err)
	}
}

func TestLogLines(t *testing.T) {
	var b bytes.Buffer
	w := LogLines(slog.New(slog.NewTextHandler(&b, nil)), "sensor: ")
	_, _ = w.Write([]byte("first line\nsec"))
	_, _ = w.Write([]byte("ond line\nunfinished"))
	out := b.String()
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, `msg="sensor: first line"`) || !strings.Contains(out, `msg="sensor: second line"`) {
		t.Errorf("log = %q, want the two finished lines", out)
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	w := &tailWriter{max: 16}
	_, _ = w.Write([]byte("a long first line\nshort\nlast"))
	if got := w.String(); got != "short\nlast" {
		t.Errorf("tail = %q, want the last whole lines", got)
	}
}

// A line that never ends is logged in pieces rather than kept whole.
func TestLogLinesBoundsAnUnfinishedLine(t *testing.T) {
	var b bytes.Buffer
	w := LogLines(slog.New(slog.NewTextHandler(&b, nil)), "sensor: ")
	for range 10 {
		_, _ = w.Write(bytes.Repeat([]byte("x"), maxLogLine/2+1))
	}
	if n := len(w.(*logWriter).buf); n >= maxLogLine {
		t.Errorf("%d bytes kept waiting for a newline, want fewer than %d", n, maxLogLine)
	}
	if got := strings.Count(b.String(), "\n"); got != 5 {
		t.Errorf("%d log lines for 5 pieces of %d bytes", got, maxLogLine)
	}
}

// A sensor that writes many lines that are not protocol lines gets the
// first MaxBad of them listed and the rest counted.
func TestOnceBoundsBadLines(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sensor")
	script := "#!/bin/sh\ni=0\nwhile [ $i -lt 150 ]; do echo \"not a protocol line $i\"; i=$((i+1)); done\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := Once(context.Background(), bin, sdk.Settings{Sensor: "p.Probe"}, OnceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Bad) != MaxBad+1 || !strings.Contains(p.Bad[MaxBad].Error(), "50 more") {
		t.Errorf("%d bad-line errors (last %v), want %d and one counting 50 more", len(p.Bad), p.Bad[len(p.Bad)-1], MaxBad+1)
	}
}

// A poll that emits more than MaxEmissions trigger instances gets the
// first MaxEmissions, and one error counting the rest; its stdout is still
// read to the end.
func TestOnceBoundsEmissions(t *testing.T) {
	tests := []struct {
		name    string
		emitted int
		wantBad bool
	}{
		{"at the limit", MaxEmissions, false},
		{"over the limit", MaxEmissions + 250, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "sensor")
			script := fmt.Sprintf("#!/bin/sh\ni=0\nwhile [ $i -lt %d ]; do echo '{\"trigger\": \"p.t\", \"payload\": {}}'; i=$((i+1)); done\n", tt.emitted)
			if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			p, err := Once(context.Background(), bin, sdk.Settings{Sensor: "p.Probe"}, OnceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Emissions) != min(tt.emitted, MaxEmissions) {
				t.Errorf("%d emissions kept, want %d", len(p.Emissions), min(tt.emitted, MaxEmissions))
			}
			if !tt.wantBad {
				if len(p.Bad) != 0 {
					t.Errorf("bad %v, want none", p.Bad)
				}
				return
			}
			if len(p.Bad) != 1 || !errors.Is(p.Bad[0], ErrTooManyEmissions) || !strings.Contains(p.Bad[0].Error(), "250 trigger instances") {
				t.Errorf("bad %v, want one ErrTooManyEmissions counting 250 dropped", p.Bad)
			}
		})
	}
}
