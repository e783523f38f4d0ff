package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// putEventsInput is EventBridge's PutEvents request.
type putEventsInput struct {
	Entries []putEventsEntry `json:"Entries"`
}

type putEventsEntry struct {
	Source       *string  `json:"Source"`
	DetailType   *string  `json:"DetailType"`
	Detail       *string  `json:"Detail"`
	EventBusName string   `json:"EventBusName"`
	Resources    []string `json:"Resources"`
	Time         *float64 `json:"Time"`
	TraceHeader  string   `json:"TraceHeader"`
}

type putEventsResultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

type putEventsOutput struct {
	FailedEntryCount int                    `json:"FailedEntryCount"`
	Entries          []putEventsResultEntry `json:"Entries"`
}

// maxEntriesSize is EventBridge's limit on the total size of a request's
// entries, as entrySize counts it: "The total entry size must be less than
// 256KB" (Amazon EventBridge User Guide, "Calculating Amazon EventBridge
// PutEvents event entry size",
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
// Over it, the whole request is refused (no entry is put).
const maxEntriesSize = 256 * 1024

// entrySize is the size of an entry as EventBridge computes it (the page
// above): 14 bytes for a Time, and the UTF-8 bytes of Source, DetailType,
// Detail and each of Resources.
func entrySize(e putEventsEntry) int {
	n := 0
	if e.Time != nil {
		n += 14
	}
	for _, s := range []*string{e.Source, e.DetailType, e.Detail} {
		if s != nil {
			n += len(*s)
		}
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// Detail types and sources of the events the local cloud sends itself.
const (
	statusChangeSource     = "aws.states"
	statusChangeDetailType = "Step Functions Execution Status Change"
)

func (c *Cloud) putEvents(_ context.Context, body []byte) (any, error) {
	var in putEventsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Entries) == 0 {
		return nil, errorf("ValidationException", "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in.Entries) > 10 {
		return nil, errorf("ValidationException", "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	total := 0
	for _, e := range in.Entries {
		total += entrySize(e)
	}
	if total > maxEntriesSize {
		return nil, errorf("ValidationException", "Total size of the entries in the request is over the limit: %d bytes, counted as EventBridge does, over %d.", total, maxEntriesSize)
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	out := putEventsOutput{Entries: make([]putEventsResultEntry, len(in.Entries))}
	for i, e := range in.Entries {
		res, deliver := c.putEvent(e)
		out.Entries[i] = res
		if res.ErrorCode != "" {
			out.FailedEntryCount++
			continue
		}
		deliver()
	}
	return out, nil
}

// putEvent validates one entry as EventBridge does, builds its event, and
// returns the function that sends it to the targets of the rules it
// matches.
func (c *Cloud) putEvent(e putEventsEntry) (putEventsResultEntry, func()) {
	invalid := func(field, reason string) (putEventsResultEntry, func()) {
		return putEventsResultEntry{ErrorCode: "InvalidArgument", ErrorMessage: fmt.Sprintf("Parameter %s is not valid. Reason: %s", field, reason)}, nil
	}
	switch {
	case e.Source == nil || *e.Source == "":
		return invalid("Source", "Source is a required argument.")
	case e.DetailType == nil || *e.DetailType == "":
		return invalid("DetailType", "DetailType is a required argument.")
	case e.Detail == nil || *e.Detail == "":
		return invalid("Detail", "Detail is a required argument.")
	case len(*e.Source) > 256:
		return invalid("Source", "Source must have length less than or equal to 256.")
	case len(*e.DetailType) > 128:
		return invalid("DetailType", "DetailType must have length less than or equal to 128.")
	}
	var detail map[string]any
	if dec := json.NewDecoder(strings.NewReader(*e.Detail)); dec.Decode(&detail) != nil || detail == nil || dec.More() {
		return putEventsResultEntry{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed."}, nil
	}
	bus, ok := c.busName(e.EventBusName)
	if !ok {
		return putEventsResultEntry{ErrorCode: "NotFound", ErrorMessage: fmt.Sprintf("Event bus %s does not exist.", e.EventBusName)}, nil
	}
	at := c.cfg.Now()
	if e.Time != nil {
		at = time.UnixMilli(int64(*e.Time * 1000))
	}
	resources := e.Resources
	if resources == nil {
		resources = []string{}
	}
	id := newUUID()
	ev := Event{Version: "0", ID: id, DetailType: *e.DetailType, Source: *e.Source, Account: Account,
		Time: at.UTC().Format("2006-01-02T15:04:05Z"), Region: c.cfg.Region, Resources: resources, Detail: json.RawMessage(*e.Detail)}
	return putEventsResultEntry{EventID: id}, func() { c.route(bus, ev) }
}

// busName resolves an entry's EventBusName (a name or an ARN; empty is
// the default bus) to "default" or the BWC bus's name.
func (c *Cloud) busName(name string) (string, bool) {
	if i := strings.LastIndex(name, ":event-bus/"); i >= 0 {
		name = name[i+len(":event-bus/"):]
	}
	switch name {
	case "", "default":
		return "default", true
	case c.cfg.Name:
		return name, true
	}
	return "", false
}

// Event is an EventBridge event as targets receive it.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// route sends an event to the targets of the rules it matches: on the BWC
// bus, the enforcer for each matching BWC rule; on the default bus,
// execution status changes of the stack's state machines to the
// completion function (the stack's <name>-execution-status rule).
func (c *Cloud) route(bus string, ev Event) {
	raw, err := json.Marshal(ev)
	if err != nil {
		c.log.Error("encoding an event", "event", ev.ID, "err", err)
		return
	}
	if bus == "default" {
		if ev.Source == statusChangeSource && ev.DetailType == statusChangeDetailType {
			c.deliver(FnCompletion, "execution-status", ev.ID, raw, nil)
		}
		return
	}
	if c.cfg.Functions[FnEnforcer] == nil && c.cfg.Events != nil {
		if err := c.cfg.Events.PutEvent(c.root, ev); err != nil {
			c.log.Error("putting an event on the engine's bus", "event", ev.ID, "err", err)
		}
		return
	}
	refs, err := c.rules.Match(raw)
	if err != nil {
		c.log.Error("matching an event", "event", ev.ID, "err", err)
		return
	}
	for _, ref := range refs {
		if p, ok := c.direct[ref]; ok {
			c.background(func() { c.startDirect(ref, p, ev.ID, raw) })
			continue
		}
		var b bytes.Buffer
		b.WriteString(`{"rule":`)
		rb, _ := json.Marshal(ref)
		b.Write(rb)
		b.WriteString(`,"event":`)
		b.Write(raw)
		b.WriteString(`}`)
		c.deliver(FnEnforcer, ref, ev.ID, b.Bytes(), nil)
	}
}

// deliver invokes a function with an event, asynchronously, retrying
// failures as an EventBridge target is retried (fewer times). When after
// is not nil, the delivery waits for it to be closed first (a status
// change waits for the one before it), or for the cloud to close.
func (c *Cloud) deliver(fn, rule, eventID string, payload []byte, after <-chan struct{}) (done <-chan struct{}) {
	f := c.cfg.Functions[fn]
	log := c.log.With("function", fn, "rule", rule, "event", eventID)
	finished := make(chan struct{})
	if f == nil {
		log.Debug("event not delivered: no function is configured for this target")
		close(finished)
		return finished
	}
	started := c.background(func() {
		defer close(finished)
		if after != nil {
			select {
			case <-after:
			case <-c.root.Done():
				return
			}
		}
		c.retrying(log, func(ctx context.Context) error {
			_, err := f.Invoke(ctx, payload)
			return err
		})
	})
	if !started {
		log.Warn("event not delivered: the local cloud is shutting down")
		close(finished)
	}
	return finished
}

// retrying makes a delivery attempt until one succeeds, DeliveryAttempts
// fail, or the cloud closes, on the caller's goroutine.
func (c *Cloud) retrying(log *slog.Logger, attempt func(context.Context) error) {
	delay := c.cfg.RetryDelay
	for n := 1; ; n++ {
		err := attempt(c.root)
		if err == nil {
			log.Debug("event delivered", "attempt", n)
			return
		}
		if n >= c.cfg.DeliveryAttempts || c.root.Err() != nil {
			log.Error("event not delivered", "attempts", n, "err", err)
			return
		}
		log.Warn("delivering an event; retrying", "attempt", n, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-c.root.Done():
			t.Stop()
		}
		delay *= 2
	}
}
