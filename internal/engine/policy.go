package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
)

// Policy types (st2's names).
const (
	PolicyConcurrency = "action.concurrency"
	PolicyRetry       = "action.retry"
)

// ErrNamePolicyCanceled: a concurrency policy with action cancel refused
// to start an execution.
const ErrNamePolicyCanceled = "bwc.PolicyCanceled"

// concurrencyPolicy limits the executions of one action that run at once.
//
// What runs is counted from the store: the executions of the action in a
// status that holds a slot (slotStatuses), together with those admitted
// here that have not reached one yet. So a restart, which resumes
// workflows and inquiries without admitting them again, or another
// process sharing the store, never makes it exceed the threshold.
type concurrencyPolicy struct {
	ref       string
	action    string
	threshold int
	cancel    bool // else delay

	mu       sync.Mutex
	admitted map[string]bool // admitted here, slot not released yet
	wake     chan struct{}   // closed and replaced when a slot frees here
}

// slotStatuses are the statuses in which an execution holds a slot of its
// action's concurrency policy.
var slotStatuses = []store.ExecutionStatus{store.StatusScheduled, store.StatusRunning, store.StatusPending,
	store.StatusPausing, store.StatusPaused, store.StatusResuming, store.StatusCanceling}

// recheckDelayed is how often a delayed execution counts the slots again,
// for slots freed by executions it is not told about (resumed after a
// restart, or run by another process).
const recheckDelayed = 500 * time.Millisecond

// retryPolicy starts a failed (or timed out) execution again.
type retryPolicy struct {
	ref      string
	onStatus store.ExecutionStatus
	max      int
	delay    time.Duration
}

// policies are the enabled policies by action reference.
type policies struct {
	concurrency map[string]*concurrencyPolicy
	retry       map[string]*retryPolicy
}

// loadPolicies reads the enabled policies of the packs. A policy whose
// parameters do not make sense is skipped with the returned error listing
// why (the pack loader reports most of these already).
func loadPolicies(set *pack.Set) (*policies, []error) {
	ps := &policies{concurrency: map[string]*concurrencyPolicy{}, retry: map[string]*retryPolicy{}}
	var errs []error
	for _, p := range set.Packs {
		for _, pol := range p.Policies {
			if !pol.Enabled {
				continue
			}
			switch pol.PolicyType {
			case PolicyConcurrency:
				n, ok := intParam(pol.Parameters["threshold"])
				if !ok || n < 1 {
					errs = append(errs, fmt.Errorf("policy %s: threshold must be an integer >= 1", pol.Ref))
					continue
				}
				act, _ := pol.Parameters["action"].(string)
				ps.concurrency[pol.ResourceRef] = &concurrencyPolicy{ref: pol.Ref, action: pol.ResourceRef, threshold: n, cancel: act == "cancel",
					admitted: map[string]bool{}, wake: make(chan struct{})}
			case PolicyRetry:
				n, ok := intParam(pol.Parameters["max_retry_count"])
				if !ok {
					n = 2
				}
				on := store.StatusFailed
				if s, _ := pol.Parameters["retry_on"].(string); s == "timeout" {
					on = store.StatusTimeout
				}
				d, _ := intParam(pol.Parameters["delay"])
				ps.retry[pol.ResourceRef] = &retryPolicy{ref: pol.Ref, onStatus: on, max: n, delay: time.Duration(d) * time.Second}
			}
		}
	}
	return ps, errs
}

func intParam(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), x == float64(int(x))
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// tryAcquire takes a slot for execution id when one is free; otherwise it
// returns the channel that is closed when one frees here. Outcomes: true;
// false and the channel; a storage error.
func (c *concurrencyPolicy) tryAcquire(ctx context.Context, st ExecutionStore, id string) (bool, <-chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	holders := map[string]bool{}
	for h := range c.admitted {
		holders[h] = true
	}
	for _, status := range slotStatuses {
		page, err := st.ListExecutions(ctx, store.ExecutionQuery{Action: c.action, Status: status, Limit: c.threshold + len(c.admitted) + 1})
		if err != nil {
			return false, nil, fmt.Errorf("counting the %s executions of %s: %w", status, c.action, err)
		}
		for _, ex := range page.Items {
			holders[ex.ID] = true
		}
	}
	delete(holders, id)
	if len(holders) < c.threshold {
		c.admitted[id] = true
		return true, nil, nil
	}
	return false, c.wake, nil
}

// release gives back the slot of execution id (it has finished, or was
// not scheduled after all).
func (c *concurrencyPolicy) release(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.admitted, id)
	close(c.wake)
	c.wake = make(chan struct{})
}

// admit applies the concurrency policy of an execution's action before it
// is scheduled. It reports whether the execution may go on (holding a slot
// that release gives back) and the execution as it now is.
func (x *Executor) admit(ctx context.Context, ex store.Execution) (store.Execution, func(), bool) {
	pol := x.policies.concurrency[ex.Action]
	if pol == nil {
		return ex, func() {}, true
	}
	log := x.opts.Logger.With("execution", ex.ID, "action", ex.Action, "policy", pol.ref)
	for {
		ok, wake, err := pol.tryAcquire(ctx, x.st, ex.ID)
		if err != nil {
			x.finish(ctx, log, ex, store.StatusFailed, withError(nil, runner.ErrNameStartFailed, fmt.Errorf("policy %s: %w", pol.ref, err)))
			return ex, nil, false
		}
		if ok {
			return ex, func() { pol.release(ex.ID) }, true
		}
		if pol.cancel {
			x.finish(ctx, log, ex, store.StatusCanceled, withError(nil, ErrNamePolicyCanceled, fmt.Errorf("policy %s: %d execution(s) of %s already run", pol.ref, pol.threshold, ex.Action)))
			return ex, nil, false
		}
		if ex.Status != store.StatusDelayed {
			got, ok := x.transition(ctx, log, ex, store.StatusDelayed, nil)
			if !ok {
				return got, nil, false
			}
			ex = got
		}
		t := time.NewTimer(recheckDelayed)
		select {
		case <-wake:
		case <-t.C:
		case <-x.root.Done():
			return ex, nil, false // left delayed: started again after a restart
		case <-x.killed(ex.ID):
			t.Stop()
			return ex, nil, false
		}
		t.Stop()
	}
}

// killed returns a channel closed when the execution is canceled.
func (x *Executor) killed(id string) <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if r := x.running[id]; r != nil {
		return r.ctx.Done()
	}
	ch := make(chan struct{})
	close(ch)
	return ch
}

// retry starts a failed execution again when a retry policy asks for it.
// The retries of an execution are counted in the records (the attempt in
// the new execution's context, linked to the execution first retried), so
// a restart does not start the count again. The new execution's id is
// derived from the failed one's, so it is started once.
//
// The retry is recorded at once. With a delay it is created delayed, its
// context's NotBefore the time the delay ends, and scheduled then (see
// Start): an engine stopped meanwhile starts it at the next start, when
// its time has come, or after the rest of the delay.
func (x *Executor) retry(ex store.Execution, params map[string]any) {
	pol := x.policies.retry[ex.Action]
	if pol == nil || ex.Status != pol.onStatus {
		return
	}
	n := ex.Context.RetryAttempt
	if n >= pol.max {
		return
	}
	a := x.actions.Action(ex.Action)
	if a == nil {
		return
	}
	sum := sha256.Sum256([]byte(ex.ID + "\x00retry"))
	id := "ex-" + hex.EncodeToString(sum[:12])
	req := startRequest(id, a, ex, params)
	req.Context.RetryAttempt = n + 1
	if req.Context.RetryOf == "" {
		req.Context.RetryOf = ex.ID
	}
	req.Context.NotBefore = time.Time{}
	if pol.delay > 0 {
		req.Context.NotBefore = x.opts.Now().Add(pol.delay)
	}
	if _, err := x.Start(context.WithoutCancel(x.root), req); err != nil {
		x.opts.Logger.Error("retrying an execution", "execution", ex.ID, "retry", id, "policy", pol.ref, "err", err)
	}
}
