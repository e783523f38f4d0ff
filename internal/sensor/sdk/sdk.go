// Package sdk is the small SDK for custom polling sensors written in Go
// in a pack (packs/<pack>/sensors/<name>/main.go). A sensor's main is one
// call:
//
//	func main() {
//		sdk.RunPoller(func(ctx context.Context, emit sdk.Emit) error {
//			cfg := sdk.SettingsFrom(ctx).Config
//			...
//			return emit("mypack.disk_full", map[string]any{"host": h, "free": free})
//		})
//	}
//
// The embedded engine builds the sensor with go build and runs it as a
// long-lived child process, speaking the protocol below. On AWS the same
// main, built into the poller function's bundle by `make lambda`, is run
// by the poller function once per scheduled poll in one-poll mode (see
// docs/sensors.md).
//
// # Protocol (engine <-> child process)
//
//   - The engine starts the binary with the environment variable
//     BWC_SENSOR_CONFIG set to a JSON object: {"sensor": "<pack>.<name>",
//     "poll_interval": <seconds, default 60>, "config": {<pack config>}}.
//   - The sensor writes one JSON object per line on stdout for each
//     trigger instance: {"trigger": "<pack>.<trigger>", "payload": {...}}.
//     Lines are at most MaxLineBytes. Nothing else goes to stdout; logs go
//     to stderr, which the engine copies into its log.
//   - The engine keeps the child's stdin open; when stdin reaches EOF (the
//     engine closed it or died) or the process receives SIGTERM or
//     SIGINT, the sensor's context is cancelled, the current poll is left
//     to return, and the process exits with status 0.
//   - A poll that returns an error is logged to stderr and the sensor
//     polls again at the next interval (as st2's PollingSensor). Exit
//     status 2 means the configuration could not be read.
//
// # One-poll mode (the poller function on AWS)
//
// With "once": true in BWC_SENSOR_CONFIG (or BWC_SENSOR_ONCE=1 in the
// environment, for running a sensor by hand) the sensor polls once, writes
// that poll's trigger instances as above and exits: status 0 when the poll
// returned nil, 1 when it returned an error (written on stderr as
// "bwc sensor <ref>: poll failed: <error>"), 2 when the configuration
// could not be read. Stdin is not watched; SIGTERM or SIGINT cancel the
// poll's context (the poller sends SIGTERM at its deadline). Trigger
// instances emitted before a failed poll returned are on stdout too: the
// caller decides what to do with them.
//
// Concurrency: the Emit function may be called from several goroutines.
package sdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/bwc-project/bwc/internal/sensor/clock"
)

// ConfigEnv is the environment variable holding the sensor's settings.
const ConfigEnv = "BWC_SENSOR_CONFIG"

// DefaultPollInterval is the poll interval when the settings give none.
const DefaultPollInterval = 60 * time.Second

// MaxLineBytes is the longest line a sensor may write (one trigger
// instance).
const MaxLineBytes = 1 << 20

// Emit sends one trigger instance to the engine.
type Emit func(trigger string, payload map[string]any) error

// PollFunc is one poll of a polling sensor.
type PollFunc func(ctx context.Context, emit Emit) error

// OnceEnv, set to "1", is the other way to ask for one poll (for running
// a sensor by hand); "once" in the settings is how the poller asks.
const OnceEnv = "BWC_SENSOR_ONCE"

// Settings are what the engine passes to a sensor.
type Settings struct {
	Sensor       string         `json:"sensor"`
	PollInterval time.Duration  `json:"-"`
	Config       map[string]any `json:"config"`
	// Once asks for one poll, then exit (one-poll mode).
	Once bool `json:"once,omitempty"`
}

// Encode returns the BWC_SENSOR_CONFIG value of s (ParseSettings reads
// it back).
func (s Settings) Encode() (string, error) {
	interval := s.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	cfg := s.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	b, err := json.Marshal(struct {
		Sensor       string         `json:"sensor"`
		PollInterval float64        `json:"poll_interval"`
		Config       map[string]any `json:"config"`
		Once         bool           `json:"once,omitempty"`
	}{s.Sensor, interval.Seconds(), cfg, s.Once})
	if err != nil {
		return "", fmt.Errorf("encoding the settings of sensor %s: %w", s.Sensor, err)
	}
	return string(b), nil
}

type settingsKey struct{}

// SettingsFrom returns the settings of the running sensor.
func SettingsFrom(ctx context.Context) Settings {
	s, _ := ctx.Value(settingsKey{}).(Settings)
	return s
}

// ParseSettings parses the BWC_SENSOR_CONFIG value.
func ParseSettings(s string) (Settings, error) {
	var raw struct {
		Sensor       string         `json:"sensor"`
		PollInterval *float64       `json:"poll_interval"`
		Config       map[string]any `json:"config"`
		Once         bool           `json:"once"`
	}
	if s == "" {
		return Settings{}, fmt.Errorf("%s is not set (the engine passes the sensor's settings in it)", ConfigEnv)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Settings{}, fmt.Errorf("%s: expected {\"sensor\", \"poll_interval\", \"config\", \"once\"}: %w", ConfigEnv, err)
	}
	out := Settings{Sensor: raw.Sensor, PollInterval: DefaultPollInterval, Config: raw.Config, Once: raw.Once}
	if raw.PollInterval != nil {
		if *raw.PollInterval <= 0 || *raw.PollInterval > 365*24*3600 {
			return Settings{}, fmt.Errorf("%s: poll_interval %v: expected a positive number of seconds", ConfigEnv, *raw.PollInterval)
		}
		out.PollInterval = time.Duration(*raw.PollInterval * float64(time.Second))
	}
	if out.Config == nil {
		out.Config = map[string]any{}
	}
	return out, nil
}

// Env is what Run needs from the process; RunPoller uses the real one.
type Env struct {
	Settings Settings
	Stdout   io.Writer
	Stderr   io.Writer
	Clock    clock.Clock
}

// RunPoller runs poll at the configured interval until the engine stops
// the sensor, then exits the process; in one-poll mode it polls once and
// exits. It does not return.
func RunPoller(poll PollFunc) {
	settings, err := ParseSettings(os.Getenv(ConfigEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bwc sensor:", err)
		os.Exit(2)
	}
	if os.Getenv(OnceEnv) == "1" {
		settings.Once = true
	}
	if !settings.Once && os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		// Not silently wait on a stdin that a Lambda does not have: on
		// AWS the poller function runs the sensor in one-poll mode.
		fmt.Fprintln(os.Stderr, "bwc sensor: a polling sensor is not a Lambda function of its own: the poller function runs it in one-poll mode (docs/sensors.md)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	env := Env{Settings: settings, Stdout: os.Stdout, Stderr: os.Stderr, Clock: clock.System()}
	if settings.Once {
		if err := RunOnce(ctx, env, poll); err != nil {
			fmt.Fprintf(os.Stderr, "bwc sensor %s: poll failed: %v\n", settings.Sensor, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		// stdin reaching EOF means the engine is gone or wants us to stop.
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	err = Run(ctx, env, poll)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "bwc sensor:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// RunOnce polls once (one-poll mode) and returns the poll's error, or the
// error of writing a trigger instance to env.Stdout.
func RunOnce(ctx context.Context, env Env, poll PollFunc) error {
	ctx = context.WithValue(ctx, settingsKey{}, env.Settings)
	w := &lineWriter{w: env.Stdout}
	err := poll(ctx, w.emit)
	if werr := w.failed(); werr != nil {
		return fmt.Errorf("writing to the poller: %w", werr)
	}
	return err
}

// Run polls immediately and then every env.Settings.PollInterval until
// ctx ends (it then returns ctx's error), or until writing to stdout fails.
func Run(ctx context.Context, env Env, poll PollFunc) error {
	if env.Settings.PollInterval <= 0 {
		env.Settings.PollInterval = DefaultPollInterval
	}
	if env.Clock == nil {
		env.Clock = clock.System()
	}
	ctx = context.WithValue(ctx, settingsKey{}, env.Settings)
	w := &lineWriter{w: env.Stdout}
	for {
		if err := poll(ctx, w.emit); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if w.failed() != nil {
				return fmt.Errorf("writing to the engine: %w", w.failed())
			}
			fmt.Fprintf(env.Stderr, "bwc sensor %s: poll failed: %v\n", env.Settings.Sensor, err)
		}
		t := env.Clock.NewTimer(env.Settings.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

// emit is the Emit of a sensor: it checks and writes one protocol line.
func (l *lineWriter) emit(trigger string, payload map[string]any) error {
	if !refPattern.MatchString(trigger) {
		return fmt.Errorf("emitting %q: not a trigger reference, expected \"<pack>.<name>\"", trigger)
	}
	if payload == nil {
		payload = map[string]any{}
	}
	line, err := json.Marshal(Emission{Trigger: trigger, Payload: payload})
	if err != nil {
		return fmt.Errorf("emitting %s: encoding the payload: %w", trigger, err)
	}
	if len(line)+1 > MaxLineBytes {
		return fmt.Errorf("emitting %s: the payload is %d bytes encoded, the limit is %d", trigger, len(line), MaxLineBytes)
	}
	return l.writeLine(line)
}

func (l *lineWriter) writeLine(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if _, err := l.w.Write(append(b, '\n')); err != nil {
		l.err = fmt.Errorf("writing a trigger instance to stdout: %w", err)
	}
	return l.err
}

func (l *lineWriter) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Emission is one line of the protocol.
type Emission struct {
	Trigger string         `json:"trigger"`
	Payload map[string]any `json:"payload"`
}

var refPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_.:-]+$`)

// ParseLine parses one protocol line (engine side).
func ParseLine(line []byte) (Emission, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var e Emission
	if err := dec.Decode(&e); err != nil {
		return Emission{}, fmt.Errorf("sensor output line is not {\"trigger\": \"<pack>.<name>\", \"payload\": {...}}: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Emission{}, errors.New("sensor output line has data after its JSON object")
	}
	if !refPattern.MatchString(e.Trigger) {
		return Emission{}, fmt.Errorf("sensor output line: trigger %q is not \"<pack>.<name>\"", e.Trigger)
	}
	if e.Payload == nil {
		e.Payload = map[string]any{}
	}
	return e, nil
}

// ReadEmissions reads protocol lines from a sensor's stdout until EOF,
// calling fn for each (engine side). A malformed line is reported to bad
// and skipped; a line longer than MaxLineBytes ends the read with an error.
func ReadEmissions(r io.Reader, fn func(Emission) error, bad func(lineNo int, err error)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		e, err := ParseLine(line)
		if err != nil {
			if bad != nil {
				bad(n, err)
			}
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading sensor output after line %d: %w", n, err)
	}
	return nil
}
