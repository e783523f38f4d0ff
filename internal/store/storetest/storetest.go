// Package storetest is the conformance suite every store adapter passes:
// storetest.Run(t, newStore) runs each check against a fresh store built by
// newStore with the options the check needs (a fake clock, a cipher, short
// retention).
//
// The suite covers every access pattern of the store ports, idempotent
// creation, compare-and-set and every illegal execution transition,
// pagination over several pages, concurrent writers, multi-megabyte results,
// secrets (datastore secrets and executions' secret parameters), retention and compare-and-set workflow checkpoints.
//
// Concurrency: Run runs its checks one after the other; some checks start
// goroutines against the store under test.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

// NewStore builds an empty store with the given options. It registers the
// store's cleanup with t.
type NewStore func(t *testing.T, opts store.Options) store.Store

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// T0 is the time the suite's clocks start at.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Cipher is a real-enough cipher for the suite: it XORs with a key stream
// derived from the associated data and tags the result, so a ciphertext
// never contains its plaintext and cannot be moved to another key. It counts
// its calls.
type Cipher struct {
	mu                 sync.Mutex
	Encrypts, Decrypts int
}

func (c *Cipher) stream(aad []byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = 0x5a ^ byte(i*31)
		if len(aad) > 0 {
			out[i] ^= aad[i%len(aad)]
		}
	}
	return out
}

// Encrypt implements store.Cipher.
func (c *Cipher) Encrypt(_ context.Context, pt, aad []byte) ([]byte, error) {
	c.mu.Lock()
	c.Encrypts++
	c.mu.Unlock()
	ks := c.stream(aad, len(pt))
	out := append([]byte("tc1:"), aad...)
	out = append(out, ':')
	for i, b := range pt {
		out = append(out, b^ks[i])
	}
	return out, nil
}

// Decrypt implements store.Cipher.
func (c *Cipher) Decrypt(_ context.Context, ct, aad []byte) ([]byte, error) {
	c.mu.Lock()
	c.Decrypts++
	c.mu.Unlock()
	prefix := append(append([]byte("tc1:"), aad...), ':')
	if !bytes.HasPrefix(ct, prefix) {
		return nil, errors.New("storetest cipher: wrong key or corrupt ciphertext")
	}
	body := ct[len(prefix):]
	ks := c.stream(aad, len(body))
	out := make([]byte, len(body))
	for i, b := range body {
		out[i] = b ^ ks[i]
	}
	return out, nil
}

type env struct {
	t     *testing.T
	ctx   context.Context
	clock *Clock
	ciph  *Cipher
	s     store.Store
}

func newEnv(t *testing.T, newStore NewStore, mod func(*store.Options)) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: NewClock(T0), ciph: &Cipher{}}
	opts := store.Options{Clock: e.clock, Cipher: e.ciph}
	if mod != nil {
		mod(&opts)
	}
	e.s = newStore(t, opts)
	return e
}

// Run runs the conformance suite. Each check is a subtest with its own store.
func Run(t *testing.T, newStore NewStore) {
	checks := []struct {
		name string
		fn   func(*env)
		mod  func(*store.Options)
	}{
		{"TriggerInstanceCreateGet", testTriggerInstanceCreateGet, nil},
		{"TriggerInstanceIdempotentBySourceEvent", testTriggerInstanceIdempotent, nil},
		{"TriggerInstanceStatusCAS", testTriggerInstanceStatus, nil},
		{"TriggerInstanceListByTypeAndTime", testTriggerInstanceList, nil},
		{"EnforcementCreateGetList", testEnforcements, nil},
		{"ExecutionCreateGet", testExecutionCreateGet, nil},
		{"ExecutionIdempotentCreate", testExecutionIdempotent, nil},
		{"ExecutionBatchCreate", testExecutionBatch, nil},
		{"ExecutionUpdateCAS", testExecutionUpdate, nil},
		{"ExecutionEveryIllegalTransition", testExecutionIllegal, nil},
		{"ExecutionListFilters", testExecutionListFilters, nil},
		{"ExecutionListPagination", testExecutionPagination, nil},
		{"ExecutionLargeResult", testLargeResult, nil},
		{"ExecutionSecrets", testExecutionSecrets, nil},
		{"ExecutionSecretsWithoutCipher", testExecutionSecretsWithoutCipher, func(o *store.Options) { o.Cipher = nil }},
		{"ConcurrentWriters", testConcurrent, nil},
		{"OutputTail", testOutput, nil},
		{"Trace", testTrace, nil},
		{"KeyValueScopesAndPrefix", testKeyValues, nil},
		{"KeyValueSecrets", testSecrets, nil},
		{"KeyValueSecretWithoutCipher", testNoCipher, func(o *store.Options) { o.Cipher = nil }},
		{"KeyValueTTL", testKeyValueTTL, nil},
		{"Inquiries", testInquiries, nil},
		{"APIKeys", testAPIKeys, nil},
		{"Checkpoints", testCheckpoints, nil},
		{"CheckpointRace", testCheckpointRace, nil},
		{"Retention", testRetention, func(o *store.Options) {
			o.Retention = store.Retention{TriggerInstances: time.Hour, Enforcements: time.Hour, Executions: 2 * time.Hour, Inquiries: time.Hour}
		}},
		{"InvalidInput", testInvalid, nil},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			c.fn(newEnv(t, newStore, c.mod))
		})
	}
}

// --- helpers ---

func (e *env) fatalf(format string, args ...any) {
	e.t.Helper()
	e.t.Fatalf(format, args...)
}

func (e *env) must(err error, what string) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

func (e *env) wantErr(err, target error, what string) {
	e.t.Helper()
	if !errors.Is(err, target) {
		e.t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

// sameJSON compares two values by their JSON encoding.
func (e *env) sameJSON(got, want any, what string) {
	e.t.Helper()
	g, err := json.Marshal(got)
	e.must(err, "marshal got")
	w, err := json.Marshal(want)
	e.must(err, "marshal want")
	if !bytes.Equal(g, w) {
		e.t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func randomJSON(t *testing.T, n int) json.RawMessage {
	t.Helper()
	raw := make([]byte, n/2)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return json.RawMessage(fmt.Sprintf(`{"blob":"%x"}`, raw))
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func exID(x store.Execution) string { return x.ID }
