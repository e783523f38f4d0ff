package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/engine"
	"github.com/bwc-project/bwc/internal/store"
)

// TestInquiryRecordsItsDeadline: core.ask records when its inquiry times
// out (creation plus the ttl, in minutes), the deadline the AWS sweep
// reads too (enforcer.InquiryDeadline); an answer ends it before.
func TestInquiryRecordsItsDeadline(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   time.Duration
	}{
		{"ttl given", map[string]any{"ttl": 5}, 5 * time.Minute},
		{"default ttl", map[string]any{}, 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startEngine(t, filepath.Join(t.TempDir(), "bwc.db"))
			eng := r.eng
			ctx := context.Background()
			tc.params["schema"] = map[string]any{"type": "object"}
			ex, err := eng.Executor().Run(ctx, engine.RunRequest{Action: "core.ask", Parameters: tc.params, User: "test"})
			if err != nil {
				t.Fatal(err)
			}
			id := engine.InquiryID(ex.ID)
			var q store.Inquiry
			deadline := time.Now().Add(30 * time.Second)
			for {
				q, err = eng.Store.GetInquiry(ctx, id)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no inquiry %s: %v", id, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got := q.TimeoutAt.Sub(q.CreatedAt); got != tc.want || q.Status != store.InquiryPending {
				t.Errorf("inquiry %s: %s, times out %s after its creation; want pending, %s", id, q.Status, got, tc.want)
			}
			if _, err := r.api.Respond(ctx, id, map[string]any{"ok": true}); err != nil {
				t.Fatal(err)
			}
			if got := waitFinished(t, eng.Store, ex.ID); got.Status != store.StatusSucceeded {
				t.Errorf("core.ask execution %s, want succeeded", got.Status)
			}
		})
	}
}
