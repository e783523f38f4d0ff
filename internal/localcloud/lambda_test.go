package localcloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// overlapEndpoint is a fake aws-lambda-rie that fails an invocation that
// arrives while another runs (the real one crashes). Each invocation
// stays until another arrives or a short while has passed, so that
// unserialized callers overlap.
type overlapEndpoint struct {
	active, overlaps, calls atomic.Int32
}

func (e *overlapEndpoint) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	me := e.calls.Add(1)
	if e.active.Add(1) > 1 {
		e.overlaps.Add(1)
		e.active.Add(-1)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`ReserveFailed: AlreadyReserved`))
		return
	}
	for deadline := time.Now().Add(50 * time.Millisecond); e.calls.Load() == me && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	e.active.Add(-1)
	_, _ = w.Write([]byte(`{"ok":true}`))
}

// Concurrent invocations of one RIE reach it one at a time.
func TestRIESerializesInvocations(t *testing.T) {
	ep := &overlapEndpoint{}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	r := &RIE{URL: srv.URL}
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := r.Invoke(context.Background(), []byte(fmt.Sprintf(`{"i":%d}`, i)))
			if err == nil && string(out) != `{"ok":true}` {
				err = fmt.Errorf("answer %s", out)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("invocation: %v", err)
		}
	}
	if got := ep.overlaps.Load(); got != 0 {
		t.Errorf("%d invocations arrived while another ran", got)
	}
	if got := ep.calls.Load(); got != n {
		t.Errorf("%d invocations reached the function, want %d", got, n)
	}
}

// A caller whose context ends while it waits for its turn invokes nothing.
func TestRIEQueuedCallerHonoursItsContext(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		<-release
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	defer close(release)
	r := &RIE{URL: srv.URL}
	first := make(chan error, 1)
	go func() {
		_, err := r.Invoke(context.Background(), []byte(`{}`))
		first <- err
	}()
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Invoke(ctx, []byte(`{}`)); !errors.Is(err, context.Canceled) {
		t.Errorf("queued invocation with an ended context: %v, want context.Canceled", err)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("%d invocations reached the function, want 1", got)
	}
	release <- struct{}{}
	if err := <-first; err != nil {
		t.Errorf("first invocation: %v", err)
	}
}
