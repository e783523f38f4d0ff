package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

func testTriggerInstanceCreateGet(e *env) {
	ti := store.TriggerInstance{
		ID: "ti-1", Trigger: "core.webhook", Payload: json.RawMessage(`{"a":{"b":[1,2,"x"]}}`),
		OccurredAt: T0.Add(-time.Minute), SourceEventID: "evt-1", TraceTag: "tr-1",
	}
	got, err := e.s.CreateTriggerInstance(e.ctx, ti)
	e.must(err, "CreateTriggerInstance")
	if got.Status != store.TriggerPending || !got.ExpiresAt.After(T0) {
		e.fatalf("created instance has status %q expiry %v", got.Status, got.ExpiresAt)
	}
	read, err := e.s.GetTriggerInstance(e.ctx, "ti-1")
	e.must(err, "GetTriggerInstance")
	e.sameJSON(read, got, "read back")
	_, err = e.s.GetTriggerInstance(e.ctx, "ti-none")
	e.wantErr(err, store.ErrNotFound, "get missing")
}

func testTriggerInstanceIdempotent(e *env) {
	first, err := e.s.CreateTriggerInstance(e.ctx, store.TriggerInstance{Trigger: "core.webhook", SourceEventID: "evt-42", Payload: json.RawMessage(`{"n":1}`)})
	e.must(err, "first create")
	if first.ID != store.TriggerInstanceID("evt-42") {
		e.fatalf("id %q not derived from the source event id", first.ID)
	}
	e.clock.Advance(time.Second)
	again, err := e.s.CreateTriggerInstance(e.ctx, store.TriggerInstance{Trigger: "core.webhook", SourceEventID: "evt-42", Payload: json.RawMessage(`{"n":2}`)})
	e.wantErr(err, store.ErrAlreadyExists, "redelivered event")
	e.sameJSON(again, first, "second create returns the stored record")
	page, err := e.s.ListTriggerInstances(e.ctx, store.TriggerInstanceQuery{Trigger: "core.webhook"})
	e.must(err, "list")
	if len(page.Items) != 1 {
		e.fatalf("redelivered event stored %d times", len(page.Items))
	}
}

func testTriggerInstanceStatus(e *env) {
	_, err := e.s.CreateTriggerInstance(e.ctx, store.TriggerInstance{ID: "ti-s", Trigger: "x.y"})
	e.must(err, "create")
	got, err := e.s.SetTriggerInstanceStatus(e.ctx, "ti-s", store.TriggerPending, store.TriggerProcessing)
	e.must(err, "pending->processing")
	if got.Status != store.TriggerProcessing {
		e.fatalf("status %q", got.Status)
	}
	cur, err := e.s.SetTriggerInstanceStatus(e.ctx, "ti-s", store.TriggerPending, store.TriggerProcessed)
	e.wantErr(err, store.ErrConflict, "stale from")
	if cur.Status != store.TriggerProcessing {
		e.fatalf("conflict returned status %q, want the current one", cur.Status)
	}
	_, err = e.s.SetTriggerInstanceStatus(e.ctx, "ti-s", store.TriggerProcessing, store.TriggerProcessed)
	e.must(err, "processing->processed")
	_, err = e.s.SetTriggerInstanceStatus(e.ctx, "ti-s", store.TriggerProcessed, store.TriggerPending)
	e.wantErr(err, store.ErrIllegalTransition, "processed->pending")
	_, err = e.s.SetTriggerInstanceStatus(e.ctx, "ti-none", store.TriggerPending, store.TriggerProcessing)
	e.wantErr(err, store.ErrNotFound, "missing")
	read, err := e.s.GetTriggerInstance(e.ctx, "ti-s")
	e.must(err, "get")
	if read.Status != store.TriggerProcessed {
		e.fatalf("stored status %q", read.Status)
	}
}

func testTriggerInstanceList(e *env) {
	// 25 webhooks, 10 timers, interleaved in time, one minute apart.
	var hooks []string
	for i := range 35 {
		trig := "core.webhook"
		if i%7 == 3 || i%7 == 5 {
			trig = "core.IntervalTimer"
		}
		id := fmt.Sprintf("ti-%03d", i)
		_, err := e.s.CreateTriggerInstance(e.ctx, store.TriggerInstance{ID: id, Trigger: trig, OccurredAt: T0.Add(time.Duration(i) * time.Minute)})
		e.must(err, "create")
		if trig == "core.webhook" {
			hooks = append(hooks, id)
		}
	}
	slices.Reverse(hooks)
	var got []string
	tok := ""
	pages := 0
	for {
		p, err := e.s.ListTriggerInstances(e.ctx, store.TriggerInstanceQuery{Trigger: "core.webhook", Limit: 7, Token: tok})
		e.must(err, "list page")
		pages++
		for _, ti := range p.Items {
			if ti.Trigger != "core.webhook" {
				e.fatalf("listed a %s", ti.Trigger)
			}
			got = append(got, ti.ID)
		}
		if p.Next == "" {
			break
		}
		tok = p.Next
		if pages > 10 {
			e.fatalf("pagination does not end")
		}
	}
	e.sameJSON(got, hooks, "webhooks newest first over pages")
	if pages < 4 {
		e.fatalf("%d pages for 25 items at 7 a page", pages)
	}
	// Time range, inclusive: minutes 10..20.
	p, err := e.s.ListTriggerInstances(e.ctx, store.TriggerInstanceQuery{TimeRange: store.TimeRange{Since: T0.Add(10 * time.Minute), Until: T0.Add(20 * time.Minute)}, Limit: 100})
	e.must(err, "list by time")
	var want []string
	for i := 20; i >= 10; i-- {
		want = append(want, fmt.Sprintf("ti-%03d", i))
	}
	e.sameJSON(ids(p.Items, func(t store.TriggerInstance) string { return t.ID }), want, "time range")
	if p.Next != "" {
		e.fatalf("Next %q on the last page", p.Next)
	}
	_, err = e.s.ListTriggerInstances(e.ctx, store.TriggerInstanceQuery{Token: "not a token"})
	e.wantErr(err, store.ErrInvalid, "bad token")
}

func testEnforcements(e *env) {
	for i := range 12 {
		rule := "pack.r1"
		if i%3 == 0 {
			rule = "pack.r2"
		}
		en := store.Enforcement{ID: fmt.Sprintf("en-%02d", i), Rule: rule, TriggerInstanceID: fmt.Sprintf("ti-%d", i),
			ExecutionID: fmt.Sprintf("ex-%d", i), Status: store.EnforcementSucceeded, EnforcedAt: T0.Add(time.Duration(i) * time.Second)}
		if i == 4 {
			en.Status, en.FailureReason, en.ExecutionID = store.EnforcementFailed, "rendering parameters: $.x: no such field", ""
		}
		got, err := e.s.CreateEnforcement(e.ctx, en)
		e.must(err, "create enforcement")
		if i == 4 {
			read, err := e.s.GetEnforcement(e.ctx, en.ID)
			e.must(err, "get")
			e.sameJSON(read, got, "read back")
			if read.FailureReason == "" {
				e.fatalf("failure reason lost")
			}
		}
	}
	dup, err := e.s.CreateEnforcement(e.ctx, store.Enforcement{ID: "en-04", Rule: "pack.other", Status: store.EnforcementSucceeded})
	e.wantErr(err, store.ErrAlreadyExists, "duplicate")
	if dup.Rule != "pack.r1" {
		e.fatalf("duplicate create changed or lost the stored record: %+v", dup)
	}
	_, err = e.s.GetEnforcement(e.ctx, "en-none")
	e.wantErr(err, store.ErrNotFound, "missing")
	var got []string
	tok := ""
	for range 10 {
		p, err := e.s.ListEnforcements(e.ctx, store.EnforcementQuery{Rule: "pack.r1", Limit: 3, Token: tok})
		e.must(err, "list")
		got = append(got, ids(p.Items, func(x store.Enforcement) string { return x.ID })...)
		if tok = p.Next; tok == "" {
			break
		}
	}
	e.sameJSON(got, []string{"en-11", "en-10", "en-08", "en-07", "en-05", "en-04", "en-02", "en-01"}, "r1 enforcements newest first")
	p, err := e.s.ListEnforcements(e.ctx, store.EnforcementQuery{Limit: 100, TimeRange: store.TimeRange{Until: T0.Add(2 * time.Second)}})
	e.must(err, "list all")
	e.sameJSON(ids(p.Items, func(x store.Enforcement) string { return x.ID }), []string{"en-02", "en-01", "en-00"}, "until")
}
