// Package eventbridge is the AWS engine's event bus adapter: it puts BWC
// trigger events on an Amazon EventBridge bus with events:PutEvents, in the
// envelope DESIGN.md describes (detail-type = the trigger type's reference,
// source = bwc.<pack>, detail = the payload with the trigger instance id,
// the trace tag and the trigger parameters; see rule.Envelope).
//
// [Publisher.PutEvents] has the shape of the embedded bus's
// (bus.Bus.PutEvents): each entry is first recorded as a trigger instance
// (through the [Recorder] port, the DynamoDB store on Lambda), then sent to
// EventBridge in batches of at most 10 entries, and the answer has one
// result per entry, in order. A recorded event whose id was seen before is
// acknowledged as a duplicate; it is sent again only while its trigger
// instance is still pending (a crash between the record and the send), and
// the enforcer is idempotent per trigger instance, so a redelivery starts
// nothing twice.
//
// Limits: a batch holds at most [MaxBatch] entries and [MaxEntriesSize]
// bytes as EventBridge counts them; an entry over that size alone fails
// with bus.ErrCodeInvalid before anything is recorded. Entries EventBridge
// refuses with a transient code (InternalFailure, ThrottlingException) are
// sent again, those alone, with exponential backoff, up to
// Options.Attempts times (the SDK retries only whole calls).
//
// Concurrency: a Publisher is safe for concurrent use if its ports are.
package eventbridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
)

// MaxBatch is the number of entries EventBridge takes in one PutEvents
// call.
const MaxBatch = 10

// MaxEntriesSize is the total size of the entries of one PutEvents call
// EventBridge takes, counted as [EntrySize] does (256 KiB).
const MaxEntriesSize = 256 * 1024

// EntrySize is the size of an entry as EventBridge counts it ("Calculating
// Amazon EventBridge PutEvents event entry size"): 14 bytes for a Time and
// the UTF-8 bytes of Source, DetailType, Detail and each resource.
func EntrySize(e types.PutEventsRequestEntry) int {
	n := len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	if e.Time != nil {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// retryable are the per-entry error codes of PutEvents worth another try.
var retryable = map[string]bool{"InternalFailure": true, "ThrottlingException": true, "InternalException": true, "ServiceUnavailable": true}

// eventsAPI is the subset of the EventBridge client the publisher calls;
// *eventbridge.Client satisfies it.
type eventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ eventsAPI = (*eventbridge.Client)(nil)

// Recorder keeps trigger instances; store.TriggerInstances satisfies it.
type Recorder interface {
	// CreateTriggerInstance stores ti: the stored record, or the existing
	// one and store.ErrAlreadyExists.
	CreateTriggerInstance(ctx context.Context, ti store.TriggerInstance) (store.TriggerInstance, error)
}

// Options configure a Publisher. The zero value works.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// NewID makes event ids for entries without one; default 32 random
	// hex digits.
	NewID func() string
	// Attempts is how many times an entry EventBridge refuses with a
	// transient error code is sent; default 4.
	Attempts int
	// Backoff is the wait before the first resend, doubled before each
	// next one; default 100ms.
	Backoff time.Duration
	// Sleep waits d or until ctx ends (its error); default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Publisher puts trigger events on an EventBridge bus.
type Publisher struct {
	api  eventsAPI
	bus  string
	rec  Recorder
	opts Options
}

// New returns a publisher to the bus named busName (BWC_EVENT_BUS) that
// records trigger instances with rec.
func New(api eventsAPI, busName string, rec Recorder, opts Options) *Publisher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = randomID
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 4
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 100 * time.Millisecond
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	return &Publisher{api: api, bus: busName, rec: rec, opts: opts}
}

// pending is an entry recorded and waiting to be sent.
type pending struct {
	index int
	entry types.PutEventsRequestEntry
}

// PutEvents records each entry as a trigger instance and puts it on the
// bus. Per-entry failures are in the Output (ErrorCode bus.ErrCodeInvalid
// for an entry that cannot succeed as it is, bus.ErrCodeInternal or
// EventBridge's own error code otherwise); the error is non-nil only when
// ctx ends.
func (p *Publisher) PutEvents(ctx context.Context, entries []bus.Entry) (bus.Output, error) {
	out := bus.Output{Entries: make([]bus.EntryResult, len(entries))}
	var batch []pending
	for i, e := range entries {
		res, req, send, err := p.record(ctx, e)
		out.Entries[i] = res
		if err != nil {
			out.Entries[i].ErrorMessage = err.Error()
			continue
		}
		if send {
			batch = append(batch, pending{index: i, entry: req})
		}
	}
	wait := p.opts.Backoff
	for attempt := 1; len(batch) > 0; attempt++ {
		var again []pending
		for _, b := range batches(batch) {
			again = append(again, p.send(ctx, b, &out)...)
		}
		if len(again) == 0 || attempt >= p.opts.Attempts || p.opts.Sleep(ctx, wait) != nil {
			break
		}
		batch, wait = again, 2*wait
	}
	for _, r := range out.Entries {
		if r.ErrorCode != "" {
			out.FailedEntryCount++
		}
	}
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("putting %d events on bus %s: %w", len(entries), p.bus, err)
	}
	return out, nil
}

// record validates an entry, writes its trigger instance and builds the
// EventBridge entry; send is false for a duplicate already processed.
func (p *Publisher) record(ctx context.Context, e bus.Entry) (res bus.EntryResult, req types.PutEventsRequestEntry, send bool, err error) {
	newTI, err := bus.NewTriggerInstance(e, p.opts.NewID, p.opts.Now)
	if err != nil {
		return bus.EntryResult{ErrorCode: bus.ErrCodeInvalid}, req, false, err
	}
	payload := e.Payload
	if payload == nil {
		payload = map[string]any{}
	}
	e.ID = newTI.SourceEventID
	tiID, tag, at := newTI.ID, newTI.TraceTag, newTI.OccurredAt
	// An event EventBridge cannot take is refused before it is recorded:
	// recorded, it would stay pending and never be sent.
	if _, err := p.entry(tiID, e, payload, tag, at); err != nil {
		return bus.EntryResult{ErrorCode: bus.ErrCodeInvalid}, req, false, err
	}
	ti, err := p.rec.CreateTriggerInstance(ctx, newTI)
	res = bus.EntryResult{EventID: e.ID, TriggerInstanceID: tiID}
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		res.Duplicate = true
		if ti.Status != "" && ti.Status != store.TriggerPending {
			return res, req, false, nil
		}
		// Recorded but maybe never sent: send it again (the enforcer is
		// idempotent per trigger instance).
		tag, at = ti.TraceTag, ti.OccurredAt
	case errors.Is(err, store.ErrInvalid):
		return bus.EntryResult{ErrorCode: bus.ErrCodeInvalid}, req, false, fmt.Errorf("recording a %s event: %w", e.Trigger, err)
	case err != nil:
		return bus.EntryResult{ErrorCode: bus.ErrCodeInternal}, req, false, fmt.Errorf("recording a %s event: %w", e.Trigger, err)
	}
	req, err = p.entry(tiID, e, payload, tag, at)
	if err != nil {
		return bus.EntryResult{ErrorCode: bus.ErrCodeInvalid}, req, false, err
	}
	return res, req, true, nil
}

// entry is the EventBridge entry of a recorded event; it fails for one
// EventBridge cannot take (over MaxEntriesSize).
func (p *Publisher) entry(tiID string, e bus.Entry, payload map[string]any, tag string, at time.Time) (types.PutEventsRequestEntry, error) {
	env := rule.NewEnvelope(tiID, e.Trigger, e.TriggerParameters, payload, tag, at)
	detail, err := json.Marshal(env.Detail)
	if err != nil {
		return types.PutEventsRequestEntry{}, fmt.Errorf("encoding the detail of a %s event: %w", e.Trigger, err)
	}
	req := types.PutEventsRequestEntry{
		EventBusName: aws.String(p.bus),
		Source:       aws.String(env.Source),
		DetailType:   aws.String(env.DetailType),
		Detail:       aws.String(string(detail)),
		Time:         aws.Time(env.Time),
	}
	if n := EntrySize(req); n > MaxEntriesSize {
		return types.PutEventsRequestEntry{}, fmt.Errorf("a %s event of %d bytes (payload, trigger parameters and envelope) is over the %d bytes EventBridge takes: %w", e.Trigger, n, MaxEntriesSize, ErrTooLarge)
	}
	return req, nil
}

// ErrTooLarge: an event is over the size EventBridge takes.
var ErrTooLarge = errors.New("event too large")

// batches splits entries into PutEvents calls of at most MaxBatch entries
// and MaxEntriesSize bytes (each entry is at most MaxEntriesSize).
func batches(entries []pending) [][]pending {
	var out [][]pending
	start, size := 0, 0
	for i, e := range entries {
		n := EntrySize(e.entry)
		if i > start && (i-start == MaxBatch || size+n > MaxEntriesSize) {
			out = append(out, entries[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(entries) {
		out = append(out, entries[start:])
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// send puts one batch (at most MaxBatch entries) and copies the per-entry
// outcomes into out; it returns the entries refused with a transient
// code, to be sent again.
func (p *Publisher) send(ctx context.Context, batch []pending, out *bus.Output) (again []pending) {
	in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(batch))}
	for i, b := range batch {
		in.Entries[i] = b.entry
	}
	resp, err := p.api.PutEvents(ctx, in)
	if err == nil && len(resp.Entries) != len(batch) {
		err = fmt.Errorf("EventBridge answered %d results for %d entries", len(resp.Entries), len(batch))
	}
	for i, b := range batch {
		r := &out.Entries[b.index]
		if err != nil {
			r.ErrorCode = bus.ErrCodeInternal
			r.ErrorMessage = fmt.Sprintf("putting the event on bus %s: %v", p.bus, err)
			continue
		}
		*r = bus.EntryResult{EventID: r.EventID, TriggerInstanceID: r.TriggerInstanceID, Duplicate: r.Duplicate}
		if code := aws.ToString(resp.Entries[i].ErrorCode); code != "" {
			r.ErrorCode = code
			r.ErrorMessage = fmt.Sprintf("putting the event on bus %s: %s", p.bus, aws.ToString(resp.Entries[i].ErrorMessage))
			if retryable[code] {
				again = append(again, b)
			}
		}
	}
	return again
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
