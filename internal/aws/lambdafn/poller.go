package lambdafn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/sensor/polling"
	"github.com/bwc-project/bwc/internal/sensor/sdk"
)

// SensorBinary is the name of a Go polling sensor's executable in the
// poller function's bundle: `make lambda` builds each sensor's main
// package into its own source directory there
// (packs/<pack>/sensors/<name>/bwc-sensor).
const SensorBinary = "bwc-sensor"

// Stable error names of the poller function.
const (
	// ErrNameSensorNotBuilt: the sensor is in the packs but its binary is
	// not in the function's bundle (the bundle was not built by `make
	// lambda`).
	ErrNameSensorNotBuilt = "bwc.SensorNotBuilt"
	// ErrNameSensorFailed: the sensor's poll returned an error (or the
	// sensor could not start); what it emitted before was published.
	ErrNameSensorFailed = "bwc.SensorFailed"
	// ErrNameSensorTimeout: the poll did not end before the function's
	// deadline; what it emitted before was published.
	ErrNameSensorTimeout = "bwc.SensorTimeout"
)

// PollerEvent is what a poller schedule sends: the sensor to poll
// ({"pack": "<pack>", "sensor": "<pack>.<name>"}; a sensor given without
// its pack is taken in Pack).
type PollerEvent struct {
	Pack   string `json:"pack"`
	Sensor string `json:"sensor"`
	// ScheduledTime, when the schedule sends it
	// (<aws.scheduler.scheduled-time>), names the poll in the event ids;
	// without it the Lambda request id does (the same in a retried
	// asynchronous invocation).
	ScheduledTime string `json:"scheduled_time,omitempty"`
}

// PollerResult is the summary of one poll.
type PollerResult struct {
	Sensor string `json:"sensor"`
	// Published are the trigger instances recorded and put on the bus, in
	// the order the sensor emitted them.
	Published []PolledInstance `json:"published"`
	// Dropped are the emissions that were not published, and why.
	Dropped []DroppedEmission `json:"dropped,omitempty"`
}

// PolledInstance is one published trigger instance.
type PolledInstance struct {
	Trigger           string `json:"trigger"`
	EventID           string `json:"event_id"`
	TriggerInstanceID string `json:"trigger_instance_id"`
	// Duplicate: a previous invocation of the same poll published it.
	Duplicate bool `json:"duplicate,omitempty"`
}

// DroppedEmission is an emission the poller did not publish.
type DroppedEmission struct {
	Trigger string `json:"trigger,omitempty"`
	Reason  string `json:"reason"`
}

// Poller is the poller function's handler.
type Poller struct {
	d     *Deps
	check *polling.Checker
}

// NewPoller builds the poller function's handler.
func NewPoller(d *Deps) *Poller {
	d.init()
	return &Poller{d: d, check: polling.NewChecker(d.Content.Packs)}
}

// Handle runs one poll of a pack's Go polling sensor: its binary (built
// by `make lambda` beside its source) in sdk's one-poll mode, with the
// pack's configuration, until a deadline below the invocation's remaining
// time. Each trigger instance it emits is checked against its trigger
// type's payload_schema as the embedded engine checks it (what fails is
// dropped and listed in the result), then recorded and put on the bus
// under an event id derived from the poll (the schedule's time, else the
// request id) and the emission, so that a retried invocation of the same
// poll that emits the same instances publishes nothing twice.
//
// Errors: bwc.BadEvent for an input that names no loaded Go polling
// sensor, bwc.SensorNotBuilt when its binary is missing, bwc.SensorFailed
// when the poll failed, bwc.SensorTimeout at the deadline (what the
// sensor emitted before a failure is published), bwc.Internal when
// publishing failed.
func (h *Poller) Handle(ctx context.Context, in PollerEvent) (PollerResult, error) {
	if in.Sensor == "" {
		return PollerResult{}, FunctionError(ErrNameBadEvent, `expected {"pack": "<pack>", "sensor": "<pack>.<name>"}`)
	}
	ref := in.Sensor
	if !strings.Contains(ref, ".") {
		ref = in.Pack + "." + ref
	}
	s := h.d.Content.Packs.Sensor(ref)
	if s == nil {
		return PollerResult{}, FunctionError(ErrNameBadEvent, fmt.Sprintf("no sensor %s is loaded in the function's packs", ref))
	}
	if s.EntryPointPath == "" {
		return PollerResult{}, FunctionError(ErrNameBadEvent, fmt.Sprintf("sensor %s (%s) is not a Go polling sensor: it has no entry_point", ref, s.Pos.File))
	}
	if !s.Enabled {
		return PollerResult{}, FunctionError(ErrNameBadEvent, fmt.Sprintf("sensor %s is disabled (%s)", ref, s.Pos.File))
	}
	pollKey := in.ScheduledTime
	if pollKey == "" {
		pollKey = requestID(ctx)
	}
	log := h.d.logger(ctx, "poller").With("sensor", ref)

	pollCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	grace := 2 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		// Leave time to publish what the poll emitted.
		margin := min(max(time.Until(dl)/5, time.Second), 10*time.Second)
		grace = margin / 2
		pollCtx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	poll, err := polling.Once(pollCtx, SensorBinaryPath(s), sdk.Settings{
		Sensor:       ref,
		PollInterval: time.Duration(s.PollInterval) * time.Second,
		Config:       h.d.Configs[s.Pack],
	}, polling.OnceOptions{Stderr: polling.LogLines(log, "sensor: "), Grace: grace})
	if errors.Is(err, polling.ErrNotBuilt) {
		log.Error("the sensor is not in the function's bundle", "err", err)
		return PollerResult{}, FunctionError(ErrNameSensorNotBuilt, err.Error()+" (build the bundle with `make lambda`)")
	}
	res := PollerResult{Sensor: ref}
	for _, bad := range poll.Bad {
		log.Warn("sensor wrote a line that is not a trigger instance", "err", bad)
		res.Dropped = append(res.Dropped, DroppedEmission{Reason: bad.Error()})
	}
	if perr := h.publish(ctx, s, pollKey, poll.Emissions, &res, log); perr != nil {
		log.Error("publishing the poll's trigger instances", "err", perr)
		return res, FunctionError(ErrNameInternal, perr.Error())
	}
	if err != nil {
		name := ErrNameSensorFailed
		if errors.Is(err, polling.ErrTimeout) {
			name = ErrNameSensorTimeout
		}
		log.Error("poll failed", "err", err, "published", len(res.Published), "dropped", len(res.Dropped))
		return res, FunctionError(name, err.Error())
	}
	log.Info("polled", "published", len(res.Published), "dropped", len(res.Dropped))
	return res, nil
}

// SensorBinaryPath is where the poller looks for the sensor's executable:
// SensorBinary in the directory of its entry point.
func SensorBinaryPath(s *pack.Sensor) string {
	dir := filepath.FromSlash(s.EntryPointPath)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	return filepath.Join(dir, SensorBinary)
}

// publish checks the emissions and puts those that pass on the bus.
func (h *Poller) publish(ctx context.Context, s *pack.Sensor, pollKey string, emissions []sdk.Emission, res *PollerResult, log *slog.Logger) error {
	var entries []bus.Entry
	seen := map[string]int{}
	for _, e := range emissions {
		checked, err := h.check.Check(s.Ref, e)
		if err != nil {
			log.Warn("sensor emitted a trigger instance that does not check; dropped", "trigger", e.Trigger, "err", err)
			res.Dropped = append(res.Dropped, DroppedEmission{Trigger: e.Trigger, Reason: err.Error()})
			continue
		}
		if checked.DeclaredBy != "" {
			log.Warn("sensor emitted a trigger type another sensor declares", "trigger", e.Trigger, "declared_by", checked.DeclaredBy)
		}
		entries = append(entries, bus.Entry{ID: pollEventID(s.Ref, pollKey, e, seen), Trigger: e.Trigger, Payload: e.Payload})
	}
	if len(entries) == 0 {
		return nil
	}
	out, err := h.d.Events.PutEvents(ctx, entries)
	if err != nil {
		return fmt.Errorf("putting %d trigger instances of sensor %s on the bus: %w", len(entries), s.Ref, err)
	}
	var failed []error
	for i, r := range out.Entries {
		if r.ErrorCode != "" {
			failed = append(failed, fmt.Errorf("%s: %s: %s", entries[i].Trigger, r.ErrorCode, r.ErrorMessage))
			continue
		}
		res.Published = append(res.Published, PolledInstance{Trigger: entries[i].Trigger, EventID: r.EventID, TriggerInstanceID: r.TriggerInstanceID, Duplicate: r.Duplicate})
	}
	if len(failed) > 0 {
		return fmt.Errorf("putting trigger instances of sensor %s on the bus: %d of %d failed: %w", s.Ref, len(failed), len(entries), errors.Join(failed...))
	}
	return nil
}

// pollEventID is the event id of an emission of the poll pollKey: the
// sensor, the poll, the trigger and payload, and how many identical
// emissions came before it in the poll. Empty (a fresh id) without a poll
// key.
func pollEventID(sensor, pollKey string, e sdk.Emission, seen map[string]int) string {
	if pollKey == "" {
		return ""
	}
	body, err := json.Marshal(e.Payload)
	if err != nil {
		return ""
	}
	content := e.Trigger + "\x00" + string(body)
	n := seen[content]
	seen[content]++
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", sensor, pollKey, content, n))
	return "poll:" + sensor + ":" + hex.EncodeToString(sum[:16])
}
