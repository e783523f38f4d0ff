package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwc-project/bwc/internal/pattern"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
)

// Recorder keeps trigger instances; store.TriggerInstances satisfies it.
type Recorder interface {
	// CreateTriggerInstance stores ti (see store.TriggerInstances): the
	// stored record, or the existing one and store.ErrAlreadyExists.
	CreateTriggerInstance(ctx context.Context, ti store.TriggerInstance) (store.TriggerInstance, error)
	// SetTriggerInstanceStatus changes the status compare-and-set.
	SetTriggerInstanceStatus(ctx context.Context, id string, from, to store.TriggerInstanceStatus) (store.TriggerInstance, error)
}

// Target handles one event for one rule that matched it (the enforcer). It
// must be idempotent for a given (trigger instance id, rule): a redelivered
// event calls it again.
type Target interface {
	Enforce(ctx context.Context, ruleRef string, env rule.Envelope) error
}

// TargetFunc adapts a function to [Target].
type TargetFunc func(ctx context.Context, ruleRef string, env rule.Envelope) error

// Enforce calls f.
func (f TargetFunc) Enforce(ctx context.Context, ruleRef string, env rule.Envelope) error {
	return f(ctx, ruleRef, env)
}

// Entry is one event put on the bus: a trigger instance to be.
type Entry struct {
	// ID is the event id. Two entries with the same id are one event: the
	// second is acknowledged as a duplicate and not delivered. Empty: the bus
	// assigns a fresh id.
	ID string `json:"id,omitempty"`
	// Trigger is the trigger type reference (the detail-type).
	Trigger string `json:"trigger"`
	// TriggerParameters select among the rules on the same trigger type (a
	// webhook's url, a timer's schedule).
	TriggerParameters map[string]any `json:"trigger_parameters,omitempty"`
	// Payload is the trigger's payload.
	Payload map[string]any `json:"payload"`
	// TraceTag links the records the event causes; empty: the trigger
	// instance id.
	TraceTag string `json:"trace_tag,omitempty"`
	// Time is when the event happened; zero: now.
	Time time.Time `json:"time,omitzero"`
}

// Error codes of a rejected entry.
const (
	// ErrCodeInvalid: the entry is malformed (no trigger, a payload that
	// does not encode); retrying it as is fails again.
	ErrCodeInvalid = "InvalidArgument"
	// ErrCodeInternal: the trigger instance could not be recorded (a storage
	// error) or the bus is closed; retrying may succeed.
	ErrCodeInternal = "InternalFailure"
)

// EntryResult is the outcome of one entry, in the order of the entries.
type EntryResult struct {
	// EventID is the entry's event id (assigned by the bus when it had
	// none); empty when the entry was rejected.
	EventID string `json:"event_id,omitempty"`
	// TriggerInstanceID is the id of the recorded trigger instance.
	TriggerInstanceID string `json:"trigger_instance_id,omitempty"`
	// Duplicate is true when the event id was recorded before: the entry
	// is acknowledged and nothing more happens.
	Duplicate bool `json:"duplicate,omitempty"`
	// ErrorCode and ErrorMessage say why an entry was rejected (nothing was
	// recorded for it).
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
}

// Output is the answer to PutEvents.
type Output struct {
	FailedEntryCount int           `json:"failed_entry_count"`
	Entries          []EntryResult `json:"entries"`
}

// Options configure a Bus. The zero value works.
type Options struct {
	// Workers is the number of delivery goroutines; default 64. Each
	// spends most of its time waiting for the store to commit what the
	// enforcer writes, so many of them keep the store's group commit fed.
	Workers int
	// QueueSize bounds the events accepted but not yet delivered; default
	// 4096.
	QueueSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// NewID makes event ids; default 32 random hex digits.
	NewID func() string
	// Logger receives delivery failures; default slog.Default().
	Logger *slog.Logger
}

// ErrClosed is returned by PutEvents after Close.
var ErrClosed = errors.New("the event bus is closed")

// Bus is the in-process event bus.
type Bus struct {
	rec    Recorder
	target Target
	opts   Options

	rules atomic.Pointer[pattern.Matcher]

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan delivery
	wg     sync.WaitGroup
	start  sync.Once
}

type delivery struct {
	ti   store.TriggerInstance
	env  rule.Envelope
	raw  []byte
	refs []string // the rules matched when the event was put; nil: match on delivery
}

// New returns a bus that records trigger instances with rec and delivers
// matched events to target. Call SetRules, then Start.
func New(rec Recorder, target Target, opts Options) *Bus {
	if opts.Workers <= 0 {
		opts.Workers = 64
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = randomID
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	b := &Bus{rec: rec, target: target, opts: opts, queue: make(chan delivery, opts.QueueSize)}
	b.rules.Store(pattern.NewMatcher())
	return b
}

// SetRules replaces the rules the bus routes to with the enabled rules of
// rules, keyed by their reference. It fails, changing nothing, when a
// pattern does not parse.
func (b *Bus) SetRules(rules []*rule.Compiled) error {
	m := pattern.NewMatcher()
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		if err := m.Add(r.Ref, r.Pattern); err != nil {
			return fmt.Errorf("adding the pattern of rule %s: %w", r.Ref, err)
		}
	}
	b.rules.Store(m)
	return nil
}

// Match returns the references of the rules whose pattern the event (the
// envelope's JSON) matches.
func (b *Bus) Match(raw []byte) ([]string, error) {
	return b.rules.Load().Match(raw)
}

// Start launches the delivery workers; they stop when Close is called (or
// ctx ends). Start is idempotent.
func (b *Bus) Start(ctx context.Context) {
	b.start.Do(func() {
		for range b.opts.Workers {
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				for d := range b.queue {
					b.deliver(ctx, d)
				}
			}()
		}
	})
}

// Close stops accepting events, delivers what is queued and waits for the
// workers. Events still queued when ctx of Start ends are left pending in
// the store, for Redeliver after a restart.
func (b *Bus) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	b.start.Do(func() {}) // a bus never started has no workers
	b.wg.Wait()
}

// PutEvents records each entry as a trigger instance and queues it for
// delivery. The error is non-nil only when ctx ends or the bus is closed
// before every accepted entry is queued; per-entry failures are in Output.
func (b *Bus) PutEvents(ctx context.Context, entries []Entry) (Output, error) {
	out := Output{Entries: make([]EntryResult, len(entries))}
	for i, e := range entries {
		res, d, err := b.record(ctx, e)
		if err != nil {
			out.FailedEntryCount++
			res.ErrorMessage = err.Error()
			out.Entries[i] = res
			continue
		}
		out.Entries[i] = res
		if res.Duplicate || len(d.refs) == 0 {
			continue
		}
		if err := b.enqueue(ctx, d); err != nil {
			// The instance is recorded pending: it is delivered after a
			// restart (Redeliver), so the entry is acknowledged.
			return out, err
		}
	}
	return out, nil
}

// record validates an entry and writes its trigger instance.
func (b *Bus) record(ctx context.Context, e Entry) (EntryResult, delivery, error) {
	ti, err := NewTriggerInstance(e, b.opts.NewID, b.opts.Now)
	if err != nil {
		return EntryResult{ErrorCode: ErrCodeInvalid}, delivery{}, err
	}
	tiID := ti.ID
	e.ID = ti.SourceEventID
	d, err := b.prepare(ti, e.TriggerParameters, e.Payload)
	if err != nil {
		return EntryResult{ErrorCode: ErrCodeInvalid}, delivery{}, err
	}
	// An event no rule selects is recorded processed at once: one write
	// instead of two, and nothing to deliver.
	d.refs, err = b.Match(d.raw)
	if err != nil {
		return EntryResult{ErrorCode: ErrCodeInvalid}, delivery{}, fmt.Errorf("matching a %s event: %w", e.Trigger, err)
	}
	if len(d.refs) == 0 {
		ti.Status = store.TriggerProcessed
	}
	ti, err = b.rec.CreateTriggerInstance(ctx, ti)
	res := EntryResult{EventID: e.ID, TriggerInstanceID: tiID}
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		res.Duplicate = true
		return res, delivery{}, nil
	case errors.Is(err, store.ErrInvalid):
		return EntryResult{ErrorCode: ErrCodeInvalid}, delivery{}, fmt.Errorf("recording a %s event: %w", e.Trigger, err)
	case err != nil:
		return EntryResult{ErrorCode: ErrCodeInternal}, delivery{}, fmt.Errorf("recording a %s event: %w", e.Trigger, err)
	}
	d.ti = ti
	return res, d, nil
}

// prepare builds the envelope of a recorded trigger instance.
func (b *Bus) prepare(ti store.TriggerInstance, params, payload map[string]any) (delivery, error) {
	env := rule.NewEnvelope(ti.ID, ti.Trigger, params, payload, ti.TraceTag, ti.OccurredAt)
	raw, err := env.JSON()
	if err != nil {
		return delivery{}, fmt.Errorf("encoding the event of trigger instance %s: %w", ti.ID, err)
	}
	return delivery{ti: ti, env: env, raw: raw}, nil
}

// Redeliver queues a trigger instance that was recorded but not processed
// (found pending after a restart). params are its trigger parameters.
func (b *Bus) Redeliver(ctx context.Context, ti store.TriggerInstance, params map[string]any) error {
	var payload map[string]any
	if len(ti.Payload) > 0 {
		if err := json.Unmarshal(ti.Payload, &payload); err != nil {
			return fmt.Errorf("redelivering trigger instance %s: decoding its payload: %w", ti.ID, err)
		}
	}
	d, err := b.prepare(ti, params, payload)
	if err != nil {
		return fmt.Errorf("redelivering trigger instance %s: %w", ti.ID, err)
	}
	return b.enqueue(ctx, d)
}

func (b *Bus) enqueue(ctx context.Context, d delivery) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	select {
	case b.queue <- d:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("queueing trigger instance %s: %w", d.ti.ID, ctx.Err())
	}
}

// deliver routes one event to the rules it matches, then records that the
// trigger instance was processed.
func (b *Bus) deliver(ctx context.Context, d delivery) {
	log := b.opts.Logger.With("trigger_instance", d.ti.ID, "trigger", d.ti.Trigger)
	to := store.TriggerProcessed
	refs := d.refs
	if refs == nil {
		var err error
		if refs, err = b.Match(d.raw); err != nil {
			log.Error("matching an event", "err", err)
			to = store.TriggerProcessingFailed
		}
	}
	for _, ref := range refs {
		if ctx.Err() != nil {
			return // left pending: redelivered after a restart
		}
		if err := b.target.Enforce(ctx, ref, d.env); err != nil {
			log.Error("enforcing a rule", "rule", ref, "err", err)
			to = store.TriggerProcessingFailed
		}
	}
	if ctx.Err() != nil {
		return
	}
	if _, err := b.rec.SetTriggerInstanceStatus(ctx, d.ti.ID, store.TriggerPending, to); err != nil && !errors.Is(err, store.ErrConflict) {
		log.Error("recording that a trigger instance was processed", "err", err)
	}
}

// NewTriggerInstance is the trigger instance an entry records, as every
// publisher (this bus, the EventBridge publisher on AWS) records it: the
// event id (newID when the entry has none), the trigger instance id derived
// from it, the payload as JSON, the time (now when the entry has none) and
// the trace tag (the trigger instance id when the entry has none). An entry
// without a trigger type or with a payload that does not encode is an
// error (ErrCodeInvalid).
func NewTriggerInstance(e Entry, newID func() string, now func() time.Time) (store.TriggerInstance, error) {
	if e.Trigger == "" {
		return store.TriggerInstance{}, errors.New("entry has no trigger type")
	}
	payload, err := json.Marshal(nonNil(e.Payload))
	if err != nil {
		return store.TriggerInstance{}, fmt.Errorf("encoding the payload of a %s event: %w", e.Trigger, err)
	}
	if e.ID == "" {
		e.ID = newID()
	}
	at := e.Time
	if at.IsZero() {
		at = now()
	}
	tiID := store.TriggerInstanceID(e.ID)
	tag := e.TraceTag
	if tag == "" {
		tag = tiID
	}
	return store.TriggerInstance{ID: tiID, Trigger: e.Trigger, Payload: payload, OccurredAt: at, SourceEventID: e.ID, TraceTag: tag}, nil
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
