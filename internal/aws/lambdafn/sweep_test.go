package lambdafn_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bwc-project/bwc/internal/aws/lambdafn"
	"github.com/bwc-project/bwc/internal/store"
)

// testClock is a settable clock for Deps.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ask runs core.ask as a workflow task with the token and ttl (minutes;
// 0: the default) and returns the inquiry's id.
func ask(t *testing.T, f *fixture, task, token string, ttl int) string {
	t.Helper()
	params := map[string]any{"route": "ops"}
	if ttl > 0 {
		params["ttl"] = ttl
	}
	res, err := lambdafn.NewRunner(f.deps).Handle(context.Background(), lambdafn.RunnerEvent{
		Action: "core.ask", Parameters: params,
		Context:   map[string]any{"task": task, "workflow": "examples.remediate_disk", "workflow_execution": parentARN},
		TaskToken: token,
	})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.(map[string]any)["inquiry"].(string)
	if id == "" {
		t.Fatalf("core.ask answered %v, want an inquiry id", res)
	}
	return id
}

// failuresFor returns the SendTaskFailure calls made for token.
func (f *fakeSFN) failuresFor(token string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, in := range f.failures {
		if aws.ToString(in.TaskToken) == token {
			out = append(out, aws.ToString(in.Error)+": "+aws.ToString(in.Cause))
		}
	}
	return out
}

// TestSweepTimesOutExpiredInquiries: the inquiry function's scheduled
// sweep ends an inquiry past its ttl as the embedded engine does (status
// timeout, the task failed with bwc.InquiryTimeout, the core.ask execution
// failed with that error and core.actiontrigger) and leaves a fresh one
// waiting; sweeps at once time an inquiry out once.
func TestSweepTimesOutExpiredInquiries(t *testing.T) {
	f := newFixture(t)
	clk := &testClock{t: time.Now().UTC().Truncate(time.Second)} // the store keeps its own clock for retention
	f.deps.Now = clk.Now
	createParent(t, f)
	ctx := context.Background()
	fn, err := lambdafn.NewInquiry(f.deps, "test")
	if err != nil {
		t.Fatal(err)
	}
	short := ask(t, f, "approve-short", "token-short", 5)
	fresh := ask(t, f, "approve-default", "token-default", 0)

	sweep := func(t *testing.T) lambdafn.SweepResult {
		t.Helper()
		out, err := fn.Handle(ctx, json.RawMessage(`{"sweep": true}`))
		if err != nil {
			t.Fatal(err)
		}
		res, ok := out.(lambdafn.SweepResult)
		if !ok {
			t.Fatalf("sweep answered %T %v", out, out)
		}
		return res
	}
	status := func(t *testing.T, id string) store.Inquiry {
		t.Helper()
		q, err := f.store.GetInquiry(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}

	t.Run("before the ttl", func(t *testing.T) {
		clk.Advance(4 * time.Minute)
		if res := sweep(t); res.TimedOut != 0 || res.Pending != 2 {
			t.Errorf("sweep = %+v, want 2 pending, none timed out", res)
		}
		if q := status(t, short); q.Status != store.InquiryPending || !q.TimeoutAt.Equal(q.CreatedAt.Add(5*time.Minute)) {
			t.Errorf("inquiry %s: status %s, created %s, times out %s; want pending, 5m after creation", short, q.Status, q.CreatedAt, q.TimeoutAt)
		}
	})
	t.Run("past the ttl", func(t *testing.T) {
		clk.Advance(2 * time.Minute)
		if res := sweep(t); res.TimedOut != 1 || res.Pending != 2 {
			t.Errorf("sweep = %+v, want 2 pending, 1 timed out", res)
		}
		if got := f.sfn.failuresFor("token-short"); len(got) != 1 || got[0] != "bwc.InquiryTimeout: inquiry "+short+" got no response within 5m0s" {
			t.Errorf("SendTaskFailure for the expired inquiry = %q, want one bwc.InquiryTimeout", got)
		}
		if got := f.sfn.failuresFor("token-default"); len(got) != 0 {
			t.Errorf("SendTaskFailure for the fresh inquiry = %q, want none", got)
		}
		q := status(t, short)
		if q.Status != store.InquiryTimeout {
			t.Errorf("expired inquiry is %s, want timeout", q.Status)
		}
		if q := status(t, fresh); q.Status != store.InquiryPending {
			t.Errorf("fresh inquiry is %s, want pending", q.Status)
		}
		ex, err := f.store.GetExecution(ctx, q.ExecutionID)
		if err != nil {
			t.Fatal(err)
		}
		var result struct {
			Error struct{ Name string } `json:"error"`
		}
		_ = json.Unmarshal(ex.Result, &result)
		if ex.Status != store.StatusFailed || result.Error.Name != "bwc.InquiryTimeout" {
			t.Errorf("core.ask execution: %s %s, want failed with bwc.InquiryTimeout", ex.Status, ex.Result)
		}
		found := false
		for _, d := range f.events.ofType("core.actiontrigger") {
			p, _ := d["payload"].(map[string]any)
			if p["execution_id"] == ex.ID && p["status"] == string(store.StatusFailed) {
				found = true
			}
		}
		if !found {
			t.Errorf("no core.actiontrigger for %s: %v", ex.ID, f.events.ofType("core.actiontrigger"))
		}
		// Swept again: nothing more.
		if res := sweep(t); res.TimedOut != 0 || len(f.sfn.failuresFor("token-short")) != 1 {
			t.Errorf("second sweep = %+v, failures %q; want nothing more", res, f.sfn.failuresFor("token-short"))
		}
	})
	t.Run("sweeps at once", func(t *testing.T) {
		clk.Advance(24 * time.Hour)
		var wg sync.WaitGroup
		results := make([]lambdafn.SweepResult, 4)
		errs := make([]error, len(results))
		for i := range results {
			wg.Go(func() { results[i], errs[i] = lambdafn.SweepInquiries(ctx, f.deps) })
		}
		wg.Wait()
		total := 0
		for i, r := range results {
			if errs[i] != nil {
				t.Errorf("sweep %d: %v", i, errs[i])
			}
			total += r.TimedOut
		}
		if total != 1 {
			t.Errorf("the sweeps timed out %d inquiries in all, want 1: %+v", total, results)
		}
		if got := f.sfn.failuresFor("token-default"); len(got) != 1 {
			t.Errorf("SendTaskFailure for the default-ttl inquiry = %q, want exactly one", got)
		}
		if q := status(t, fresh); q.Status != store.InquiryTimeout {
			t.Errorf("default-ttl inquiry is %s after 24h, want timeout", q.Status)
		}
	})
}

// TestInquiryFunctionRejectsOtherEvents: the inquiry function takes a sweep
// or an API Gateway event, nothing else.
func TestInquiryFunctionRejectsOtherEvents(t *testing.T) {
	f := newFixture(t)
	fn, err := lambdafn.NewInquiry(f.deps, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{`{"sweep": false}`, `{"rule": "x"}`, `[1]`} {
		t.Run(raw, func(t *testing.T) {
			_, err := fn.Handle(context.Background(), json.RawMessage(raw))
			var fe messages.InvokeResponse_Error
			if !errors.As(err, &fe) || fe.Type != "bwc.BadEvent" {
				t.Errorf("error %v, want a bwc.BadEvent function error", err)
			}
		})
	}
}
