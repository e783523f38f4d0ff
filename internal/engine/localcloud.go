package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/localcloud"
	"github.com/bwc-project/bwc/internal/store"
)

// The engine's in-process stand-ins for the Lambda functions of the local
// cloud (`bwc serve --aws`), used for the functions not hosted by
// aws-lambda-rie.

// LocalEvents returns the sink of the events put on the local cloud's BWC
// bus when no enforcer function is configured: each event goes onto the
// engine's bus, which records the trigger instance and enforces the rules
// it matches. A BWC event (detail {trigger, payload, trace_tag,
// trigger_parameters}) keeps its payload; any other event's whole detail is
// the payload of a trigger named by its detail-type.
func (e *Engine) LocalEvents() localcloud.EventSink { return localEvents{e.bus} }

type localEvents struct{ b *bus.Bus }

func (l localEvents) PutEvent(ctx context.Context, ev localcloud.Event) error {
	var d struct {
		Payload           map[string]any `json:"payload"`
		TraceTag          string         `json:"trace_tag"`
		TriggerParameters map[string]any `json:"trigger_parameters"`
	}
	var whole map[string]any
	if err := json.Unmarshal(ev.Detail, &whole); err != nil {
		return fmt.Errorf("decoding the detail of event %s: %w", ev.ID, err)
	}
	_ = json.Unmarshal(ev.Detail, &d)
	entry := bus.Entry{ID: ev.ID, Trigger: ev.DetailType, Payload: d.Payload, TraceTag: d.TraceTag, TriggerParameters: d.TriggerParameters}
	if _, ok := whole["payload"]; !ok {
		entry.Payload = whole
	}
	out, err := l.b.PutEvents(ctx, []bus.Entry{entry})
	if err != nil {
		return fmt.Errorf("putting event %s on the engine's bus: %w", ev.ID, err)
	}
	if out.FailedEntryCount > 0 {
		return fmt.Errorf("putting event %s on the engine's bus: %s", ev.ID, out.Entries[0].ErrorMessage)
	}
	return nil
}

// LocalRunner returns the in-process runner function of the local cloud:
// it takes the runner's payload ({"action", "parameters", "context"}, plus
// "execution" from the action state machine), runs the action as an
// execution of this engine, waits for its end and answers its result; a
// failed action is a *localcloud.FunctionError whose type is the action's
// error name, as the runner Lambda's errorType.
//
// From the action machine, the execution's id is the Step Functions
// execution's name (the id the enforcer chose); a task that waits for a
// token (core.ask, with "task_token" in its payload) gets an id derived
// from the token, so a repeated invocation finds the same execution; any
// other workflow task's execution gets a fresh id per invocation.
//
// It answers callback tasks itself (localcloud.CallbackAnswerer): the
// invocation of a core.ask task returns when its inquiry is answered
// (through the engine's API: bwc inquiry respond), and the answer
// completes the task.
func (e *Engine) LocalRunner() localcloud.Function { return localRunner{e} }

type localRunner struct{ e *Engine }

func (r localRunner) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return r.e.runLocalTask(ctx, payload)
}

func (localRunner) AnswersCallbacks() bool { return true }

type runnerPayload struct {
	Action     string         `json:"action"`
	Parameters map[string]any `json:"parameters"`
	Context    map[string]any `json:"context"`
	Execution  string         `json:"execution"`
	TaskToken  string         `json:"task_token"`
}

func (e *Engine) runLocalTask(ctx context.Context, payload []byte) ([]byte, error) {
	var p runnerPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, &localcloud.FunctionError{ErrorType: ErrNameInvalidTask, ErrorMessage: fmt.Sprintf("decoding the runner's payload: %v", err)}
	}
	a := e.Packs.Action(p.Action)
	if a == nil {
		return nil, &localcloud.FunctionError{ErrorType: ErrNameInvalidTask, ErrorMessage: fmt.Sprintf("no action %q is loaded", p.Action)}
	}
	for _, prm := range a.Effective {
		if !prm.Secret {
			continue
		}
		if _, _, ref := store.ParseSecretRef(p.Parameters[prm.Name]); ref || p.Parameters[prm.Name] == store.Masked {
			// Started by a function (the enforcer or the API under rie):
			// the value is sealed in the functions' store, which this
			// in-process runner does not read.
			return nil, &localcloud.FunctionError{ErrorType: ErrNameInvalidTask, ErrorMessage: fmt.Sprintf(
				"action %s: secret parameter %s is sealed in the functions' store; host the runner function too (--lambda runner=URL)", p.Action, prm.Name)}
		}
	}
	prep, err := e.executor.valid.Parameters(ctx, a, p.Parameters)
	if err != nil {
		return nil, &localcloud.FunctionError{ErrorType: ErrNameInvalidTask, ErrorMessage: fmt.Sprintf("action %s: %v", p.Action, err)}
	}
	str := func(k string) string { s, _ := p.Context[k].(string); return s }
	id := ""
	switch {
	case p.Execution != "":
		id = p.Execution[strings.LastIndexByte(p.Execution, ':')+1:]
	case p.TaskToken != "":
		sum := sha256.Sum256([]byte("task\x00" + p.TaskToken))
		id = "ex-" + hex.EncodeToString(sum[:12])
	default:
		var nonce [8]byte
		_, _ = rand.Read(nonce[:])
		sum := sha256.Sum256([]byte(str("workflow_execution") + "\x00" + str("task") + "\x00" + hex.EncodeToString(nonce[:])))
		id = "ex-" + hex.EncodeToString(sum[:12])
	}
	user := str("user")
	if user == "" {
		user = "stepfunctions"
	}
	tag := str("trace_tag")
	if tag == "" {
		tag = id
	}
	watch := e.executor.watch(id)
	ex, err := e.executor.Start(ctx, enforcer.StartRequest{
		ExecutionID: id, Action: a, Parameters: prep.Parameters, Secret: prep.Secret,
		Context: store.ExecutionContext{User: user, TraceTag: tag, Rule: str("rule"), TriggerInstanceID: str("trigger_instance_id"), WorkflowTask: str("task")},
	})
	if err != nil {
		e.executor.unwatch(id)
		return nil, fmt.Errorf("starting %s: %w", a.Ref, err)
	}
	if !ex.Status.Finished() {
		select {
		case <-watch:
		case <-ctx.Done():
			e.executor.unwatch(id)
			return nil, fmt.Errorf("waiting for execution %s: %w", id, ctx.Err())
		}
	} else {
		e.executor.unwatch(id)
	}
	if ex, err = e.Store.GetExecution(context.WithoutCancel(ctx), id); err != nil {
		return nil, fmt.Errorf("reading execution %s: %w", id, err)
	}
	if ex.Status == store.StatusSucceeded {
		if len(ex.Result) == 0 {
			return []byte("null"), nil
		}
		return ex.Result, nil
	}
	var result any
	_ = json.Unmarshal(ex.Result, &result)
	msg := string(ex.Result)
	if m, ok := result.(map[string]any); ok {
		if em, ok := m["error"].(map[string]any); ok {
			if s, ok := em["message"].(string); ok {
				msg = s
			}
		}
	}
	return nil, &localcloud.FunctionError{ErrorType: errorName(result, ex.Status), ErrorMessage: msg}
}
