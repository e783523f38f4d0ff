package bus_test

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bwc.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// recorder is a Target that records what it is asked to enforce.
type recorder struct {
	mu    sync.Mutex
	calls []string // rule@trigger instance
	fail  string   // a rule whose enforcement fails
}

func (r *recorder) Enforce(_ context.Context, ruleRef string, env rule.Envelope) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, ruleRef+"@"+env.Detail.TriggerInstanceID)
	if ruleRef == r.fail {
		return errors.New("enforcement failed")
	}
	return nil
}

func (r *recorder) sorted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.calls...)
	sort.Strings(out)
	return out
}

func compiled(t *testing.T, ref, trigger string, params map[string]any, criteria ...rule.Criterion) *rule.Compiled {
	t.Helper()
	c, err := rule.Compile(rule.Rule{Ref: ref, Pack: "p", Name: ref, Enabled: true,
		Trigger:  rule.Trigger{Type: trigger, Parameters: params},
		Criteria: criteria,
		Action:   rule.Action{Ref: "core.noop"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPutEventsResultsPerEntry(t *testing.T) {
	db := openStore(t)
	b := bus.New(db, &recorder{}, bus.Options{})
	if err := b.SetRules([]*rule.Compiled{compiled(t, "p.r", "p.t", nil)}); err != nil {
		t.Fatal(err)
	}
	out, err := b.PutEvents(context.Background(), []bus.Entry{
		{ID: "e1", Trigger: "p.t", Payload: map[string]any{"a": 1}},
		{ID: "e2"}, // no trigger
		{ID: "e1", Trigger: "p.t", Payload: map[string]any{"a": 2}},
		{Trigger: "p.t"}, // the bus assigns an id
		{ID: "e5", Trigger: "p.unheard"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || len(out.Entries) != 5 {
		t.Fatalf("output %+v", out)
	}
	e := out.Entries
	if e[0].EventID != "e1" || e[0].Duplicate || e[0].ErrorCode != "" || e[0].TriggerInstanceID != store.TriggerInstanceID("e1") {
		t.Errorf("entry 0: %+v", e[0])
	}
	if e[1].ErrorCode != bus.ErrCodeInvalid || e[1].ErrorMessage == "" || e[1].TriggerInstanceID != "" {
		t.Errorf("entry 1: %+v", e[1])
	}
	if !e[2].Duplicate || e[2].TriggerInstanceID != e[0].TriggerInstanceID {
		t.Errorf("entry 2: %+v, want a duplicate of entry 0", e[2])
	}
	if e[3].EventID == "" || e[3].Duplicate || e[3].ErrorCode != "" {
		t.Errorf("entry 3: %+v", e[3])
	}
	// Acknowledged means recorded: the bus was never started, yet the
	// instances are in the store, pending, with the first payload.
	ti, err := db.GetTriggerInstance(context.Background(), e[0].TriggerInstanceID)
	if err != nil {
		t.Fatal(err)
	}
	if ti.Status != store.TriggerPending || string(ti.Payload) != `{"a":1}` || ti.SourceEventID != "e1" || ti.TraceTag != ti.ID {
		t.Errorf("trigger instance %+v", ti)
	}
	if _, err := db.GetTriggerInstance(context.Background(), e[3].TriggerInstanceID); err != nil {
		t.Errorf("entry 3 not recorded: %v", err)
	}
	// An event no rule selects is recorded, already processed.
	ti, err = db.GetTriggerInstance(context.Background(), e[4].TriggerInstanceID)
	if err != nil || ti.Status != store.TriggerProcessed {
		t.Errorf("entry 4: %+v, %v; want it recorded processed", ti, err)
	}
}

func TestDeliveryToMatchingRules(t *testing.T) {
	db := openStore(t)
	target := &recorder{fail: "p.broken"}
	b := bus.New(db, target, bus.Options{Workers: 2})
	err := b.SetRules([]*rule.Compiled{
		compiled(t, "p.any", "p.t", nil),
		compiled(t, "p.big", "p.t", nil, rule.Criterion{Key: "trigger.n", Op: "greaterthan", Pattern: 10}),
		compiled(t, "p.hook_a", "core.webhook", map[string]any{"url": "a"}),
		compiled(t, "p.hook_b", "core.webhook", map[string]any{"url": "b"}),
		compiled(t, "p.broken", "p.u", nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	b.Start(context.Background())
	out, err := b.PutEvents(context.Background(), []bus.Entry{
		{ID: "small", Trigger: "p.t", Payload: map[string]any{"n": 1}},
		{ID: "big", Trigger: "p.t", Payload: map[string]any{"n": 11}},
		{ID: "hook", Trigger: "core.webhook", TriggerParameters: map[string]any{"url": "b"}},
		{ID: "none", Trigger: "p.other"},
		{ID: "broken", Trigger: "p.u"},
	})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %+v, %v", out, err)
	}
	b.Close()
	ti := store.TriggerInstanceID
	want := []string{
		"p.any@" + ti("big"), "p.any@" + ti("small"), "p.big@" + ti("big"),
		"p.broken@" + ti("broken"), "p.hook_b@" + ti("hook"),
	}
	sort.Strings(want)
	if got := target.sorted(); !equal(got, want) {
		t.Errorf("enforced %v, want %v", got, want)
	}
	for id, st := range map[string]store.TriggerInstanceStatus{
		"small": store.TriggerProcessed, "none": store.TriggerProcessed, "broken": store.TriggerProcessingFailed,
	} {
		got, err := db.GetTriggerInstance(context.Background(), ti(id))
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != st {
			t.Errorf("trigger instance of %s is %s, want %s", id, got.Status, st)
		}
	}
	if _, err := b.PutEvents(context.Background(), []bus.Entry{{Trigger: "p.t"}}); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("PutEvents after Close: %v, want ErrClosed", err)
	}
}

func TestRedeliverPendingInstance(t *testing.T) {
	db := openStore(t)
	// A first bus records the event and stops before delivering it.
	r := compiled(t, "p.r", "p.t", nil, rule.Criterion{Key: "trigger.n", Op: "equals", Pattern: 1})
	first := bus.New(db, &recorder{}, bus.Options{})
	if err := first.SetRules([]*rule.Compiled{r}); err != nil {
		t.Fatal(err)
	}
	out, err := first.PutEvents(context.Background(), []bus.Entry{{ID: "e", Trigger: "p.t", Payload: map[string]any{"n": 1}}})
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	ti, err := db.GetTriggerInstance(context.Background(), out.Entries[0].TriggerInstanceID)
	if err != nil || ti.Status != store.TriggerPending {
		t.Fatalf("trigger instance %+v, %v; want it pending", ti, err)
	}
	target := &recorder{}
	second := bus.New(db, target, bus.Options{})
	if err := second.SetRules([]*rule.Compiled{r}); err != nil {
		t.Fatal(err)
	}
	second.Start(context.Background())
	if err := second.Redeliver(context.Background(), ti, nil); err != nil {
		t.Fatal(err)
	}
	second.Close()
	if got := target.sorted(); !equal(got, []string{"p.r@" + ti.ID}) {
		t.Errorf("enforced %v", got)
	}
	ti, _ = db.GetTriggerInstance(context.Background(), ti.ID)
	if ti.Status != store.TriggerProcessed {
		t.Errorf("status %s, want processed", ti.Status)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNewTriggerInstance(t *testing.T) {
	at := time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC)
	newID := func() string { return "gen" }
	now := func() time.Time { return at }
	ti, err := bus.NewTriggerInstance(bus.Entry{Trigger: "p.t"}, newID, now)
	if err != nil {
		t.Fatal(err)
	}
	if ti.SourceEventID != "gen" || ti.ID != store.TriggerInstanceID("gen") || ti.TraceTag != ti.ID || !ti.OccurredAt.Equal(at) || string(ti.Payload) != "{}" {
		t.Errorf("defaults: %+v", ti)
	}
	given := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ti, err = bus.NewTriggerInstance(bus.Entry{ID: "ev-1", Trigger: "p.t", TraceTag: "tr", Time: given, Payload: map[string]any{"n": 1}}, newID, now)
	if err != nil {
		t.Fatal(err)
	}
	if ti.SourceEventID != "ev-1" || ti.ID != store.TriggerInstanceID("ev-1") || ti.TraceTag != "tr" || !ti.OccurredAt.Equal(given) || string(ti.Payload) != `{"n":1}` {
		t.Errorf("given: %+v", ti)
	}
	if _, err := bus.NewTriggerInstance(bus.Entry{}, newID, now); err == nil || !strings.Contains(err.Error(), "trigger type") {
		t.Errorf("no trigger: %v", err)
	}
	if _, err := bus.NewTriggerInstance(bus.Entry{Trigger: "p.t", Payload: map[string]any{"f": func() {}}}, newID, now); err == nil || !strings.Contains(err.Error(), "payload") {
		t.Errorf("payload that does not encode: %v", err)
	}
}
