package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

// testCheckpoints checks the compare-and-set puts, reads and deletes of
// workflow checkpoints, small and large.
func testCheckpoints(e *env) {
	const id = "ex-wf-1"
	_, err := e.s.GetCheckpoint(e.ctx, id)
	e.wantErr(err, store.ErrNotFound, "get of a missing checkpoint")
	e.wantErr(e.s.DeleteCheckpoint(e.ctx, id), store.ErrNotFound, "delete of a missing checkpoint")

	data := func(step int) json.RawMessage { return json.RawMessage(fmt.Sprintf(`{"step":%d}`, step)) }
	cp, err := e.s.PutCheckpoint(e.ctx, store.Checkpoint{ExecutionID: id, Data: data(1)})
	e.must(err, "first put")
	if cp.Version != 1 || !cp.UpdatedAt.Equal(T0) {
		e.fatalf("first put: version %d at %v, want 1 at %v", cp.Version, cp.UpdatedAt, T0)
	}
	e.clock.Advance(time.Second)

	cur, err := e.s.PutCheckpoint(e.ctx, store.Checkpoint{ExecutionID: id, Data: data(99)})
	e.wantErr(err, store.ErrConflict, "second put expecting none stored")
	if cur.Version != 1 || !bytes.Equal(cur.Data, data(1)) {
		e.fatalf("conflicting put returned version %d %s, want the stored version 1 %s", cur.Version, cur.Data, data(1))
	}

	cp, err = e.s.PutCheckpoint(e.ctx, store.Checkpoint{ExecutionID: id, Version: 1, Data: data(2)})
	e.must(err, "put over version 1")
	if cp.Version != 2 || !cp.UpdatedAt.Equal(T0.Add(time.Second)) {
		e.fatalf("put over version 1: version %d at %v", cp.Version, cp.UpdatedAt)
	}
	// A stale writer (it read version 1) cannot overwrite version 2.
	cur, err = e.s.PutCheckpoint(e.ctx, store.Checkpoint{ExecutionID: id, Version: 1, Data: data(77)})
	e.wantErr(err, store.ErrConflict, "stale put")
	if cur.Version != 2 || !bytes.Equal(cur.Data, data(2)) {
		e.fatalf("stale put returned version %d %s, want version 2 %s", cur.Version, cur.Data, data(2))
	}
	got, err := e.s.GetCheckpoint(e.ctx, id)
	e.must(err, "get")
	if got.ExecutionID != id || got.Version != 2 || !bytes.Equal(got.Data, data(2)) || !got.UpdatedAt.Equal(T0.Add(time.Second)) {
		e.fatalf("get: %+v (data %s), want version 2 with %s", got, got.Data, data(2))
	}

	// Large checkpoints (past DynamoDB's item size), replaced by small ones
	// and back.
	big := randomJSON(e.t, 1500<<10)
	bigger := randomJSON(e.t, 2100<<10)
	version := got.Version
	for i, d := range []json.RawMessage{big, data(3), bigger, big} {
		cp, err := e.s.PutCheckpoint(e.ctx, store.Checkpoint{ExecutionID: id, Version: version, Data: d})
		e.must(err, fmt.Sprintf("put %d of the large series", i))
		version = cp.Version
		got, err := e.s.GetCheckpoint(e.ctx, id)
		e.must(err, fmt.Sprintf("get %d of the large series", i))
		if got.Version != version || !bytes.Equal(got.Data, d) {
			e.fatalf("large series %d: got version %d, %d bytes; want version %d, %d bytes", i, got.Version, len(got.Data), version, len(d))
		}
	}

	// Checkpoints are per execution.
	other, err := e.s.PutCheckpoint(e.ctx, store.Checkpoint{ExecutionID: "ex-wf-2", Data: data(5)})
	e.must(err, "put of another execution")
	if other.Version != 1 {
		e.fatalf("another execution's first put: version %d, want 1", other.Version)
	}

	e.must(e.s.DeleteCheckpoint(e.ctx, id), "delete")
	_, err = e.s.GetCheckpoint(e.ctx, id)
	e.wantErr(err, store.ErrNotFound, "get after delete")
	cur, err = e.s.PutCheckpoint(e.ctx, store.Checkpoint{ExecutionID: id, Version: version, Data: data(6)})
	e.wantErr(err, store.ErrConflict, "put over a deleted checkpoint")
	if cur.Version != 0 {
		e.fatalf("put over a deleted checkpoint returned version %d, want 0", cur.Version)
	}
	cp, err = e.s.PutCheckpoint(e.ctx, store.Checkpoint{ExecutionID: id, Data: data(7)})
	e.must(err, "put after delete")
	if cp.Version != 1 {
		e.fatalf("put after delete: version %d, want 1", cp.Version)
	}
	got, err = e.s.GetCheckpoint(e.ctx, "ex-wf-2")
	e.must(err, "get of the other execution")
	if !bytes.Equal(got.Data, data(5)) {
		e.fatalf("the other execution's checkpoint changed: %s", got.Data)
	}

	for _, bad := range []store.Checkpoint{
		{Data: data(1)},
		{ExecutionID: "ex-x"},
		{ExecutionID: "ex-x", Version: -1, Data: data(1)},
	} {
		_, err := e.s.PutCheckpoint(e.ctx, bad)
		e.wantErr(err, store.ErrInvalid, fmt.Sprintf("put of %+v", bad))
	}
}

// testCheckpointRace checks that of writers racing from one version,
// exactly one wins and the others see ErrConflict.
func testCheckpointRace(e *env) {
	const id = "ex-wf-race"
	first, err := e.s.PutCheckpoint(e.ctx, store.Checkpoint{ExecutionID: id, Data: json.RawMessage(`{"w":-1}`)})
	e.must(err, "first put")
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[w] = e.s.PutCheckpoint(e.ctx, store.Checkpoint{ExecutionID: id, Version: first.Version, Data: json.RawMessage(fmt.Sprintf(`{"w":%d}`, w))})
		}()
	}
	wg.Wait()
	winner := -1
	for w, err := range errs {
		switch {
		case err == nil && winner >= 0:
			e.fatalf("writers %d and %d both won", winner, w)
		case err == nil:
			winner = w
		case !errors.Is(err, store.ErrConflict):
			e.fatalf("writer %d: %v, want nil or ErrConflict", w, err)
		}
	}
	if winner < 0 {
		e.fatalf("no writer won")
	}
	got, err := e.s.GetCheckpoint(e.ctx, id)
	e.must(err, "get")
	if want := fmt.Sprintf(`{"w":%d}`, winner); got.Version != 2 || string(got.Data) != want {
		e.fatalf("after the race: version %d %s, want 2 %s", got.Version, got.Data, want)
	}
}
