package enforcer_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

func TestInquiryTTL(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want time.Duration
	}{
		{"absent", nil, 24 * time.Hour},
		{"minutes as JSON number", 5.0, 5 * time.Minute},
		{"minutes as integer", int64(90), 90 * time.Minute},
		{"a fraction of a minute", 0.5, 30 * time.Second},
		{"zero", 0, 24 * time.Hour},
		{"negative", -3, 24 * time.Hour},
		{"not a number", "5", 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := enforcer.InquiryTTL(tc.in); got != tc.want {
				t.Errorf("InquiryTTL(%v) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestInquiryExpired(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		q    store.Inquiry
		at   time.Time
		want bool
	}{
		{"before its deadline", store.Inquiry{Status: store.InquiryPending, CreatedAt: t0, TimeoutAt: t0.Add(time.Hour)}, t0.Add(59 * time.Minute), false},
		{"at its deadline", store.Inquiry{Status: store.InquiryPending, CreatedAt: t0, TimeoutAt: t0.Add(time.Hour)}, t0.Add(time.Hour), true},
		{"answered, past its deadline", store.Inquiry{Status: store.InquiryResponded, CreatedAt: t0, TimeoutAt: t0.Add(time.Hour)}, t0.Add(2 * time.Hour), false},
		{"no deadline recorded: the default ttl", store.Inquiry{Status: store.InquiryPending, CreatedAt: t0}, t0.Add(23 * time.Hour), false},
		{"no deadline recorded, a day old", store.Inquiry{Status: store.InquiryPending, CreatedAt: t0}, t0.Add(24 * time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := enforcer.InquiryExpired(tc.q, tc.at); got != tc.want {
				t.Errorf("InquiryExpired at +%s = %v, want %v", tc.at.Sub(t0), got, tc.want)
			}
		})
	}
}

// TestTimeoutInquiry: the first to time an inquiry out wins; a second, or
// one after a response, gets store.ErrConflict.
func TestTimeoutInquiry(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bwc.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	t0 := time.Now().UTC().Truncate(time.Second)
	for _, id := range []string{"iq-a", "iq-b"} {
		if _, err := db.CreateInquiry(ctx, store.Inquiry{ID: id, ExecutionID: "ex-" + id, CreatedAt: t0, TimeoutAt: t0.Add(90 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	got, msg, err := enforcer.TimeoutInquiry(ctx, db, "iq-a")
	if err != nil || got.Status != store.InquiryTimeout || msg != "inquiry iq-a got no response within 1h30m0s" {
		t.Errorf("first timeout: %s %q %v", got.Status, msg, err)
	}
	if _, _, err := enforcer.TimeoutInquiry(ctx, db, "iq-a"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second timeout: %v, want store.ErrConflict", err)
	}
	if _, err := enforcer.RespondInquiry(ctx, db, "iq-b", map[string]any{"ok": true}, "alice"); err != nil {
		t.Fatal(err)
	}
	if got, _, err := enforcer.TimeoutInquiry(ctx, db, "iq-b"); !errors.Is(err, store.ErrConflict) || got.Status != store.InquiryResponded {
		t.Errorf("timeout after a response: %s %v, want responded and store.ErrConflict", got.Status, err)
	}
}

func TestNewInquiry(t *testing.T) {
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	params := map[string]any{"schema": map[string]any{"type": "object"}, "users": []any{"ann", 3}, "roles": []any{"ops"}, "ttl": 5.0}
	q, err := enforcer.NewInquiry("ex-1", func(n string) any { return params[n] }, at)
	if err != nil {
		t.Fatal(err)
	}
	if q.ID != enforcer.InquiryID("ex-1") || q.ID == enforcer.InquiryID("ex-2") || q.ExecutionID != "ex-1" {
		t.Errorf("ids %s %s: want the id derived from the execution", q.ID, q.ExecutionID)
	}
	if string(q.Schema) != `{"type":"object"}` || fmt.Sprint(q.Users) != "[ann]" || fmt.Sprint(q.Roles) != "[ops]" {
		t.Errorf("schema %s users %v roles %v", q.Schema, q.Users, q.Roles)
	}
	if !q.CreatedAt.Equal(at) || q.TimeoutAt.Sub(at) != 5*time.Minute {
		t.Errorf("created %s, times out %s: want ttl 5 minutes after", q.CreatedAt, q.TimeoutAt)
	}
	params["schema"] = func() {}
	if _, err := enforcer.NewInquiry("ex-1", func(n string) any { return params[n] }, at); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("a schema that does not encode: %v, want an error naming it", err)
	}
}
