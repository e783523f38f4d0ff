package engine

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/bwc-project/bwc/internal/store"
)

// serialStore lets one write at a time reach the store. SQLite serialises
// writers anyway; queueing them here, instead of in SQLite's busy handler
// (which sleeps and retries), keeps the write path busy without gaps.
// Reads go straight through (WAL readers never wait for writers).
type serialStore struct {
	store.Store
	mu sync.Mutex
}

func (s *serialStore) CreateTriggerInstance(ctx context.Context, ti store.TriggerInstance) (store.TriggerInstance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.CreateTriggerInstance(ctx, ti)
}

func (s *serialStore) SetTriggerInstanceStatus(ctx context.Context, id string, from, to store.TriggerInstanceStatus) (store.TriggerInstance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.SetTriggerInstanceStatus(ctx, id, from, to)
}

func (s *serialStore) CreateEnforcement(ctx context.Context, e store.Enforcement) (store.Enforcement, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.CreateEnforcement(ctx, e)
}

func (s *serialStore) CreateExecution(ctx context.Context, e store.Execution) (store.Execution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.CreateExecution(ctx, e)
}

func (s *serialStore) CreateExecutions(ctx context.Context, es []store.Execution) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.CreateExecutions(ctx, es)
}

func (s *serialStore) UpdateExecution(ctx context.Context, id string, u store.ExecutionUpdate) (store.Execution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.UpdateExecution(ctx, id, u)
}

func (s *serialStore) AppendOutput(ctx context.Context, c store.OutputChunk) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.AppendOutput(ctx, c)
}

func (s *serialStore) CreateInquiry(ctx context.Context, q store.Inquiry) (store.Inquiry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.CreateInquiry(ctx, q)
}

func (s *serialStore) ResolveInquiry(ctx context.Context, id string, to store.InquiryStatus, response json.RawMessage, by string) (store.Inquiry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.ResolveInquiry(ctx, id, to, response, by)
}

func (s *serialStore) PutKeyValue(ctx context.Context, kv store.KeyValue) (store.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.PutKeyValue(ctx, kv)
}

func (s *serialStore) DeleteKeyValue(ctx context.Context, ref store.KeyRef) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store.DeleteKeyValue(ctx, ref)
}
