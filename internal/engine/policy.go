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
type concurrencyPolicy struct {
	ref       string
	threshold int
	cancel    bool // else delay

	mu     sync.Mutex
	active int
	wake   chan struct{} // closed and replaced when a slot frees
}

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
				ps.concurrency[pol.ResourceRef] = &concurrencyPolicy{ref: pol.Ref, threshold: n, cancel: act == "cancel", wake: make(chan struct{})}
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

// tryAcquire takes a slot when one is free; otherwise it returns the
// channel that is closed when one frees.
func (c *concurrencyPolicy) tryAcquire() (bool, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active < c.threshold {
		c.active++
		return true, nil
	}
	return false, c.wake
}

func (c *concurrencyPolicy) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active--
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
		ok, wake := pol.tryAcquire()
		if ok {
			return ex, pol.release, true
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
		select {
		case <-wake:
		case <-x.root.Done():
			return ex, nil, false // left delayed: started again after a restart
		case <-x.killed(ex.ID):
			return ex, nil, false
		}
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
func (x *Executor) retry(ex store.Execution, params map[string]any) {
	pol := x.policies.retry[ex.Action]
	if pol == nil || ex.Status != pol.onStatus {
		return
	}
	x.mu.Lock()
	n := x.retries[ex.ID]
	x.mu.Unlock()
	if n >= pol.max {
		return
	}
	a := x.actions.Action(ex.Action)
	if a == nil {
		return
	}
	sum := sha256.Sum256([]byte(ex.ID + "\x00retry"))
	id := "ex-" + hex.EncodeToString(sum[:12])
	x.mu.Lock()
	x.retries[id] = n + 1
	x.mu.Unlock()
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		if pol.delay > 0 {
			t := time.NewTimer(pol.delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-x.root.Done():
				return
			}
		}
		_, err := x.Start(x.root, startRequest(id, a, ex, params))
		if err != nil {
			x.opts.Logger.Error("retrying an execution", "execution", ex.ID, "policy", pol.ref, "err", err)
		}
	}()
}
