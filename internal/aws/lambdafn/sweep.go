package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/bwc-project/bwc/internal/aws/stepfunctions"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
)

// SweepEvent is what the stack's inquiry-sweep schedule (EventBridge
// Scheduler, every minute) sends the inquiry function.
type SweepEvent struct {
	Sweep bool `json:"sweep"`
}

// SweepResult is the inquiry function's answer to a sweep.
type SweepResult struct {
	// Pending is how many pending inquiries the sweep looked at.
	Pending int `json:"pending"`
	// TimedOut is how many of them this sweep timed out (not counting
	// those another sweep or a response resolved first).
	TimedOut int `json:"timed_out"`
}

// InquiryFunction is the inquiry function's handler: API Gateway events
// (inquiry responses) go to the HTTP API as NewHTTP's handler serves
// them, and the schedule's {"sweep": true} times out the inquiries past
// their ttl (SweepInquiries).
type InquiryFunction struct {
	http HTTPAdapter
	d    *Deps
}

// NewInquiry builds the inquiry function's handler; version is reported
// by /api/v1/health.
func NewInquiry(d *Deps, version string) (*InquiryFunction, error) {
	h, err := NewHTTP(d, version)
	if err != nil {
		return nil, err
	}
	return &InquiryFunction{http: h, d: d}, nil
}

// Handle serves one invocation. Outcomes: for {"sweep": true}, a
// SweepResult, or a bwc.Internal function error when the pending
// inquiries cannot be listed or some could not be timed out (the next
// sweep tries them again); for an API Gateway event, its response; a
// bwc.BadEvent function error for anything else.
func (f *InquiryFunction) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var sweep SweepEvent
	if json.Unmarshal(raw, &sweep) == nil && sweep.Sweep {
		res, err := SweepInquiries(ctx, f.d)
		if err != nil {
			return res, FunctionError(ErrNameInternal, err.Error())
		}
		return res, nil
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil || ev.RequestContext.HTTP.Method == "" {
		return nil, FunctionError(ErrNameBadEvent, `expected {"sweep": true} (the inquiry-sweep schedule) or an API Gateway HTTP API event (payload format 2.0)`)
	}
	return f.http.Handle(ctx, ev)
}

// SweepInquiries times out every pending inquiry past its deadline
// (enforcer.InquiryDeadline: created_at plus core.ask's ttl), as the
// embedded engine's timer does: the inquiry moves to timeout
// compare-and-set (enforcer.TimeoutInquiry), its waiting task fails with
// bwc.InquiryTimeout (SendTaskFailure), and the core.ask execution
// finishes failed with {"error": {"name": "bwc.InquiryTimeout", ...}}
// and core.actiontrigger. Only the sweep whose compare-and-set wins
// answers the task, so sweeps running at once (or a response arriving as
// the ttl ends) end each inquiry once. Outcomes: what was swept; and,
// with what was done so far, the first error listing the inquiries or the
// joined errors of inquiries that could not be timed out.
func SweepInquiries(ctx context.Context, d *Deps) (SweepResult, error) {
	d.init()
	log := d.logger(ctx, "inquiry").With("sweep", true)
	now := d.Now()
	var res SweepResult
	var errs []error
	token := ""
	for {
		page, err := d.Store.ListInquiries(ctx, store.InquiryQuery{Status: store.InquiryPending, Token: token})
		if err != nil {
			return res, fmt.Errorf("sweeping inquiries: %w", err)
		}
		for _, q := range page.Items {
			res.Pending++
			if !enforcer.InquiryExpired(q, now) {
				continue
			}
			done, err := timeOut(ctx, d, log, q.ID)
			if err != nil {
				errs = append(errs, err)
			}
			if done {
				res.TimedOut++
			}
		}
		if page.Next == "" {
			break
		}
		token = page.Next
	}
	if res.TimedOut > 0 {
		log.Info("inquiries timed out", "timed_out", res.TimedOut, "pending", res.Pending)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("sweeping inquiries: %w", errors.Join(errs...))
	}
	return res, nil
}

// timeOut ends one expired inquiry; done is false when someone else
// resolved it first.
func timeOut(ctx context.Context, d *Deps, log *slog.Logger, id string) (done bool, err error) {
	got, msg, err := enforcer.TimeoutInquiry(ctx, d.Store, id)
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	log = log.With("inquiry", id, "execution", got.ExecutionID)
	if got.TaskToken != "" {
		err := stepfunctions.NewTasks(d.SFN).Fail(ctx, got.TaskToken, enforcer.ErrNameInquiryTimeout, msg)
		switch {
		case errors.Is(err, stepfunctions.ErrTaskGone):
			// The workflow ended meanwhile (canceled, or its own timeout).
			log.Warn("the timed-out inquiry's task no longer waits", "err", err)
		case err != nil:
			// The inquiry is timed out but its task still waits; the
			// error is reported, as a response's would be.
			log.Error("failing the workflow's task", "err", err)
			return true, fmt.Errorf("timing out inquiry %s: %w", id, err)
		}
	}
	if _, _, err := d.finish(ctx, log, got.ExecutionID, store.StatusFailed, runner.WithError(nil, enforcer.ErrNameInquiryTimeout, msg)); err != nil {
		log.Error("finishing the core.ask execution", "err", err)
	}
	log.Info("inquiry timed out")
	return true, nil
}
