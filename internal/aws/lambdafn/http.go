package lambdafn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/aws/stepfunctions"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/sensor/webhook"
	"github.com/bwc-project/bwc/internal/store"
)

// Errors of the API's runner port on AWS; they match the store sentinels
// the API maps to 404 and 409.
var (
	ErrUnknownAction  = fmt.Errorf("no such action: %w", store.ErrNotFound)
	ErrActionDisabled = fmt.Errorf("the action is disabled: %w", store.ErrConflict)
	ErrNotCancelable  = fmt.Errorf("the execution has finished and cannot be canceled: %w", store.ErrConflict)
	// ErrNoPause: pause and resume are not available on the AWS engine
	// (Step Functions has no pause).
	ErrNoPause = fmt.Errorf("pause and resume are not available on AWS (Step Functions executions cannot be paused): %w", store.ErrConflict)
)

// NewHTTP builds the handler of the webhook, api and inquiry functions:
// internal/api's server, the one `bwc serve` runs, behind the API Gateway
// adapter. API Gateway routes each function's routes to it (docs/deploy.md);
// its ports are the AWS ones: trigger events go to EventBridge, runs start
// Step Functions executions, inquiry responses answer task tokens.
// version is reported by /api/v1/health. A webhook whose rules declare a
// signature ({signature: {scheme, secret}} in the trigger parameters) is
// verified with the secret read from the datastore (decrypted with
// BWC_KMS_KEY) on each request, as in the embedded engine; the error is
// for rules that declare conflicting signatures.
func NewHTTP(d *Deps, version string) (HTTPAdapter, error) {
	d.init()
	cat, err := newCatalog(d)
	if err != nil {
		return HTTPAdapter{}, err
	}
	srv := api.New(d.Events, &apiRunner{d: d}, &inquiries{d: d}, d.Store, cat, api.Options{
		Version: version, Logger: d.Log.With("function", "http"), Now: d.Now,
	})
	return HTTPAdapter{Handler: srv}, nil
}

// catalog answers the API's questions about the packs.
type catalog struct {
	set       *pack.Set
	webhooks  map[string]bool
	verifiers map[string]webhook.Verifier
}

func newCatalog(d *Deps) (*catalog, error) {
	c := &catalog{set: d.Content.Packs, webhooks: map[string]bool{}, verifiers: map[string]webhook.Verifier{}}
	var params []webhook.RuleParameters
	for _, r := range d.Content.Rules.Rules {
		if !r.Enabled || r.Trigger.Type != api.WebhookTrigger {
			continue
		}
		if u, ok := r.Trigger.Parameters["url"].(string); ok {
			c.webhooks[strings.Trim(u, "/")] = true
		}
		params = append(params, webhook.RuleParameters{Rule: r.Ref, Parameters: r.Trigger.Parameters})
	}
	decls, err := webhook.Declarations(params)
	if err != nil {
		return nil, fmt.Errorf("webhook signatures: %w", err)
	}
	for url, decl := range decls {
		v, err := webhook.NewKeyed(webhook.Config{Scheme: decl.Scheme, Scope: url}, decl.Secret, datastoreSecrets{d})
		if err != nil {
			return nil, fmt.Errorf("webhook %q of rule %s: %w", url, decl.Rule, err)
		}
		c.verifiers[url] = v
	}
	return c, nil
}

func (c *catalog) TriggerType(ref string) *pack.TriggerType { return c.set.TriggerType(ref) }
func (c *catalog) HasWebhook(url string) bool               { return c.webhooks[url] }
func (c *catalog) Action(ref string) *pack.Action           { return c.set.Action(ref) }

// Verifier returns the verifier of a webhook whose rules declare a
// signature, or nil (the webhook is authenticated by API key).
func (c *catalog) Verifier(url string) webhook.Verifier { return c.verifiers[url] }

// datastoreSecrets reads webhook signature secrets from the datastore
// (system scope, decrypted).
type datastoreSecrets struct{ d *Deps }

func (s datastoreSecrets) Secret(ctx context.Context, name string) (string, error) {
	kv, err := s.d.Store.GetKeyValue(ctx, store.KeyRef{Scope: store.ScopeSystem, Name: name}, true)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("datastore key system/%s does not exist (set it with: bwc key set %s VALUE --secret): %w", name, name, webhook.ErrSecretUnavailable)
	}
	if err != nil {
		return "", fmt.Errorf("reading datastore key system/%s: %w", name, err)
	}
	return kv.Value, nil
}

// apiRunner is the API's runner port on AWS: runs start Step Functions
// executions, cancels stop them.
type apiRunner struct{ d *Deps }

var _ api.Runner = (*apiRunner)(nil)

func (r *apiRunner) Run(ctx context.Context, req api.RunRequest, user string) (store.Execution, error) {
	a := r.d.Content.Packs.Action(req.Action)
	if a == nil {
		return store.Execution{}, fmt.Errorf("running %q: %w", req.Action, ErrUnknownAction)
	}
	if !a.Enabled {
		return store.Execution{}, fmt.Errorf("running %s: %w", a.Ref, ErrActionDisabled)
	}
	prep, err := r.d.valid.Parameters(ctx, a, req.Parameters)
	if err != nil {
		return store.Execution{}, err
	}
	id := "ex-" + randomHex()
	tag := req.TraceTag
	if tag == "" {
		tag = id
	}
	return r.d.starter(ctx).Start(ctx, enforcer.StartRequest{
		ExecutionID: id, Action: a, Parameters: prep.Parameters, Secret: prep.Secret,
		Context: store.ExecutionContext{User: user, TraceTag: tag},
	})
}

// ReRun starts the action of execution id again, its parameters
// overridden by req.Parameters (enforcer.ReRunParameters, as the embedded
// engine). Re-running a workflow from given tasks is
// not available on AWS (store.ErrConflict).
func (r *apiRunner) ReRun(ctx context.Context, id string, req api.ReRunRequest, user string) (store.Execution, error) {
	if len(req.Tasks) > 0 {
		return store.Execution{}, fmt.Errorf("re-running %s from tasks %s: not available on AWS yet: %w", id, strings.Join(req.Tasks, ", "), store.ErrConflict)
	}
	orig, merged, err := enforcer.ReRunParameters(ctx, r.d.Store, r.d.Content.Packs, id, req.Parameters)
	if err != nil {
		return store.Execution{}, err
	}
	return r.Run(ctx, api.RunRequest{Action: orig.Action, Parameters: merged, TraceTag: orig.Context.TraceTag}, user)
}

// Cancel moves the execution to canceling and stops its Step Functions
// execution; the completion function records canceled from the ABORTED
// status change.
func (r *apiRunner) Cancel(ctx context.Context, id string) (store.Execution, error) {
	for range 5 {
		cur, err := r.d.Store.GetExecution(ctx, id)
		if err != nil {
			return store.Execution{}, fmt.Errorf("canceling execution %s: %w", id, err)
		}
		if cur.Status.Finished() {
			return cur, fmt.Errorf("canceling execution %s (%s): %w", id, cur.Status, ErrNotCancelable)
		}
		got := cur
		if cur.Status != store.StatusCanceling {
			got, err = r.d.Store.UpdateExecution(ctx, id, store.ExecutionUpdate{From: cur.Status, To: store.StatusCanceling, At: r.d.Now()})
			if errors.Is(err, store.ErrConflict) {
				continue
			}
			if err != nil {
				return store.Execution{}, fmt.Errorf("canceling execution %s: %w", id, err)
			}
		}
		if cur.ParentID != "" {
			// A workflow task runs inside its workflow's execution.
			return got, nil
		}
		err = stepfunctions.NewStopper(r.d.SFN, r.d.machines(ctx)).Stop(ctx, id, cur.Action, runner.ErrNameActionCanceled, "canceled through the API")
		if err != nil {
			return got, fmt.Errorf("canceling execution %s: %w", id, err)
		}
		return got, nil
	}
	return store.Execution{}, fmt.Errorf("canceling execution %s: it kept changing status: %w", id, store.ErrConflict)
}

func (r *apiRunner) Pause(_ context.Context, id string) (store.Execution, error) {
	return store.Execution{}, fmt.Errorf("pausing execution %s: %w", id, ErrNoPause)
}

func (r *apiRunner) Resume(_ context.Context, id string) (store.Execution, error) {
	return store.Execution{}, fmt.Errorf("resuming execution %s: %w", id, ErrNoPause)
}

// inquiries answers inquiries on AWS: the response is checked against the
// inquiry's schema and recorded, the waiting task's token is answered
// with {"response": ...} (SendTaskSuccess), and the core.ask execution is
// finished with that result.
type inquiries struct{ d *Deps }

var _ api.Inquiries = (*inquiries)(nil)

func (q *inquiries) Respond(ctx context.Context, id string, response map[string]any, user string) (store.Inquiry, error) {
	// The answer goes to the waiting task as its output: one Step
	// Functions would refuse must be refused before it is recorded, or the
	// inquiry would be answered and its task wait for ever.
	result := map[string]any{"response": response}
	if raw, err := json.Marshal(result); err == nil && len(raw) > stepfunctions.MaxInputBytes {
		return store.Inquiry{}, fmt.Errorf("responding to inquiry %s: the response is %d bytes of JSON, over the %d bytes Step Functions takes as a task's output: %w", id, len(raw), stepfunctions.MaxInputBytes, store.ErrInvalid)
	}
	got, err := enforcer.RespondInquiry(ctx, q.d.Store, id, response, user)
	if err != nil {
		return got, err
	}
	log := q.d.logger(ctx, "inquiry").With("inquiry", id, "execution", got.ExecutionID)
	if got.TaskToken != "" {
		if err := stepfunctions.NewTasks(q.d.SFN).Succeed(ctx, got.TaskToken, result); err != nil {
			log.Error("answering the workflow's task", "err", err)
			return got, fmt.Errorf("responding to inquiry %s: %w", id, err)
		}
	}
	if _, _, err := q.d.finish(ctx, log, got.ExecutionID, store.StatusSucceeded, result); err != nil {
		log.Error("finishing the core.ask execution", "err", err)
	}
	log.Info("inquiry answered", "by", user)
	return got, nil
}

func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
