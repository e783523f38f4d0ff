package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/sensor/polling"
	"github.com/bwc-project/bwc/internal/sensor/sdk"
)

// sensorRunner builds the custom polling sensors of the packs (Go main
// packages) and runs each as a child process that speaks package sdk's
// protocol: it reads their trigger instances from their stdout, checks
// each payload against its trigger type's payload_schema and puts it on
// the bus. A sensor that exits is started again after a pause.
type sensorRunner struct {
	sensors  []*pack.Sensor
	set      *pack.Set
	configs  packConfigs
	pub      Publisher
	cacheDir string
	log      *slog.Logger
	restart  time.Duration
	check    *polling.Checker
}

// goSensors returns the enabled sensors of set that have a Go entry point.
func goSensors(set *pack.Set) []*pack.Sensor {
	var out []*pack.Sensor
	for _, s := range set.Sensors() {
		if s.Enabled && s.EntryPointPath != "" {
			out = append(out, s)
		}
	}
	return out
}

// run builds and runs every sensor until ctx ends.
func (r *sensorRunner) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range r.sensors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.supervise(ctx, s)
		}()
	}
	wg.Wait()
}

func (r *sensorRunner) supervise(ctx context.Context, s *pack.Sensor) {
	log := r.log.With("sensor", s.Ref)
	bin, err := r.build(ctx, s)
	if err != nil {
		log.Error("building a sensor; it does not run", "err", err)
		return
	}
	for ctx.Err() == nil {
		if err := r.runOnce(ctx, s, bin, log); err != nil && ctx.Err() == nil {
			log.Error("sensor stopped; starting it again", "err", err, "after", r.restart)
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.restart):
		}
	}
}

// build compiles the sensor's main package into the cache, once per
// source content.
func (r *sensorRunner) build(ctx context.Context, s *pack.Sensor) (string, error) {
	src, err := filepath.Abs(filepath.FromSlash(s.EntryPointPath))
	if err != nil {
		return "", fmt.Errorf("sensor %s: %w", s.Ref, err)
	}
	dir := src
	if st, err := os.Stat(src); err == nil && !st.IsDir() {
		dir = filepath.Dir(src)
	}
	h := sha256.New()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("reading sensor %s: %w", s.Ref, err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", fmt.Errorf("reading sensor %s: %w", s.Ref, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(b))
		h.Write(b)
	}
	bin := filepath.Join(r.cacheDir, s.Ref+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(r.cacheDir, 0o700); err != nil {
		return "", fmt.Errorf("building sensor %s: %w", s.Ref, err)
	}
	// A temporary name of our own: two engines may build the same sensor.
	tmp := bin + ".tmp-" + randomID()[:8]
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building sensor %s (go build in %s): %w\n%s", s.Ref, dir, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("building sensor %s: %w", s.Ref, err)
	}
	return bin, nil
}

// runOnce runs the sensor process until it exits or ctx ends (then its
// stdin is closed, which asks it to stop, and it is killed if it lingers).
func (r *sensorRunner) runOnce(ctx context.Context, s *pack.Sensor, bin string, log *slog.Logger) error {
	settings, err := sdk.Settings{
		Sensor:       s.Ref,
		PollInterval: time.Duration(pollInterval(s)) * time.Second,
		Config:       r.configs[s.Pack],
	}.Encode()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), sdk.ConfigEnv+"="+settings)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = polling.LogLines(log, "sensor: ")
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the sensor: %w", err)
	}
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = stdin.Close()
			select {
			case <-stopped:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
			}
		case <-stopped:
		}
	}()
	readErr := sdk.ReadEmissions(stdout, func(e sdk.Emission) error {
		r.emit(ctx, s, e, log)
		return nil
	}, func(line int, err error) {
		log.Warn("sensor wrote a line that is not a trigger instance", "line", line, "err", err)
	})
	if readErr != nil {
		_, _ = io.Copy(io.Discard, stdout)
	}
	err = cmd.Wait()
	close(stopped)
	return errors.Join(readErr, err)
}

func pollInterval(s *pack.Sensor) int {
	if s.PollInterval > 0 {
		return s.PollInterval
	}
	return int(sdk.DefaultPollInterval / time.Second)
}

// emit checks and publishes one trigger instance a sensor wrote.
func (r *sensorRunner) emit(ctx context.Context, s *pack.Sensor, e sdk.Emission, log *slog.Logger) {
	checked, err := r.check.Check(s.Ref, e)
	if err != nil {
		log.Warn("sensor emitted a trigger instance that does not check; dropped", "trigger", e.Trigger, "err", err)
		return
	}
	if checked.DeclaredBy != "" {
		log.Warn("sensor emitted a trigger type another sensor declares", "trigger", e.Trigger, "declared_by", checked.DeclaredBy)
	}
	out, err := r.pub.PutEvents(ctx, []bus.Entry{{Trigger: e.Trigger, Payload: e.Payload}})
	if err == nil && out.FailedEntryCount > 0 {
		err = errors.New(out.Entries[0].ErrorMessage)
	}
	if err != nil {
		log.Error("putting a sensor's trigger on the bus", "trigger", e.Trigger, "err", err)
	}
}
