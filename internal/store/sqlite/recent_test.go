package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

// TestUpdateAfterAnotherProcess checks that an update does not trust what
// the store remembers of its own last write of an execution when another
// process (here, a second handle on the same file) changed it since.
func TestUpdateAfterAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bwc.db")
	open := func() *sqlite.DB {
		db, err := sqlite.Open(ctx, path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	mine, other := open(), open()

	tests := []struct {
		name     string
		from, to store.ExecutionStatus
		wantErr  error
	}{
		// The other process moved it requested -> scheduled.
		{"from the status the other process set", store.StatusScheduled, store.StatusRunning, nil},
		{"from the status this process wrote last", store.StatusRequested, store.StatusScheduled, store.ErrConflict},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := []string{"ex-a", "ex-b"}[i]
			if _, err := mine.CreateExecution(ctx, store.Execution{ID: id, Action: "core.noop", Runner: "noop"}); err != nil {
				t.Fatal(err)
			}
			if _, err := other.UpdateExecution(ctx, id, store.ExecutionUpdate{From: store.StatusRequested, To: store.StatusScheduled}); err != nil {
				t.Fatal(err)
			}
			got, err := mine.UpdateExecution(ctx, id, store.ExecutionUpdate{From: tc.from, To: tc.to})
			if !errors.Is(err, tc.wantErr) && (tc.wantErr != nil || err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			want := tc.to
			if tc.wantErr != nil {
				want = store.StatusScheduled // the current record comes back with the conflict
			}
			if got.Status != want {
				t.Errorf("status = %s, want %s", got.Status, want)
			}
			stored, err := other.GetExecution(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Status != want || len(stored.StatusLog) != len(got.StatusLog) {
				t.Errorf("stored %s with %d log entries, returned %s with %d", stored.Status, len(stored.StatusLog), got.Status, len(got.StatusLog))
			}
		})
	}
}
