package sdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/sensor/clock"
)

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings(`{"sensor": "examples.disk", "poll_interval": 30, "config": {"host": "h"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sensor != "examples.disk" || s.PollInterval != 30*time.Second || s.Config["host"] != "h" {
		t.Errorf("got %+v", s)
	}
	s, err = ParseSettings(`{"sensor": "a.b"}`)
	if err != nil || s.PollInterval != DefaultPollInterval || s.Config == nil {
		t.Errorf("defaults: %+v, %v", s, err)
	}
	for in, want := range map[string]string{
		"":                          "BWC_SENSOR_CONFIG is not set",
		"{":                         "BWC_SENSOR_CONFIG: expected",
		`{"poll_interval": 0}`:      "poll_interval 0: expected a positive number of seconds",
		`{"poll_interval": "5s"}`:   "BWC_SENSOR_CONFIG: expected",
		`{"sensor": "a.b", "x": 1}`: `unknown field "x"`,
	} {
		if _, err := ParseSettings(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSettings(%q) error %v, want %q", in, err, want)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clk := clock.NewFake(time.Unix(0, 0))
	var stdout, stderr syncBuffer
	polled := make(chan int, 10)
	n := 0
	env := Env{Settings: Settings{Sensor: "examples.s", PollInterval: time.Minute, Config: map[string]any{"k": "v"}}, Stdout: &stdout, Stderr: &stderr, Clock: clk}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(runCtx, env, func(ctx context.Context, emit Emit) error {
			n++
			if SettingsFrom(ctx).Config["k"] != "v" {
				t.Error("settings not in the context")
			}
			if err := emit("examples.tick", map[string]any{"n": n}); err != nil {
				return err
			}
			if err := emit("not a ref", nil); err == nil {
				t.Error("emit accepted a bad trigger reference")
			}
			polled <- n
			if n == 2 {
				return errors.New("device unreachable")
			}
			return nil
		})
	}()
	if got := <-polled; got != 1 {
		t.Fatalf("first poll %d", got)
	}
	// The next poll waits for the interval on the clock.
	if err := clk.WaitDeadline(ctx, time.Unix(60, 0)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	<-polled
	if err := clk.WaitDeadline(ctx, time.Unix(120, 0)); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	want := `{"trigger":"examples.tick","payload":{"n":1}}` + "\n" + `{"trigger":"examples.tick","payload":{"n":2}}` + "\n"
	if stdout.String() != want {
		t.Errorf("stdout =\n%s\nwant\n%s", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), "bwc sensor examples.s: poll failed: device unreachable") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestRunStopsWhenStdoutFails(t *testing.T) {
	env := Env{Settings: Settings{Sensor: "a.b"}, Stdout: failWriter{}, Stderr: &bytes.Buffer{}, Clock: clock.NewFake(time.Unix(0, 0))}
	err := Run(context.Background(), env, func(ctx context.Context, emit Emit) error {
		return emit("a.b", nil)
	})
	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("Run = %v, want the write error", err)
	}
}

func TestParseLine(t *testing.T) {
	e, err := ParseLine([]byte(`{"trigger": "a.b", "payload": {"id": 12345678901234567890}}`))
	if err != nil || e.Trigger != "a.b" || e.Payload["id"] != json.Number("12345678901234567890") {
		t.Fatalf("ParseLine = %+v, %v", e, err)
	}
	for _, bad := range []string{`{}`, `{"trigger": "ab"}`, `{"trigger": "a.b", "extra": 1}`, `{"trigger": "a.b"} {}`, `[1]`, `log line`} {
		if _, err := ParseLine([]byte(bad)); err == nil {
			t.Errorf("ParseLine(%s) accepted", bad)
		}
	}
	var got []string
	var badLines []int
	err = ReadEmissions(strings.NewReader("{\"trigger\":\"a.b\"}\n\noops\n{\"trigger\":\"c.d\",\"payload\":{}}\n"),
		func(e Emission) error { got = append(got, e.Trigger); return nil },
		func(n int, _ error) { badLines = append(badLines, n) })
	if err != nil || strings.Join(got, ",") != "a.b,c.d" || len(badLines) != 1 || badLines[0] != 3 {
		t.Errorf("ReadEmissions: %v %v %v", got, badLines, err)
	}
	long := strings.Repeat("x", MaxLineBytes+1)
	if err := ReadEmissions(strings.NewReader(long), func(Emission) error { return nil }, nil); err == nil {
		t.Error("an over-long line was accepted")
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{`{"trigger":"a.b","payload":{"x":[1,{"y":null}]}}`, `{"trigger":"a.b"}`, `{`, ``, `{"trigger":1}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseLine(line)
		if err != nil {
			return
		}
		if !refPattern.MatchString(e.Trigger) || e.Payload == nil {
			t.Fatalf("accepted %q as %+v", line, e)
		}
	})
}

// buildSample builds testdata/samplesensor with go build, as the engine
// builds a pack's sensor.
func buildSample(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "samplesensor")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/samplesensor")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestSampleSensorProcess(t *testing.T) {
	bin := buildSample(t)
	start := func(t *testing.T, settings string) (*exec.Cmd, io.WriteCloser, chan Emission, chan string) {
		t.Helper()
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), ConfigEnv+"="+settings)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		errPipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stderr := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(errPipe)
			for sc.Scan() {
				stderr <- sc.Text()
			}
			close(stderr)
		}()
		out := make(chan Emission, 10)
		go func() {
			_ = ReadEmissions(stdout, func(e Emission) error { out <- e; return nil }, func(n int, err error) { t.Errorf("line %d: %v", n, err) })
			close(out)
		}()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return cmd, stdin, out, stderr
	}
	settings := `{"sensor": "examples.sample", "poll_interval": 3600, "config": {"count": 2, "host": "web1", "fail": true}}`

	t.Run("stops when stdin closes", func(t *testing.T) {
		cmd, stdin, out, stderr := start(t, settings)
		for i := range 2 {
			e, ok := <-out
			if !ok {
				t.Fatalf("output ended after %d lines", i)
			}
			if e.Trigger != "examples.tick" || e.Payload["host"] != "web1" || e.Payload["i"] != json.Number(strconv.Itoa(i)) {
				t.Errorf("emission %d = %+v", i, e)
			}
		}
		// The failed poll is logged, and the sensor keeps running.
		if line := <-stderr; !strings.Contains(line, "bwc sensor examples.sample: poll failed: the device did not answer") {
			t.Errorf("stderr line %q", line)
		}
		if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
			t.Fatalf("the sensor exited early: %v", err)
		}
		// Closing stdin is how the engine stops its sensors.
		if err := stdin.Close(); err != nil {
			t.Fatal(err)
		}
		for e := range out {
			t.Errorf("unexpected emission %+v", e)
		}
		for line := range stderr {
			t.Errorf("unexpected stderr line %q", line)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("exit: %v", err)
		}
	})

	t.Run("stops on SIGTERM", func(t *testing.T) {
		cmd, _, out, stderr := start(t, settings)
		<-out
		<-out
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for range out {
		}
		for range stderr {
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("exit: %v", err)
		}
	})

	t.Run("bad settings exit 2", func(t *testing.T) {
		cmd, _, out, stderr := start(t, `{"poll_interval": -1}`)
		for range out {
		}
		var lines []string
		for line := range stderr {
			lines = append(lines, line)
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Fatalf("exit %v, want status 2", err)
		}
		if len(lines) != 1 || !strings.Contains(lines[0], "poll_interval -1") {
			t.Errorf("stderr = %q", lines)
		}
	})
}

func TestSettingsEncode(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Settings
		want Settings
	}{
		{"full", Settings{Sensor: "a.b", PollInterval: 90 * time.Second, Config: map[string]any{"k": "v"}, Once: true},
			Settings{Sensor: "a.b", PollInterval: 90 * time.Second, Config: map[string]any{"k": "v"}, Once: true}},
		{"defaults", Settings{Sensor: "a.b"}, Settings{Sensor: "a.b", PollInterval: DefaultPollInterval, Config: map[string]any{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := tc.in.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseSettings(enc)
			if err != nil {
				t.Fatalf("ParseSettings(%s): %v", enc, err)
			}
			if got.Sensor != tc.want.Sensor || got.PollInterval != tc.want.PollInterval || got.Once != tc.want.Once || len(got.Config) != len(tc.want.Config) || got.Config["k"] != tc.want.Config["k"] {
				t.Errorf("round trip of %s = %+v, want %+v", enc, got, tc.want)
			}
		})
	}
}

func TestRunOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stdout  io.Writer
		pollErr error
		want    string // the error, "" for none
		lines   int
	}{
		{"the poll's emissions", &bytes.Buffer{}, nil, "", 2},
		{"the poll's error", &bytes.Buffer{}, errors.New("device unreachable"), "device unreachable", 2},
		{"stdout fails", failWriter{}, nil, "writing to the poller: writing a trigger instance to stdout: broken pipe", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			polls := 0
			env := Env{Settings: Settings{Sensor: "a.s", Config: map[string]any{"n": 2.0}, Once: true}, Stdout: tc.stdout, Stderr: &bytes.Buffer{}}
			err := RunOnce(context.Background(), env, func(ctx context.Context, emit Emit) error {
				polls++
				for i := range int(SettingsFrom(ctx).Config["n"].(float64)) {
					if err := emit("a.tick", map[string]any{"i": i}); err != nil {
						return err
					}
				}
				return tc.pollErr
			})
			if polls != 1 {
				t.Errorf("%d polls, want 1", polls)
			}
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("RunOnce = %v, want %q", err, tc.want)
			}
			if b, ok := tc.stdout.(*bytes.Buffer); ok {
				if n := strings.Count(b.String(), "\n"); n != tc.lines {
					t.Errorf("%d lines on stdout, want %d: %q", n, tc.lines, b.String())
				}
			}
		})
	}
}

// TestSampleSensorOnce runs the sample sensor in one-poll mode, as the
// poller function does.
func TestSampleSensorOnce(t *testing.T) {
	bin := buildSample(t)
	for _, tc := range []struct {
		name   string
		env    []string
		code   int
		lines  int
		stderr string
	}{
		{"once in the settings", []string{ConfigEnv + `={"sensor": "examples.sample", "once": true, "config": {"count": 2}}`}, 0, 2, ""},
		{"BWC_SENSOR_ONCE", []string{ConfigEnv + `={"sensor": "examples.sample", "config": {"count": 3}}`, OnceEnv + "=1"}, 0, 3, ""},
		{"under a Lambda runtime", []string{ConfigEnv + `={"sensor": "examples.sample", "once": true, "config": {"count": 1}}`, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9"}, 0, 1, ""},
		{"failed poll", []string{ConfigEnv + `={"sensor": "examples.sample", "once": true, "config": {"count": 1, "fail": true}}`}, 1, 1, "bwc sensor examples.sample: poll failed: the device did not answer"},
		{"not once under a Lambda runtime", []string{ConfigEnv + `={"sensor": "examples.sample", "config": {"count": 1}}`, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9"}, 2, 0, "the poller function runs it in one-poll mode"},
		{"bad settings", []string{ConfigEnv + `={"once": "yes"}`}, 2, 0, "BWC_SENSOR_CONFIG: expected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = append(os.Environ(), tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			// Stdin stays open: one-poll mode must not wait for its EOF.
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			err = cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			n := 0
			if err := ReadEmissions(&stdout, func(Emission) error { n++; return nil }, func(line int, err error) { t.Errorf("line %d: %v", line, err) }); err != nil {
				t.Fatal(err)
			}
			if n != tc.lines {
				t.Errorf("%d trigger instances, want %d", n, tc.lines)
			}
			if tc.stderr == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.stderr)
			}
		})
	}
}
