package runner_test

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/runner"
)

// hangGuard bounds waits that would otherwise hang a broken test forever. It
// is not a timing assertion: a passing test never comes near it.
const hangGuard = 2 * time.Minute

// recorder is a Request.Output that records chunks and lets a test wait for
// some output to appear.
type recorder struct {
	mu      sync.Mutex
	chunks  []runner.Chunk
	changed chan struct{}
	concur  int // calls in flight (must never exceed 1)
	maxCon  int
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) Output(c runner.Chunk) {
	r.mu.Lock()
	r.concur++
	if r.concur > r.maxCon {
		r.maxCon = r.concur
	}
	r.chunks = append(r.chunks, runner.Chunk{Host: c.Host, Stream: c.Stream, Data: append([]byte(nil), c.Data...)})
	close(r.changed)
	r.changed = make(chan struct{})
	r.concur--
	r.mu.Unlock()
}

// text returns everything written to a host's stream.
func (r *recorder) text(host, stream string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	for _, c := range r.chunks {
		if c.Host == host && c.Stream == stream {
			b.Write(c.Data)
		}
	}
	return b.String()
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	for _, c := range r.chunks {
		b.Write(c.Data)
	}
	return b.String()
}

// waitFor waits until the host's stream contains s.
func (r *recorder) waitFor(t *testing.T, host, stream, s string) {
	t.Helper()
	deadline := time.After(hangGuard)
	for {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		if strings.Contains(r.text(host, stream), s) {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("output %s/%s never contained %q; got %q", host, stream, s, r.text(host, stream))
		}
	}
}

// alive reports whether a process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	state := s[i+2]
	return state != 'Z' && state != 'X'
}

// pidsIn returns the numbers that follow word in text ("word 123").
func pidsIn(t *testing.T, text string, words ...string) []int {
	t.Helper()
	var pids []int
	for _, w := range words {
		found := false
		for _, line := range strings.Split(text, "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), w+" "); ok {
				n, err := strconv.Atoi(strings.TrimSpace(rest))
				if err != nil {
					t.Fatalf("bad pid line %q", line)
				}
				pids = append(pids, n)
				found = true
			}
		}
		if !found {
			t.Fatalf("no %q line in %q", w, text)
		}
	}
	return pids
}

// errName returns the ActionError name of err ("" for nil) and fails when err
// is not an *ActionError.
func errName(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae *runner.ActionError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *ActionError", err, err)
	}
	return ae.Name
}

// runAsync runs req and returns a channel with the outcome.
type outcome struct {
	res runner.Result
	err error
}

// waitDead waits for a killed process to finish dying (SIGKILL is
// asynchronous); it fails when the process outlives hangGuard.
func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still alive after its process group was killed", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
