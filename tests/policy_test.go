package tests

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bwc-project/bwc/internal/store"
)

func statusesOf(ex store.Execution) []store.ExecutionStatus {
	var out []store.ExecutionStatus
	for _, c := range ex.StatusLog {
		out = append(out, c.Status)
	}
	return out
}

func hasStatus(ex store.Execution, st store.ExecutionStatus) bool {
	for _, s := range statusesOf(ex) {
		if s == st {
			return true
		}
	}
	return false
}

func TestPolicies(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()

	t.Run("concurrency delay", func(t *testing.T) {
		flag := filepath.Join(t.TempDir(), "open")
		first := s.runAsync("e2e.gate", "flag="+flag)
		waitFor(t, "the first gate to run", func() (bool, error) {
			ex, err := s.API.Execution(ctx, first)
			return ex.Status == store.StatusRunning, err
		})
		second := s.runAsync("e2e.gate", "flag="+flag)
		waitFor(t, "the second gate to be delayed", func() (bool, error) {
			ex, err := s.API.Execution(ctx, second)
			return ex.Status == store.StatusDelayed, err
		})
		if err := os.WriteFile(flag, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{first, second} {
			ex, err := s.API.Wait(ctx, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ex.Status != store.StatusSucceeded {
				t.Errorf("%s is %s", id, ex.Status)
			}
		}
		ex, _ := s.API.Execution(ctx, second)
		if got := statusesOf(ex); len(got) != 5 || got[1] != store.StatusDelayed {
			t.Errorf("second gate's status log %v, want requested, delayed, scheduled, running, succeeded", got)
		}
	})

	t.Run("concurrency cancel", func(t *testing.T) {
		flag := filepath.Join(t.TempDir(), "open")
		first := s.runAsync("e2e.only", "flag="+flag)
		waitFor(t, "the first to run", func() (bool, error) {
			ex, err := s.API.Execution(ctx, first)
			return ex.Status == store.StatusRunning, err
		})
		second := s.runAsync("e2e.only", "flag="+flag)
		ex, err := s.API.Wait(ctx, second, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ex.Status != store.StatusCanceled || hasStatus(ex, store.StatusRunning) {
			t.Errorf("second: %s %v, want canceled without running: %s", ex.Status, statusesOf(ex), ex.Result)
		}
		if err := os.WriteFile(flag, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if ex, err := s.API.Wait(ctx, first, 0); err != nil || ex.Status != store.StatusSucceeded {
			t.Errorf("first: %v %v", ex.Status, err)
		}
	})

	t.Run("retry on failure", func(t *testing.T) {
		s.runAsync("e2e.flaky")
		waitFor(t, "three failed attempts", func() (bool, error) {
			list, err := s.API.Executions(ctx, store.ExecutionQuery{Action: "e2e.flaky", Status: store.StatusFailed})
			return len(list.Items) >= 3, err
		})
		list, err := s.API.Executions(ctx, store.ExecutionQuery{Action: "e2e.flaky"})
		if err != nil {
			t.Fatal(err)
		}
		// No fourth attempt is started: the retries are counted.
		if len(list.Items) != 3 {
			t.Errorf("%d executions of e2e.flaky, want 3 (one and two retries)", len(list.Items))
		}
	})
}
