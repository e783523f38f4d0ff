package engine_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/engine"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/secret"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

// TestDelayedSecretExecutionResumesAfterARestart: an engine stopped while
// an execution with a secret parameter was delayed (or requested) left it
// in the store with the parameter masked. The next engine reads the value
// back (sealed with the engine's key beside the record) and runs it with
// it; the record stays masked. A re-run of it reuses the kept value.
func TestDelayedSecretExecutionResumesAfterARestart(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "bwc.db")
	ctx := context.Background()
	keyFile := filepath.Join(dir, engine.SecretKeyFileName)
	if err := secret.CreateKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	c, err := secret.LoadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	// What an engine stopped meanwhile leaves behind.
	st, err := sqlite.Open(ctx, db, store.Options{Cipher: c})
	if err != nil {
		t.Fatal(err)
	}
	const value = "s3cret-7f1c"
	for _, x := range []struct {
		id string
		to []store.ExecutionStatus
	}{
		{"ex-delayed", []store.ExecutionStatus{store.StatusDelayed}},
		{"ex-requested", nil},
	} {
		_, err := st.CreateExecution(ctx, store.Execution{ID: x.id, Action: "core.local", Runner: "local-shell-cmd", Status: store.StatusRequested,
			Parameters: map[string]any{"cmd": "echo " + value}, SecretParameters: []string{"cmd"}, Context: store.ExecutionContext{User: "test"}})
		if err != nil {
			t.Fatal(err)
		}
		from := store.StatusRequested
		for _, to := range x.to {
			if _, err := st.UpdateExecution(ctx, x.id, store.ExecutionUpdate{From: from, To: to}); err != nil {
				t.Fatal(err)
			}
			from = to
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	eng := run(t, db)
	check := func(id string, masked bool) {
		t.Helper()
		ex := waitFinished(t, eng.Store, id)
		var res struct {
			Stdout string `json:"stdout"`
		}
		_ = json.Unmarshal(ex.Result, &res)
		if ex.Status != store.StatusSucceeded || strings.TrimSpace(res.Stdout) != value {
			t.Errorf("%s: %s %s, want succeeded printing the secret value", id, ex.Status, ex.Result)
		}
		if masked && ex.Parameters["cmd"] != store.Masked {
			t.Errorf("%s: the record shows the secret parameter: %v", id, ex.Parameters)
		}
	}
	t.Run("resumed", func(t *testing.T) {
		check("ex-delayed", true)
		check("ex-requested", true)
	})
	t.Run("re-run", func(t *testing.T) {
		again, err := eng.Executor().ReRun(ctx, "ex-delayed", nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		// core.local does not declare cmd secret (the records above
		// were made so by hand), so the re-run stores it as given.
		check(again.ID, false)
	})
}
