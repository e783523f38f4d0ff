package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/engine"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

var packDirs = []string{filepath.Join("..", "..", "packs", "core"), filepath.Join("..", "..", "tests", "testdata", "packs")}

// run opens an engine on db and runs it until the test ends.
func run(t *testing.T, db string) *engine.Engine {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	eng, err := engine.Open(ctx, engine.Config{PackDirs: packDirs, DBPath: db, Listen: "127.0.0.1:0"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	})
	// The API answers once the engine has recovered what an earlier run
	// left: only then is what the test starts not taken for it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(eng.URL + "/api/v1/health")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return eng
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine's API does not answer: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitStatus polls an execution until it is finished.
func waitFinished(t *testing.T, st store.Store, id string) store.Execution {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ex, err := st.GetExecution(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ex.Status.Finished() {
			return ex
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still %s", id, ex.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRecoveryAfterACrash(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bwc.db")
	ctx := context.Background()
	// What a crashed engine leaves behind.
	st, err := sqlite.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	create := func(id, action, runner string, status store.ExecutionStatus, secret []string) {
		t.Helper()
		ex := store.Execution{ID: id, Action: action, Runner: runner, Status: store.StatusRequested,
			Parameters: map[string]any{"cmd": "echo hi"}, SecretParameters: secret}
		if _, err := st.CreateExecution(ctx, ex); err != nil {
			t.Fatal(err)
		}
		path := map[store.ExecutionStatus][]store.ExecutionStatus{
			store.StatusScheduled: {store.StatusScheduled},
			store.StatusRunning:   {store.StatusScheduled, store.StatusRunning},
			store.StatusCanceling: {store.StatusScheduled, store.StatusRunning, store.StatusCanceling},
		}[status]
		from := store.StatusRequested
		for _, to := range path {
			if _, err := st.UpdateExecution(ctx, id, store.ExecutionUpdate{From: from, To: to}); err != nil {
				t.Fatal(err)
			}
			from = to
		}
	}
	create("ex-requested", "core.noop", "noop", store.StatusRequested, nil)
	create("ex-scheduled", "core.local", "local-shell-cmd", store.StatusScheduled, nil)
	create("ex-secret", "core.local", "local-shell-cmd", store.StatusRequested, []string{"cmd"})
	create("ex-running", "core.local", "local-shell-cmd", store.StatusRunning, nil)
	create("ex-canceling", "core.local", "local-shell-cmd", store.StatusCanceling, nil)
	create("ex-gone", "nope.gone", "noop", store.StatusRequested, nil)
	payload, _ := json.Marshal(map[string]any{"n": 1, "kind": "a"})
	ti, err := st.CreateTriggerInstance(ctx, store.TriggerInstance{SourceEventID: "ev-1", Trigger: "e2e.event", Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	// A webhook event and a timer event: the rules select them by their
	// trigger parameters, which the event ids carry.
	hook, err := st.CreateTriggerInstance(ctx, store.TriggerInstance{SourceEventID: api.WebhookEventID("e2e/fail", "d-1"), Trigger: "core.webhook",
		Payload: json.RawMessage(`{"headers": {}, "body": {}}`)})
	if err != nil {
		t.Fatal(err)
	}
	tick, err := st.CreateTriggerInstance(ctx, store.TriggerInstance{SourceEventID: `timer:core.IntervalTimer{"delta":1,"unit":"seconds"}@2026-11-29T12:00:00Z`,
		Trigger: "core.IntervalTimer", Payload: json.RawMessage(`{"executed_at": "2026-11-29T12:00:00Z"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	eng := run(t, db)
	want := map[string]struct {
		status store.ExecutionStatus
		reason string
	}{
		"ex-requested": {store.StatusSucceeded, ""},
		"ex-scheduled": {store.StatusSucceeded, ""},
		"ex-secret":    {store.StatusAbandoned, "secret parameters"},
		"ex-running":   {store.StatusAbandoned, "the engine stopped while it was running"},
		"ex-canceling": {store.StatusCanceled, ""},
		"ex-gone":      {store.StatusAbandoned, "no longer loaded"},
	}
	for id, w := range want {
		ex := waitFinished(t, eng.Store, id)
		if ex.Status != w.status || !strings.Contains(string(ex.Result), w.reason) {
			t.Errorf("%s: %s %s, want %s with %q", id, ex.Status, ex.Result, w.status, w.reason)
		}
		if w.status == store.StatusAbandoned && !strings.Contains(string(ex.Result), engine.ErrNameAbandoned) {
			t.Errorf("%s: result %s does not name %s", id, ex.Result, engine.ErrNameAbandoned)
		}
	}
	// The pending trigger instance is enforced, once.
	exID := enforcer.ExecutionID(enforcer.EnforcementID(ti.ID, "e2e.on_event"))
	if ex := waitFinished(t, eng.Store, exID); ex.Status != store.StatusSucceeded || ex.Context.TriggerInstanceID != ti.ID {
		t.Errorf("execution of the pending trigger instance: %+v", ex)
	}
	for ruleRef, tiID := range map[string]string{"e2e.on_fail_hook": hook.ID, "e2e.tick": tick.ID} {
		id := enforcer.ExecutionID(enforcer.EnforcementID(tiID, ruleRef))
		if ex := waitFinished(t, eng.Store, id); ex.Context.Rule != ruleRef {
			t.Errorf("%s: execution %+v", ruleRef, ex)
		}
	}
	for ruleRef, tiID := range map[string]string{"e2e.on_fail_hook": hook.ID, "e2e.tick": tick.ID} {
		id := enforcer.ExecutionID(enforcer.EnforcementID(tiID, ruleRef))
		if ex := waitFinished(t, eng.Store, id); ex.Context.Rule != ruleRef {
			t.Errorf("%s: execution %+v", ruleRef, ex)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := eng.Store.GetTriggerInstance(ctx, ti.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == store.TriggerProcessed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trigger instance still %s", got.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
