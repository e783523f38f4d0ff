package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/localcloud"
	"github.com/bwc-project/bwc/internal/store"
)

// The in-process runner of the local cloud refuses a secret parameter that
// a function sealed in its own store (masked, or a bwc-secret:// reference)
// instead of running the action with the mask as the value.
func TestLocalRunnerRefusesSealedSecrets(t *testing.T) {
	r := startEngine(t, filepath.Join(t.TempDir(), "bwc.db"))
	run := r.eng.LocalRunner()
	for name, value := range map[string]string{
		"masked":    store.Masked,
		"reference": store.SecretRef("ex-1", "sudo_password"),
	} {
		t.Run(name, func(t *testing.T) {
			payload := `{"action":"core.local","parameters":{"cmd":"true","sudo_password":"` + value + `"}}`
			_, err := run.Invoke(context.Background(), []byte(payload))
			var fe *localcloud.FunctionError
			if !errors.As(err, &fe) || !strings.Contains(fe.ErrorMessage, "sudo_password") || !strings.Contains(fe.ErrorMessage, "--lambda runner") {
				t.Fatalf("Invoke: %v, want a function error naming sudo_password and the way out", err)
			}
		})
	}
	t.Run("no secret", func(t *testing.T) {
		if out, err := run.Invoke(context.Background(), []byte(`{"action":"core.local","parameters":{"cmd":"echo hi"}}`)); err != nil || !strings.Contains(string(out), "hi") {
			t.Fatalf("Invoke: %s, %v; want the command's output", out, err)
		}
	})
}
