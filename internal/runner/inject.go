package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/sensor/payload"
)

// InjectTriggerAction is the action whose result the engines put on the
// bus as a trigger instance (see [InjectTrigger]).
const InjectTriggerAction = "core.inject_trigger"

// Stable error names of core.inject_trigger, besides its own.
const (
	// ErrNameUnknownTrigger: no loaded pack declares the trigger type.
	ErrNameUnknownTrigger = "bwc.UnknownTrigger"
	// ErrNameInvalidPayload: the payload does not check against the
	// trigger type's payload_schema.
	ErrNameInvalidPayload = "bwc.InvalidPayload"
)

// Publisher puts events on the bus: *bus.Bus in the embedded engine, the
// EventBridge publisher on AWS.
type Publisher interface {
	PutEvents(ctx context.Context, entries []bus.Entry) (bus.Output, error)
}

// InjectTrigger puts the trigger instance a core.inject_trigger execution
// returned ({"trigger", "payload", "trace_tag"} in res) on the bus, after
// checking its payload against the trigger type's payload_schema (found
// with triggerType). The event id is the execution's, so a retried finish
// does not inject twice; traceTag is used when the result names none.
// Outcomes: the result with the trigger instance id added; an
// [*ActionError] named [ErrNameUnknownTrigger], [ErrNameInvalidPayload], or
// (retryable) [ErrNameActionFailed] when the bus refused the event.
func InjectTrigger(ctx context.Context, pub Publisher, triggerType func(ref string) *pack.TriggerType, executionID, traceTag string, res Result) (Result, error) {
	m, _ := res.Value.(map[string]any)
	trigger, _ := m["trigger"].(string)
	p, _ := m["payload"].(map[string]any)
	tag, _ := m["trace_tag"].(string)
	if tag == "" {
		tag = traceTag
	}
	tt := triggerType(trigger)
	if tt == nil {
		return res, &ActionError{Name: ErrNameUnknownTrigger, Err: fmt.Errorf("no loaded pack declares trigger type %q", trigger)}
	}
	var doc any
	if len(tt.PayloadSchema) > 0 {
		doc = tt.PayloadSchema
	}
	sch, err := payload.Compile(doc)
	if err != nil {
		return res, &ActionError{Name: ErrNameInvalidPayload, Err: fmt.Errorf("the payload_schema of %s: %w", trigger, err)}
	}
	if err := sch.Check(trigger, p); err != nil {
		return res, &ActionError{Name: ErrNameInvalidPayload, Err: err}
	}
	out, err := pub.PutEvents(ctx, []bus.Entry{{ID: "inject:" + executionID, Trigger: trigger, Payload: p, TraceTag: tag}})
	if err == nil && out.FailedEntryCount > 0 {
		err = errors.New(out.Entries[0].ErrorMessage)
	}
	if err != nil {
		return res, &ActionError{Name: ErrNameActionFailed, Retryable: true, Err: fmt.Errorf("putting the trigger instance on the bus: %w", err)}
	}
	v := map[string]any{}
	for k, e := range m {
		v[k] = e
	}
	v["trigger_instance_id"] = out.Entries[0].TriggerInstanceID
	return Result{Value: v}, nil
}
