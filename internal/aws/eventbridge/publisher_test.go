package eventbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseventbridge "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/aws/eventbridge"
	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/store"
)

var _ api.Publisher = (*eventbridge.Publisher)(nil)

// fakeAPI records PutEvents calls; failEntry names entries (by detail-type)
// EventBridge rejects, and failCall fails the whole call.
type fakeAPI struct {
	calls     [][]types.PutEventsRequestEntry
	failEntry string
	failCall  error
	// failCode is the code of failEntry's rejection (default
	// InternalFailure); failTimes > 0 rejects it only that many times.
	failCode  string
	failTimes int
	failed    int
}

func (f *fakeAPI) PutEvents(_ context.Context, in *awseventbridge.PutEventsInput, _ ...func(*awseventbridge.Options)) (*awseventbridge.PutEventsOutput, error) {
	f.calls = append(f.calls, in.Entries)
	if f.failCall != nil {
		return nil, f.failCall
	}
	out := &awseventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		if aws.ToString(e.DetailType) == f.failEntry && (f.failTimes == 0 || f.failed < f.failTimes) {
			f.failed++
			code := f.failCode
			if code == "" {
				code = "InternalFailure"
			}
			out.FailedEntryCount++
			out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("try again")})
			continue
		}
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String("eb")})
	}
	return out, nil
}

// memRecorder keeps trigger instances in memory.
type memRecorder struct {
	tis map[string]store.TriggerInstance
	err error
}

func (m *memRecorder) CreateTriggerInstance(_ context.Context, ti store.TriggerInstance) (store.TriggerInstance, error) {
	if m.err != nil {
		return store.TriggerInstance{}, m.err
	}
	if old, ok := m.tis[ti.ID]; ok {
		return old, store.ErrAlreadyExists
	}
	if ti.Status == "" {
		ti.Status = store.TriggerPending
	}
	m.tis[ti.ID] = ti
	return ti, nil
}

func entries(n int, trigger string) []bus.Entry {
	out := make([]bus.Entry, n)
	for i := range out {
		out[i] = bus.Entry{ID: fmt.Sprintf("ev-%d", i), Trigger: trigger, Payload: map[string]any{"n": i}}
	}
	return out
}

// bigEntries are n entries whose payload is about size bytes.
func bigEntries(n, size int) []bus.Entry {
	out := entries(n, "examples.big")
	for i := range out {
		out[i].ID = fmt.Sprintf("big-%d", i)
		out[i].Payload = map[string]any{"blob": strings.Repeat("x", size)}
	}
	return out
}

func TestPutEvents(t *testing.T) {
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		entries    []bus.Entry
		api        *fakeAPI
		recErr     error
		wantCalls  []int // entries per call
		wantFailed int
		wantCode   string
		wantSleeps []time.Duration
	}{
		{name: "one entry", entries: entries(1, "examples.disk_alert"), api: &fakeAPI{}, wantCalls: []int{1}},
		{name: "batches of ten", entries: entries(23, "examples.disk_alert"), api: &fakeAPI{}, wantCalls: []int{10, 10, 3}},
		{name: "an entry EventBridge rejects", entries: append(entries(2, "examples.disk_alert"), bus.Entry{ID: "x", Trigger: "examples.bad"}), api: &fakeAPI{failEntry: "examples.bad"}, wantCalls: []int{3, 1, 1, 1}, wantFailed: 1, wantCode: "InternalFailure", wantSleeps: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}},
		{name: "a transient rejection resent alone", entries: append(entries(2, "examples.disk_alert"), bus.Entry{ID: "x", Trigger: "examples.bad"}), api: &fakeAPI{failEntry: "examples.bad", failCode: "ThrottlingException", failTimes: 2}, wantCalls: []int{3, 1, 1}, wantSleeps: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{name: "a permanent rejection not resent", entries: append(entries(2, "examples.disk_alert"), bus.Entry{ID: "x", Trigger: "examples.bad"}), api: &fakeAPI{failEntry: "examples.bad", failCode: "MalformedDetail"}, wantCalls: []int{3}, wantFailed: 1, wantCode: "MalformedDetail"},
		{name: "batches within 256 KiB", entries: bigEntries(3, 100<<10), api: &fakeAPI{}, wantCalls: []int{2, 1}},
		{name: "an entry over 256 KiB", entries: append(bigEntries(1, 300<<10), entries(1, "examples.disk_alert")...), api: &fakeAPI{}, wantCalls: []int{1}, wantFailed: 1, wantCode: bus.ErrCodeInvalid},
		{name: "a failed call", entries: entries(2, "examples.disk_alert"), api: &fakeAPI{failCall: errors.New("connection refused")}, wantCalls: []int{2}, wantFailed: 2, wantCode: bus.ErrCodeInternal},
		{name: "no trigger type", entries: []bus.Entry{{ID: "y"}}, api: &fakeAPI{}, wantFailed: 1, wantCode: bus.ErrCodeInvalid},
		{name: "storage error", entries: entries(1, "examples.disk_alert"), api: &fakeAPI{}, recErr: errors.New("throttled"), wantFailed: 1, wantCode: bus.ErrCodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &memRecorder{tis: map[string]store.TriggerInstance{}, err: tc.recErr}
			var sleeps []time.Duration
			p := eventbridge.New(tc.api, "bwc-bus", rec, eventbridge.Options{Now: func() time.Time { return at },
				Sleep: func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }})
			out, err := p.PutEvents(context.Background(), tc.entries)
			if err != nil {
				t.Fatal(err)
			}
			var calls []int
			for _, c := range tc.api.calls {
				calls = append(calls, len(c))
			}
			if fmt.Sprint(calls) != fmt.Sprint(tc.wantCalls) {
				t.Errorf("PutEvents calls of %v entries, want %v", calls, tc.wantCalls)
			}
			if fmt.Sprint(sleeps) != fmt.Sprint(tc.wantSleeps) {
				t.Errorf("waits %v before resends, want %v", sleeps, tc.wantSleeps)
			}
			for i, r := range out.Entries {
				if r.ErrorCode == bus.ErrCodeInvalid {
					if _, ok := rec.tis[store.TriggerInstanceID(tc.entries[i].ID)]; ok {
						t.Errorf("entry %d refused as invalid was recorded as a trigger instance", i)
					}
				}
			}
			if out.FailedEntryCount != tc.wantFailed || len(out.Entries) != len(tc.entries) {
				t.Fatalf("output %+v, want %d failed of %d", out, tc.wantFailed, len(tc.entries))
			}
			for _, r := range out.Entries {
				if r.ErrorCode != "" && (r.ErrorCode != tc.wantCode || r.ErrorMessage == "") {
					t.Errorf("entry result %+v, want code %s with a message", r, tc.wantCode)
				}
			}
		})
	}
}

func TestEnvelopeAndDuplicates(t *testing.T) {
	api := &fakeAPI{}
	rec := &memRecorder{tis: map[string]store.TriggerInstance{}}
	p := eventbridge.New(api, "bwc-bus", rec, eventbridge.Options{})
	e := bus.Entry{ID: "webhook:hook#1", Trigger: "core.webhook", TriggerParameters: map[string]any{"url": "hook"}, Payload: map[string]any{"body": "x"}, TraceTag: "tt"}
	first, err := p.PutEvents(context.Background(), []bus.Entry{e})
	if err != nil {
		t.Fatal(err)
	}
	ent := api.calls[0][0]
	if aws.ToString(ent.EventBusName) != "bwc-bus" || aws.ToString(ent.Source) != "bwc.core" || aws.ToString(ent.DetailType) != "core.webhook" {
		t.Errorf("entry bus %s source %s detail-type %s", aws.ToString(ent.EventBusName), aws.ToString(ent.Source), aws.ToString(ent.DetailType))
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(ent.Detail)), &d); err != nil {
		t.Fatal(err)
	}
	ti := first.Entries[0].TriggerInstanceID
	if d["trigger_instance_id"] != ti || d["trace_tag"] != "tt" || d["trigger"] != "core.webhook" || d["payload"].(map[string]any)["body"] != "x" {
		t.Errorf("detail = %v", d)
	}
	// Still pending: sent again (the first send may have been lost).
	again, _ := p.PutEvents(context.Background(), []bus.Entry{e})
	if !again.Entries[0].Duplicate || again.Entries[0].TriggerInstanceID != ti || len(api.calls) != 2 {
		t.Errorf("a pending duplicate: %+v after %d calls, want a duplicate sent again", again.Entries[0], len(api.calls))
	}
	// Processed: acknowledged, not sent.
	x := rec.tis[ti]
	x.Status = store.TriggerProcessed
	rec.tis[ti] = x
	third, _ := p.PutEvents(context.Background(), []bus.Entry{e})
	if !third.Entries[0].Duplicate || len(api.calls) != 2 {
		t.Errorf("a processed duplicate: %+v after %d calls, want it acknowledged and not sent", third.Entries[0], len(api.calls))
	}
}
