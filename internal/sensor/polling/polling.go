// Package polling is the engine side of a pack's custom polling sensors
// (package sdk is the sensor side), shared by both engines: Checker checks
// each trigger instance a sensor emits against its trigger type's
// payload_schema (the embedded engine's long-running sensors and the
// poller function on AWS drop what it rejects), and Once runs a sensor
// binary for one poll (sdk's one-poll mode), as the poller function does.
//
// Concurrency: a Checker may be used from any number of goroutines.
package polling

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/sensor/payload"
	"github.com/bwc-project/bwc/internal/sensor/sdk"
)

// Why Check rejects an emission; errors.Is matches them.
var (
	// ErrUnknownTrigger: no loaded pack declares the trigger type.
	ErrUnknownTrigger = errors.New("unknown trigger type")
	// ErrSchema: the trigger type's payload_schema does not compile.
	ErrSchema = errors.New("payload_schema does not compile")
	// ErrPayload: the payload does not match the payload_schema (the
	// error is also a *payload.Error listing the problems).
	ErrPayload = errors.New("payload does not match its payload_schema")
)

// TriggerTypes looks trigger types up by reference; *pack.Set satisfies
// it.
type TriggerTypes interface {
	TriggerType(ref string) *pack.TriggerType
}

// Checker checks emissions against their trigger types, compiling each
// payload_schema once.
type Checker struct {
	types TriggerTypes

	mu      sync.Mutex
	schemas map[string]*payload.Schema
}

// NewChecker returns a Checker over the trigger types of types.
func NewChecker(types TriggerTypes) *Checker {
	return &Checker{types: types, schemas: map[string]*payload.Schema{}}
}

// Checked is an emission Check accepted.
type Checked struct {
	TriggerType *pack.TriggerType
	// DeclaredBy is set when another sensor declares the trigger type (a
	// warning: the emission is accepted).
	DeclaredBy string
}

// Check checks one emission of the sensor sensorRef. The error wraps
// ErrUnknownTrigger, ErrSchema or ErrPayload and says what was wrong.
func (c *Checker) Check(sensorRef string, e sdk.Emission) (Checked, error) {
	tt := c.types.TriggerType(e.Trigger)
	if tt == nil {
		return Checked{}, fmt.Errorf("%w %s: no loaded pack declares it", ErrUnknownTrigger, e.Trigger)
	}
	out := Checked{TriggerType: tt}
	if tt.Sensor != "" && tt.Sensor != sensorRef {
		out.DeclaredBy = tt.Sensor
	}
	sch, err := c.schema(tt)
	if err != nil {
		return Checked{}, fmt.Errorf("trigger type %s: %w: %w", tt.Ref, ErrSchema, err)
	}
	if err := sch.Check(tt.Ref, e.Payload); err != nil {
		return Checked{}, fmt.Errorf("%w: %w", ErrPayload, err)
	}
	return out, nil
}

func (c *Checker) schema(tt *pack.TriggerType) (*payload.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.schemas[tt.Ref]; ok {
		return s, nil
	}
	var doc any
	if len(tt.PayloadSchema) > 0 {
		doc = tt.PayloadSchema
	}
	s, err := payload.Compile(doc)
	if err != nil {
		return nil, err
	}
	c.schemas[tt.Ref] = s
	return s, nil
}

// Why Once failed; errors.Is matches them.
var (
	// ErrNotBuilt: the sensor's binary does not exist.
	ErrNotBuilt = errors.New("sensor binary not built")
	// ErrPollFailed: the sensor exited with a non-zero status (its poll
	// returned an error, or it could not read its settings).
	ErrPollFailed = errors.New("poll failed")
	// ErrTimeout: the poll was still running at the deadline.
	ErrTimeout = errors.New("poll timed out")
	// ErrTooManyEmissions: the poll emitted more than MaxEmissions (in
	// Poll.Bad, counting the ones dropped).
	ErrTooManyEmissions = errors.New("too many emissions in one poll")
)

// OnceOptions are the optional parts of Once.
type OnceOptions struct {
	// Env is the sensor process's environment besides BWC_SENSOR_CONFIG;
	// nil: the caller's (os.Environ()).
	Env []string
	// Stderr receives the sensor's stderr (its logs); nil: discarded. The
	// last lines are also in the error of a failed poll.
	Stderr io.Writer
	// Grace is how long the sensor has to exit after SIGTERM at ctx's
	// end before it is killed; default 2s.
	Grace time.Duration
}

// Poll is what one poll emitted.
type Poll struct {
	// Emissions are the first MaxEmissions trigger instances written.
	Emissions []sdk.Emission
	// Bad are the lines of stdout skipped: the first MaxBad of those that
	// are not protocol lines, then one error counting the others; and,
	// when the poll emitted more than MaxEmissions, one error wrapping
	// ErrTooManyEmissions that counts the emissions dropped.
	Bad []error
}

const (
	// MaxBad bounds the errors Poll.Bad lists one by one.
	MaxBad = 100
	// MaxEmissions bounds the trigger instances Once keeps from one poll
	// (what the poller publishes in one invocation); the sensor's stdout
	// is still read to its end, the rest counted and dropped.
	MaxEmissions = 1000
)

// Once runs the sensor binary bin for one poll with settings (Once is
// forced on) and returns the trigger instances it wrote. When ctx ends
// first the sensor is sent SIGTERM (its poll's context is cancelled) and
// killed after opts.Grace; the error then wraps ErrTimeout. A sensor that
// exits non-zero gives an error wrapping ErrPollFailed with the end of its
// stderr; the emissions it wrote before are returned with it.
func Once(ctx context.Context, bin string, settings sdk.Settings, opts OnceOptions) (Poll, error) {
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return Poll{}, fmt.Errorf("sensor %s: %w: no executable %s", settings.Sensor, ErrNotBuilt, bin)
	}
	settings.Once = true
	enc, err := settings.Encode()
	if err != nil {
		return Poll{}, fmt.Errorf("encoding the settings of sensor %s: %w", settings.Sensor, err)
	}
	if opts.Grace <= 0 {
		opts.Grace = 2 * time.Second
	}
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(append([]string{}, env...), sdk.ConfigEnv+"="+enc)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = opts.Grace
	tail := &tailWriter{max: 2048}
	if opts.Stderr != nil {
		cmd.Stderr = io.MultiWriter(opts.Stderr, tail)
	} else {
		cmd.Stderr = tail
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Poll{}, fmt.Errorf("running sensor %s: %w", settings.Sensor, err)
	}
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return Poll{}, fmt.Errorf("sensor %s: %w before it started: %w", settings.Sensor, ErrTimeout, context.Cause(ctx))
		}
		return Poll{}, fmt.Errorf("running sensor %s (%s): %w", settings.Sensor, bin, err)
	}
	var p Poll
	skipped, over := 0, 0
	readErr := sdk.ReadEmissions(stdout, func(e sdk.Emission) error {
		if len(p.Emissions) < MaxEmissions {
			p.Emissions = append(p.Emissions, e)
		} else {
			over++
		}
		return nil
	}, func(line int, err error) {
		if len(p.Bad) < MaxBad {
			p.Bad = append(p.Bad, fmt.Errorf("stdout line %d: %w", line, err))
		} else {
			skipped++
		}
	})
	if skipped > 0 {
		p.Bad = append(p.Bad, fmt.Errorf("%d more stdout lines after line %d are not protocol lines either", skipped, MaxBad))
	}
	if over > 0 {
		p.Bad = append(p.Bad, fmt.Errorf("%w: %d trigger instances after the first %d dropped", ErrTooManyEmissions, over, MaxEmissions))
	}
	if readErr != nil {
		_, _ = io.Copy(io.Discard, stdout)
	}
	waitErr := cmd.Wait()
	switch {
	case waitErr != nil && ctx.Err() != nil:
		return p, fmt.Errorf("sensor %s: %w: %w", settings.Sensor, ErrTimeout, context.Cause(ctx))
	case waitErr != nil:
		msg := tail.String()
		if msg == "" {
			msg = "(nothing on stderr)"
		}
		return p, fmt.Errorf("sensor %s: %w: %w: %s", settings.Sensor, ErrPollFailed, waitErr, msg)
	case readErr != nil:
		return p, fmt.Errorf("sensor %s: %w", settings.Sensor, readErr)
	}
	return p, nil
}

// tailWriter keeps the last max bytes written, at line boundaries when it
// can.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		cut := over
		if i := bytes.IndexByte(w.buf[over:], '\n'); i >= 0 && i < len(w.buf)-over-1 {
			cut = over + i + 1
		}
		w.buf = append([]byte(nil), w.buf[cut:]...)
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.buf))
}

// LogLines returns a writer that logs each line written to it, prefixed,
// at level Info: a sensor's stderr copied into the engine's log.
func LogLines(log *slog.Logger, prefix string) io.Writer {
	return &logWriter{log: log, prefix: prefix}
}

type logWriter struct {
	mu     sync.Mutex
	log    *slog.Logger
	prefix string
	buf    []byte
}

// maxLogLine bounds a line LogLines keeps waiting for its newline: a
// longer one is logged in pieces of that size.
const maxLogLine = 16 << 10

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) < maxLogLine {
				break
			}
			i = maxLogLine
			w.log.Info(w.prefix + string(w.buf[:i]))
			w.buf = w.buf[i:]
			continue
		}
		w.log.Info(w.prefix + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	// Keep no more than the unfinished line.
	w.buf = append(w.buf[:0:0], w.buf...)
	return len(p), nil
}
