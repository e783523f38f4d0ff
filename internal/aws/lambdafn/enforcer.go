package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bwc-project/bwc/internal/aws/stepfunctions"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
)

// EnforcerEvent is what an EventBridge rule sends the enforcer: the BWC
// rule's reference and the event (the target input
// {"rule": "<ref>", "event": <aws.events.event.json>}).
type EnforcerEvent struct {
	Rule  string          `json:"rule"`
	Event json.RawMessage `json:"event"`
}

// EnforcerResult is the enforcer's answer: the enforcement as recorded
// (empty when the rule's residual condition did not hold).
type EnforcerResult struct {
	Enforcement string `json:"enforcement,omitempty"`
	Status      string `json:"status"`
	Execution   string `json:"execution,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Enforcer is the enforcer function's handler.
type Enforcer struct {
	d   *Deps
	enf *enforcer.Enforcer
}

// NewEnforcer builds the enforcer function's handler over the compiled
// rules.
func NewEnforcer(d *Deps) (*Enforcer, error) {
	d.init()
	enf, err := enforcer.New(d.Content.Rules.Rules, d.Content.Packs, d.Store, starterPort{d}, d.valid, enforcer.Options{
		Functions: d.functions(),
		Now:       d.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("building the enforcer: %w", err)
	}
	return &Enforcer{d: d, enf: enf}, nil
}

// Handle enforces one rule for one event. Outcomes: the enforcement (see
// enforcer.Enforce; a redelivered event finds the enforcement and the
// execution recorded and starts nothing); a bwc.BadEvent function error
// for an input that is not {rule, event}; an error when nothing could be
// recorded or the state machine could not be started, so that EventBridge
// delivers the event again; bwc.InvalidTask when the parameters are too
// large for a Step Functions input (stepfunctions.ErrInputTooLarge).
func (h *Enforcer) Handle(ctx context.Context, in EnforcerEvent) (EnforcerResult, error) {
	var env rule.Envelope
	if in.Rule == "" || len(in.Event) == 0 {
		return EnforcerResult{}, FunctionError(ErrNameBadEvent, `expected {"rule": "<rule ref>", "event": <EventBridge event>}`)
	}
	if err := json.Unmarshal(in.Event, &env); err != nil {
		return EnforcerResult{}, FunctionError(ErrNameBadEvent, fmt.Sprintf("event: expected an EventBridge event with a BWC detail: %v", err))
	}
	if env.Detail.TriggerInstanceID == "" {
		return EnforcerResult{}, FunctionError(ErrNameBadEvent, "event: /detail/trigger_instance_id is missing: not a BWC trigger event")
	}
	log := h.d.logger(ctx, "enforcer").With("rule", in.Rule, "trigger_instance", env.Detail.TriggerInstanceID, "trace_tag", env.Detail.TraceTag)
	rec, err := h.enf.Enforce(ctx, in.Rule, env)
	if errors.Is(err, stepfunctions.ErrInputTooLarge) {
		// Delivering the event again cannot help.
		log.Error("enforcing a rule", "err", err)
		return EnforcerResult{}, FunctionError(ErrNameInvalidTask, err.Error())
	}
	if err != nil {
		log.Error("enforcing a rule", "err", err)
		return EnforcerResult{}, FunctionError(ErrNameInternal, err.Error())
	}
	// The trigger instance is handled (for this rule; the others are
	// enforced by their own invocations).
	if _, err := h.d.Store.SetTriggerInstanceStatus(ctx, env.Detail.TriggerInstanceID, store.TriggerPending, store.TriggerProcessed); err != nil &&
		!errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		log.Warn("recording that a trigger instance was processed", "err", err)
	}
	out := EnforcerResult{Enforcement: rec.ID, Status: string(rec.Status), Execution: rec.ExecutionID}
	if rec.ID == "" {
		out.Status = "not_matched"
	}
	if rec.FailureReason != "" {
		out.Reason, _, _ = strings.Cut(rec.FailureReason, ":")
	}
	log.Info("rule enforced", "enforcement", rec.ID, "status", out.Status, "execution", rec.ExecutionID, "reason", rec.FailureReason)
	return out, nil
}
