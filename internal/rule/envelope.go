package rule

import (
	"encoding/json"
	"strings"
	"time"
)

// Envelope is a trigger instance as it travels on the event bus: the shape of
// an Amazon EventBridge event. The trigger type's reference is the
// detail-type, the pack that emits it is the source (`bwc.<pack>`), and the
// detail carries the payload with the trigger instance id, the trace tag and
// the trigger's parameters (a webhook's url, a timer's schedule), so that
// rules on the same trigger type with different parameters select different
// events.
type Envelope struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	Detail     Detail    `json:"detail"`
}

// Detail is the detail of a BWC event.
type Detail struct {
	Trigger           string         `json:"trigger"`
	TriggerInstanceID string         `json:"trigger_instance_id"`
	TraceTag          string         `json:"trace_tag,omitempty"`
	TriggerParameters map[string]any `json:"trigger_parameters,omitempty"`
	Payload           map[string]any `json:"payload"`
}

// SourceFor is the event source of triggers of the given type: `bwc.` and
// the pack part of the trigger type's reference.
func SourceFor(triggerRef string) string {
	pack, _, _ := strings.Cut(triggerRef, ".")
	return "bwc." + pack
}

// NewEnvelope builds the envelope of a trigger instance.
func NewEnvelope(id, triggerRef string, params, payload map[string]any, traceTag string, at time.Time) Envelope {
	if payload == nil {
		payload = map[string]any{}
	}
	return Envelope{
		Version:    "0",
		ID:         id,
		DetailType: triggerRef,
		Source:     SourceFor(triggerRef),
		Account:    "000000000000",
		Time:       at.UTC(),
		Region:     "local",
		Resources:  []string{},
		Detail: Detail{
			Trigger:           triggerRef,
			TriggerInstanceID: id,
			TraceTag:          traceTag,
			TriggerParameters: params,
			Payload:           payload,
		},
	}
}

// JSON returns the envelope as the bytes put on the bus.
func (e Envelope) JSON() ([]byte, error) { return json.Marshal(e) }
