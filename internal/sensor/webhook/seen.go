package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/sensor/clock"
)

// SeenIDs remembers the webhook ids accepted recently, for replay
// protection. The embedded engine may back it with its database; Memory
// is the in-process implementation.
type SeenIDs interface {
	// MarkSeen records id in scope until expires, atomically, and reports
	// whether it was new (false: it is already recorded and not expired).
	// An error means nothing is known; the request must be refused.
	MarkSeen(ctx context.Context, scope, id string, expires time.Time) (bool, error)
	// Forget removes id from scope (no error when absent).
	Forget(ctx context.Context, scope, id string) error
}

// Memory is an in-memory SeenIDs. Expired ids are dropped as new ones
// arrive, so its size stays bounded by the ids of one tolerance window.
type Memory struct {
	clk   clock.Clock
	mu    sync.Mutex
	ids   map[seenKey]time.Time
	calls int
}

type seenKey struct{ scope, id string }

var _ SeenIDs = (*Memory)(nil)

// NewMemorySeen returns an empty in-memory store reading time from clk.
func NewMemorySeen(clk clock.Clock) *Memory {
	return &Memory{clk: clk, ids: map[seenKey]time.Time{}}
}

// MarkSeen implements SeenIDs.
func (m *Memory) MarkSeen(_ context.Context, scope, id string, expires time.Time) (bool, error) {
	now := m.clk.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.calls%64 == 0 || len(m.ids) > 4096 {
		for k, exp := range m.ids {
			if !exp.After(now) {
				delete(m.ids, k)
			}
		}
	}
	k := seenKey{scope, id}
	if exp, ok := m.ids[k]; ok && exp.After(now) {
		return false, nil
	}
	m.ids[k] = expires
	return true, nil
}

// Forget implements SeenIDs.
func (m *Memory) Forget(_ context.Context, scope, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.ids, seenKey{scope, id})
	return nil
}

// Len returns the number of ids held (expired ones included until pruned).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ids)
}
