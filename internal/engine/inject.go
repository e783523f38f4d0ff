package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/sensor/payload"
	"github.com/bwc-project/bwc/internal/store"
)

// InjectTriggerAction is the action whose result the engine puts on the
// bus as a trigger instance.
const InjectTriggerAction = "core.inject_trigger"

// Stable error names of core.inject_trigger, besides its own.
const (
	ErrNameUnknownTrigger = "bwc.UnknownTrigger"
	ErrNameInvalidPayload = "bwc.InvalidPayload"
)

// inject puts the trigger instance a core.inject_trigger execution returned
// ({"trigger", "payload", "trace_tag"}) on the bus, after checking its
// payload against the trigger type's payload_schema. The event id is the
// execution's, so a retried finish does not inject twice. The result gains
// the trigger instance id.
func (x *Executor) inject(ctx context.Context, ex store.Execution, res runner.Result) (runner.Result, error) {
	m, _ := res.Value.(map[string]any)
	trigger, _ := m["trigger"].(string)
	p, _ := m["payload"].(map[string]any)
	tag, _ := m["trace_tag"].(string)
	if tag == "" {
		tag = ex.Context.TraceTag
	}
	tt := x.triggerTypes(trigger)
	if tt == nil {
		return res, &runner.ActionError{Name: ErrNameUnknownTrigger, Err: fmt.Errorf("no loaded pack declares trigger type %q", trigger)}
	}
	var doc any
	if len(tt.PayloadSchema) > 0 {
		doc = tt.PayloadSchema
	}
	sch, err := payload.Compile(doc)
	if err != nil {
		return res, &runner.ActionError{Name: ErrNameInvalidPayload, Err: fmt.Errorf("the payload_schema of %s: %w", trigger, err)}
	}
	if err := sch.Check(trigger, p); err != nil {
		return res, &runner.ActionError{Name: ErrNameInvalidPayload, Err: err}
	}
	out, err := x.pub.PutEvents(ctx, []bus.Entry{{ID: "inject:" + ex.ID, Trigger: trigger, Payload: p, TraceTag: tag}})
	if err == nil && out.FailedEntryCount > 0 {
		err = errors.New(out.Entries[0].ErrorMessage)
	}
	if err != nil {
		return res, &runner.ActionError{Name: runner.ErrNameActionFailed, Retryable: true, Err: fmt.Errorf("putting the trigger instance on the bus: %w", err)}
	}
	v := map[string]any{}
	for k, e := range m {
		v[k] = e
	}
	v["trigger_instance_id"] = out.Entries[0].TriggerInstanceID
	return runner.Result{Value: v}, nil
}
