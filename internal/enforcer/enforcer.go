package enforcer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
)

// Enforcements records rule enforcements; store.Enforcements satisfies it.
type Enforcements interface {
	CreateEnforcement(ctx context.Context, e store.Enforcement) (store.Enforcement, error)
}

// Actions finds actions by reference; *pack.Set satisfies it.
type Actions interface {
	Action(ref string) *pack.Action
}

// StartRequest asks to create and start an execution.
type StartRequest struct {
	// ExecutionID is the id to create the execution under; a second start
	// with the same id starts nothing and returns the execution as stored.
	ExecutionID string
	Action      *pack.Action
	// Parameters are validated and defaulted (see Validator.Parameters).
	Parameters map[string]any
	Secret     []string
	Context    store.ExecutionContext
	ParentID   string
}

// Starter creates an execution and starts it. Outcomes: the execution as
// stored and nil (also when ExecutionID existed already: nothing is started
// twice); an error when nothing could be recorded.
type Starter interface {
	Start(ctx context.Context, req StartRequest) (store.Execution, error)
}

// Stable failure reasons of an enforcement that started nothing, recorded
// in Enforcement.FailureReason after the name and a colon.
const (
	ReasonUnknownRule       = "bwc.UnknownRule"
	ReasonResidualError     = "bwc.ResidualError"
	ReasonRenderFailed      = "bwc.ParameterRenderFailed"
	ReasonInvalidParameters = "bwc.InvalidParameters"
	ReasonUnknownAction     = "bwc.UnknownAction"
	ReasonActionDisabled    = "bwc.ActionDisabled"
)

// Options configure an Enforcer.
type Options struct {
	// Functions are the $kv(), $secret(), $config() and $now() of templates
	// and residual conditions.
	Functions rule.Functions
	// Now is the clock; default time.Now.
	Now func() time.Time
	// User is the user executions started by rules run as; default
	// "rules".
	User string
}

// Enforcer enforces compiled rules.
type Enforcer struct {
	rules   map[string]*compiledRule
	actions Actions
	enf     Enforcements
	starter Starter
	valid   *Validator
	opts    Options
}

type compiledRule struct {
	c    *rule.Compiled
	eval *rule.Evaluator
}

// New prepares the rules for enforcement. It fails when a compiled rule's
// pattern or expressions do not compile (the content compiler produced
// them, so this is a bug, not a user error).
func New(rules []*rule.Compiled, actions Actions, enf Enforcements, starter Starter, valid *Validator, opts Options) (*Enforcer, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.User == "" {
		opts.User = "rules"
	}
	if valid == nil {
		valid = &Validator{}
	}
	e := &Enforcer{rules: map[string]*compiledRule{}, actions: actions, enf: enf, starter: starter, valid: valid, opts: opts}
	for _, c := range rules {
		ev, err := rule.NewEvaluator(c, opts.Functions)
		if err != nil {
			return nil, fmt.Errorf("preparing rule %s: %w", c.Ref, err)
		}
		e.rules[c.Ref] = &compiledRule{c: c, eval: ev}
	}
	return e, nil
}

// EnforcementID is the id of the enforcement of a rule for a trigger
// instance.
func EnforcementID(triggerInstanceID, ruleRef string) string {
	return "en-" + digest(triggerInstanceID+"\x00"+ruleRef)
}

// ExecutionID is the id of the execution an enforcement starts.
func ExecutionID(enforcementID string) string {
	return "ex-" + digest("enforcement\x00"+enforcementID)
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}

// Enforce handles the event env for the rule ruleRef, which the bus
// matched. Outcomes:
//   - the residual condition is false: a zero Enforcement and nil (nothing
//     is recorded, as with a pattern that does not match);
//   - the enforcement as recorded (status succeeded with the execution id)
//     and nil; the same when it was recorded before (idempotent);
//   - an enforcement recorded with status failed and its reason (the
//     residual failed to evaluate, parameters did not render or validate,
//     the action is unknown or disabled) and nil: the event is handled;
//   - an error when nothing could be recorded (a storage error): the caller
//     should deliver the event again.
func (e *Enforcer) Enforce(ctx context.Context, ruleRef string, env rule.Envelope) (store.Enforcement, error) {
	// No read first: every step is idempotent (the execution and the
	// enforcement are created under ids derived from the event), so a
	// redelivery finds what the first delivery stored.
	id := EnforcementID(env.Detail.TriggerInstanceID, ruleRef)
	rec := store.Enforcement{
		ID:                id,
		Rule:              ruleRef,
		TriggerInstanceID: env.Detail.TriggerInstanceID,
		TraceTag:          env.Detail.TraceTag,
		EnforcedAt:        e.opts.Now(),
	}
	r, ok := e.rules[ruleRef]
	if !ok {
		return e.failed(ctx, rec, ReasonUnknownRule, "the rule is not loaded")
	}
	match, err := r.eval.CheckResidual(ctx, env)
	if err != nil {
		return e.failed(ctx, rec, ReasonResidualError, err.Error())
	}
	if !match {
		return store.Enforcement{}, nil
	}
	a := e.actions.Action(r.c.Action.Ref)
	if a == nil {
		return e.failed(ctx, rec, ReasonUnknownAction, fmt.Sprintf("action %s is not loaded", r.c.Action.Ref))
	}
	if !a.Enabled {
		return e.failed(ctx, rec, ReasonActionDisabled, fmt.Sprintf("action %s is disabled", a.Ref))
	}
	params, err := r.eval.Render(ctx, env)
	if err != nil {
		return e.failed(ctx, rec, ReasonRenderFailed, err.Error())
	}
	prep, err := e.valid.Parameters(ctx, a, params)
	if err != nil {
		return e.failed(ctx, rec, ReasonInvalidParameters, err.Error())
	}
	ex, err := e.starter.Start(ctx, StartRequest{
		ExecutionID: ExecutionID(id),
		Action:      a,
		Parameters:  prep.Parameters,
		Secret:      prep.Secret,
		Context: store.ExecutionContext{
			User:              e.opts.User,
			Rule:              ruleRef,
			TriggerInstanceID: env.Detail.TriggerInstanceID,
			TraceTag:          env.Detail.TraceTag,
		},
	})
	if err != nil {
		return store.Enforcement{}, fmt.Errorf("enforcing rule %s: starting %s: %w", ruleRef, a.Ref, err)
	}
	rec.Status = store.EnforcementSucceeded
	rec.ExecutionID = ex.ID
	return e.record(ctx, rec)
}

func (e *Enforcer) failed(ctx context.Context, rec store.Enforcement, reason, msg string) (store.Enforcement, error) {
	rec.Status = store.EnforcementFailed
	rec.FailureReason = reason + ": " + msg
	return e.record(ctx, rec)
}

func (e *Enforcer) record(ctx context.Context, rec store.Enforcement) (store.Enforcement, error) {
	got, err := e.enf.CreateEnforcement(ctx, rec)
	if errors.Is(err, store.ErrAlreadyExists) {
		return got, nil
	}
	if err != nil {
		return store.Enforcement{}, fmt.Errorf("recording enforcement %s of rule %s: %w", rec.ID, rec.Rule, err)
	}
	return got, nil
}
