package lambdafn

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/sensor/timer"
)

// TimerEvent is what a Scheduler schedule sends the timer function.
type TimerEvent struct {
	Rule       string         `json:"rule"`
	Trigger    string         `json:"trigger"`
	Parameters map[string]any `json:"parameters"`
	// ScheduledTime is Scheduler's <aws.scheduler.scheduled-time> (RFC
	// 3339).
	ScheduledTime string `json:"scheduled_time"`
}

// TimerResult says which trigger instance the fire recorded.
type TimerResult struct {
	EventID           string `json:"event_id"`
	TriggerInstanceID string `json:"trigger_instance_id"`
	Duplicate         bool   `json:"duplicate,omitempty"`
}

// Timer is the timer function's handler.
type Timer struct{ d *Deps }

// NewTimer builds the timer function's handler.
func NewTimer(d *Deps) *Timer {
	d.init()
	return &Timer{d: d}
}

// Handle puts one timer fire on the bus: the payload st2's timers emit
// ({"executed_at", "schedule"}, timer.TimerPayload), under the event id the
// embedded engine gives the same fire (the timer and its scheduled time),
// so a fire Scheduler delivers twice is recorded once. Outcomes: the
// trigger instance; bwc.BadEvent for an input that is not a fire or an
// event the bus cannot take (over 256 KiB); bwc.Internal when it could not
// be recorded or sent (Scheduler delivers it again).
func (h *Timer) Handle(ctx context.Context, in TimerEvent) (TimerResult, error) {
	if in.Trigger == "" || in.ScheduledTime == "" {
		return TimerResult{}, FunctionError(ErrNameBadEvent, `expected {"rule", "trigger", "parameters", "scheduled_time"}`)
	}
	at, err := time.Parse(time.RFC3339Nano, in.ScheduledTime)
	if err != nil {
		return TimerResult{}, FunctionError(ErrNameBadEvent, fmt.Sprintf("scheduled_time %q: expected an RFC 3339 time: %v", in.ScheduledTime, err))
	}
	params := in.Parameters
	if params == nil {
		params = map[string]any{}
	}
	key, err := json.Marshal(params)
	if err != nil {
		return TimerResult{}, FunctionError(ErrNameBadEvent, fmt.Sprintf("parameters: %v", err))
	}
	log := h.d.logger(ctx, "timer").With("rule", in.Rule, "trigger", in.Trigger)
	out, err := h.d.Events.PutEvents(ctx, []bus.Entry{{
		ID:                "timer:" + in.Trigger + string(key) + "@" + at.UTC().Format(time.RFC3339Nano),
		Trigger:           in.Trigger,
		TriggerParameters: params,
		Payload:           timer.TimerPayload(params)(at),
		Time:              at,
	}})
	if err == nil && out.FailedEntryCount > 0 {
		if out.Entries[0].ErrorCode == bus.ErrCodeInvalid {
			// Scheduler delivering it again cannot help (an event over
			// EventBridge's size, say).
			log.Error("the timer event cannot be put on the bus", "err", out.Entries[0].ErrorMessage)
			return TimerResult{}, FunctionError(ErrNameBadEvent, out.Entries[0].ErrorMessage)
		}
		err = fmt.Errorf("%s: %s", out.Entries[0].ErrorCode, out.Entries[0].ErrorMessage)
	}
	if err != nil {
		log.Error("putting a timer event on the bus", "err", err)
		return TimerResult{}, FunctionError(ErrNameInternal, fmt.Sprintf("putting the timer event on the bus: %v", err))
	}
	r := out.Entries[0]
	log.Info("timer fired", "trigger_instance", r.TriggerInstanceID, "duplicate", r.Duplicate)
	return TimerResult{EventID: r.EventID, TriggerInstanceID: r.TriggerInstanceID, Duplicate: r.Duplicate}, nil
}
