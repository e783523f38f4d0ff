package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
)

// InquiryTrigger is the trigger type emitted when an inquiry is created.
const InquiryTrigger = "core.inquiry"

// ErrNameInquiryTimeout: nobody answered an inquiry within its ttl.
const ErrNameInquiryTimeout = enforcer.ErrNameInquiryTimeout

// InquiryStore keeps inquiries; store.Store satisfies it.
type InquiryStore interface {
	CreateInquiry(ctx context.Context, q store.Inquiry) (store.Inquiry, error)
	GetInquiry(ctx context.Context, id string) (store.Inquiry, error)
	ResolveInquiry(ctx context.Context, id string, to store.InquiryStatus, response json.RawMessage, by string) (store.Inquiry, error)
	UpdateExecution(ctx context.Context, id string, u store.ExecutionUpdate) (store.Execution, error)
	GetExecution(ctx context.Context, id string) (store.Execution, error)
}

// inquirer runs core.ask (runner type inquirer): it records an inquiry,
// moves the execution to pending, emits core.inquiry, and waits for the
// response (Respond), the ttl, or a cancellation.
type inquirer struct {
	st  InquiryStore
	pub Publisher
	now func() time.Time
	// stopping reports whether the engine is shutting down.
	stopping func() bool

	mu      sync.Mutex
	waiting map[string]chan json.RawMessage // by inquiry id
}

func newInquirer(st InquiryStore, pub Publisher) *inquirer {
	return &inquirer{st: st, pub: pub, now: time.Now, waiting: map[string]chan json.RawMessage{}}
}

// InquiryID is the id of the inquiry an execution of core.ask creates.
func InquiryID(executionID string) string { return enforcer.InquiryID(executionID) }

// Run implements runner.Runner.
func (q *inquirer) Run(ctx context.Context, req runner.Request) (runner.Result, error) {
	p := func(name string) any {
		if v, ok := req.RunnerParameters[name]; ok {
			return v
		}
		return req.Parameters[name]
	}
	newInq, err := enforcer.NewInquiry(req.ExecutionID, p, q.now())
	if err != nil {
		return runner.Result{}, &runner.ActionError{Name: runner.ErrNameInvalidParameters, Err: err}
	}
	ttl := newInq.TimeoutAt.Sub(newInq.CreatedAt)
	route, _ := p("route").(string)
	id := newInq.ID
	ch := make(chan json.RawMessage, 1)
	q.mu.Lock()
	q.waiting[id] = ch
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		delete(q.waiting, id)
		q.mu.Unlock()
	}()
	inq, err := q.st.CreateInquiry(ctx, newInq)
	if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return runner.Result{}, &runner.ActionError{Name: runner.ErrNameStartFailed, Err: fmt.Errorf("recording inquiry %s: %w", id, err)}
	}
	if inq.Status == store.InquiryResponded {
		return runner.Result{Value: map[string]any{"response": decode(inq.Response)}}, nil
	}
	if _, err := q.st.UpdateExecution(ctx, req.ExecutionID, store.ExecutionUpdate{From: store.StatusRunning, To: store.StatusPending, At: q.now()}); err != nil && !errors.Is(err, store.ErrConflict) {
		return runner.Result{}, &runner.ActionError{Name: runner.ErrNameStartFailed, Err: fmt.Errorf("marking execution %s pending: %w", req.ExecutionID, err)}
	}
	if q.pub != nil {
		_, _ = q.pub.PutEvents(ctx, []bus.Entry{{
			ID:       "inquiry:" + id,
			Trigger:  InquiryTrigger,
			Payload:  map[string]any{"id": id, "route": route},
			TraceTag: traceOf(req.Context),
		}})
	}
	// The ttl runs from the inquiry's creation, also across a restart.
	wait := ttl
	if inq.TimeoutAt.IsZero() && !inq.CreatedAt.IsZero() {
		inq.TimeoutAt = inq.CreatedAt.Add(ttl) // a record from before TimeoutAt
	}
	if !inq.TimeoutAt.IsZero() {
		wait = time.Until(enforcer.InquiryDeadline(inq))
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case resp := <-ch:
		return runner.Result{Value: map[string]any{"response": decode(resp)}}, nil
	case <-timer.C:
		got, msg, err := enforcer.TimeoutInquiry(context.WithoutCancel(ctx), q.st, id)
		if errors.Is(err, store.ErrConflict) && got.Status == store.InquiryResponded {
			// Answered as the ttl ran out: the response won.
			return runner.Result{Value: map[string]any{"response": decode(got.Response)}}, nil
		}
		if msg == "" {
			msg = fmt.Sprintf("inquiry %s got no response within %s", id, ttl)
		}
		return runner.Result{}, &runner.ActionError{Name: ErrNameInquiryTimeout, Err: errors.New(msg)}
	case <-ctx.Done():
		if q.stopping != nil && q.stopping() {
			// The engine stops: the inquiry stays pending, and is waited
			// for again at the next start.
			return runner.Result{}, &runner.ActionError{Name: runner.ErrNameActionCanceled, Err: errors.New("the engine stopped")}
		}
		_, _ = q.st.ResolveInquiry(context.WithoutCancel(ctx), id, store.InquiryCanceled, nil, "")
		return runner.Result{}, &runner.ActionError{Name: runner.ErrNameActionCanceled, Err: fmt.Errorf("inquiry %s was canceled", id)}
	}
}

// Respond answers a pending inquiry. The response must satisfy the
// inquiry's schema; when the inquiry names users, user must be one of them.
// Outcomes: the inquiry as resolved; store.ErrNotFound; a
// *enforcer.ParameterError (pointers under /response) for a response that
// does not match; store.ErrConflict when it is not pending or the user may
// not answer; a storage error.
func (q *inquirer) Respond(ctx context.Context, id string, response map[string]any, user string) (store.Inquiry, error) {
	got, err := enforcer.RespondInquiry(ctx, q.st, id, response, user)
	if err != nil {
		return got, err
	}
	raw := got.Response
	q.mu.Lock()
	ch := q.waiting[id]
	q.mu.Unlock()
	if ch != nil {
		select {
		case ch <- raw:
		default:
		}
	}
	return got, nil
}

func decode(raw json.RawMessage) any {
	var v any
	_ = json.Unmarshal(raw, &v)
	return v
}

func traceOf(ctx map[string]any) string {
	s, _ := ctx["trace_tag"].(string)
	return s
}
