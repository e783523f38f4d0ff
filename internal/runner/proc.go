package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// procSpec is one local process to run.
type procSpec struct {
	argv  []string
	dir   string
	env   []string
	stdin []byte
	// onOutput receives each chunk read (stream is stdout or stderr); calls
	// are serialised.
	onOutput func(stream string, data []byte)
	timeout  time.Duration // 0: none
}

// procResult is how a process ended.
type procResult struct {
	// exitCode is the exit status, or -N when killed by signal N (as
	// Python's subprocess reports it, so st2's return_code).
	exitCode int
	// stopped is nil, or the ActionError of a timeout or cancellation.
	stopped *ActionError
}

// capture keeps at most max bytes of a stream.
type capture struct {
	max       int
	buf       []byte
	truncated bool
}

func (c *capture) add(p []byte) {
	if room := c.max - len(c.buf); room > 0 {
		if len(p) > room {
			p = p[:room]
			c.truncated = true
		}
		c.buf = append(c.buf, p...)
	} else if len(p) > 0 {
		c.truncated = true
	}
}

func (c *capture) String() string {
	if c.truncated {
		return string(c.buf) + "\n[output truncated by bwc]"
	}
	return string(c.buf)
}

// runProc starts p in its own process group and waits for it, its output
// pipes to close, a timeout or ctx's end. A timeout or the end of ctx sends
// SIGTERM to the group, then SIGKILL after the grace period.
func runProc(ctx context.Context, o Options, p procSpec) (procResult, error) {
	if len(p.argv) == 0 {
		return procResult{}, actionErr(ErrNameStartFailed, false, "no command")
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return procResult{}, actionErr(ErrNameStartFailed, true, "creating stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		_ = outR.Close()
		_ = outW.Close()
		return procResult{}, actionErr(ErrNameStartFailed, true, "creating stderr pipe: %w", err)
	}
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir = p.dir
	cmd.Env = p.env
	cmd.Stdout = outW
	cmd.Stderr = errW
	if p.stdin != nil {
		inR, inW, err := os.Pipe()
		if err != nil {
			_ = outR.Close()
			_ = outW.Close()
			_ = errR.Close()
			_ = errW.Close()
			return procResult{}, actionErr(ErrNameStartFailed, true, "creating stdin pipe: %w", err)
		}
		cmd.Stdin = inR
		defer func() { _ = inR.Close() }()
		go func() {
			// A process that does not read its input gets EPIPE here.
			_, _ = inW.Write(p.stdin)
			_ = inW.Close()
		}()
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	startErr := cmd.Start()
	_ = outW.Close()
	_ = errW.Close()
	if startErr != nil {
		_ = outR.Close()
		_ = errR.Close()
		return procResult{}, actionErr(ErrNameStartFailed, false, "starting %s: %w", p.argv[0], startErr)
	}
	pgid := cmd.Process.Pid

	var mu sync.Mutex
	var readers sync.WaitGroup
	read := func(r *os.File, stream string) {
		defer readers.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 && p.onOutput != nil {
				data := append([]byte(nil), buf[:n]...)
				mu.Lock()
				p.onOutput(stream, data)
				mu.Unlock()
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
					mu.Lock()
					if p.onOutput != nil {
						p.onOutput(StreamStderr, []byte(fmt.Sprintf("\n[bwc: reading %s: %v]\n", stream, err)))
					}
					mu.Unlock()
				}
				return
			}
		}
	}
	readers.Add(2)
	go read(outR, StreamStdout)
	go read(errR, StreamStderr)

	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	drained := make(chan struct{})
	go func() {
		readers.Wait()
		close(drained)
	}()
	finished := make(chan struct{}) // exited and drained
	go func() {
		<-exited
		<-drained
		close(finished)
	}()

	var timeoutC <-chan time.Time
	if p.timeout > 0 {
		t := o.Clock.NewTimer(p.timeout)
		defer t.Stop()
		timeoutC = t.C()
	}
	var stopped *ActionError
	select {
	case <-finished:
	case <-timeoutC:
		stopped = actionErr(ErrNameActionTimeout, false, "timed out after %s; process group killed", p.timeout)
	case <-ctx.Done():
		stopped = ctxStopErr(ctx)
	}
	if stopped != nil {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		grace := o.Clock.NewTimer(o.KillGrace)
		select {
		case <-finished:
		case <-grace.C():
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-exited
			// The pipes close when the last member has died. A process that
			// left the group (setsid) may hold them longer: after another
			// grace period, stop reading them.
			again := o.Clock.NewTimer(o.KillGrace)
			select {
			case <-drained:
			case <-again.C():
				_ = outR.Close()
				_ = errR.Close()
				<-drained
			}
			again.Stop()
		}
		grace.Stop()
	}
	_ = outR.Close()
	_ = errR.Close()

	res := procResult{exitCode: exitCode(cmd.ProcessState, waitErr), stopped: stopped}
	return res, nil
}

func exitCode(ps *os.ProcessState, waitErr error) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return ps.ExitCode()
}

// ctxStopErr names why ctx ended: a deadline is a timeout, anything else a
// cancellation.
func ctxStopErr(ctx context.Context) *ActionError {
	cause := context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return actionErr(ErrNameActionTimeout, false, "deadline exceeded: %w", cause)
	}
	return actionErr(ErrNameActionCanceled, false, "canceled: %w", cause)
}
