package runner_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/runner"
)

func TestGoAction(t *testing.T) {
	pack := demoPack(t)
	cache := t.TempDir()
	reg := runner.New(runner.Options{Go: runner.GoOptions{CacheDir: cache}})
	action := runner.Action{Ref: "demo.greet", RunnerType: runner.TypeGo, PackDir: pack,
		EntryPoint: filepath.Join(pack, "actions", "greet", "main.go")}
	tests := []struct {
		mode       string
		wantErr    string
		retryable  bool
		wantMsg    string
		want       any
		wantStderr string
	}{
		{mode: "ok", want: map[string]any{"greeting": "hello Ada", "execution": "ex-7", "action": "demo.greet",
			"env": "ex-7", "user": "ada", "n": int64(3)}},
		{mode: "stdout", want: map[string]any{"greeting": "hello Ada", "execution": "ex-7", "action": "demo.greet",
			"env": "ex-7", "user": "ada", "n": int64(3)}, wantStderr: "noise on stdout\n"},
		{mode: "log", wantStderr: "log 0\nlog 1\nlog 2\n", want: map[string]any{"greeting": "hello Ada", "execution": "ex-7",
			"action": "demo.greet", "env": "ex-7", "user": "ada", "n": int64(3)}},
		{mode: "fail", wantErr: "demo.NoName", retryable: true, wantMsg: "no name for ex-7"},
		{mode: "plain-error", wantErr: runner.ErrNameActionFailed, wantMsg: "something broke"},
		{mode: "panic", wantErr: runner.ErrNameActionFailed, wantMsg: "panic: boom"},
		{mode: "exit", wantErr: runner.ErrNameActionFailed, wantMsg: "exited with status 3 without a response"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			rec := newRecorder()
			res, err := reg.Run(context.Background(), runner.Request{
				ExecutionID: "ex-7", Action: action, Output: rec.Output,
				Parameters: map[string]any{"mode": tt.mode, "name": "Ada"},
				Context:    map[string]any{"user": "ada"},
			})
			if got := errName(t, err); got != tt.wantErr {
				t.Fatalf("error = %v, want name %q", err, tt.wantErr)
			}
			if err != nil {
				var ae *runner.ActionError
				errors.As(err, &ae)
				if ae.Retryable != tt.retryable || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error = %v (retryable %v), want %q (retryable %v)", err, ae.Retryable, tt.wantMsg, tt.retryable)
				}
				return
			}
			if !reflect.DeepEqual(res.Value, tt.want) {
				t.Errorf("result = %#v\nwant %#v", res.Value, tt.want)
			}
			if got := rec.text("", runner.StreamStderr); got != tt.wantStderr {
				t.Errorf("streamed stderr = %q, want %q", got, tt.wantStderr)
			}
		})
	}
	// One source, one build.
	entries, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("cache holds %d builds, want 1", len(entries))
	}
}

func TestGoActionStop(t *testing.T) {
	pack := demoPack(t)
	for _, tt := range []struct {
		name    string
		cancel  bool
		wantErr string
	}{
		{name: "timeout", wantErr: runner.ErrNameActionTimeout},
		{name: "cancel", cancel: true, wantErr: runner.ErrNameActionCanceled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			reg := runner.New(runner.Options{Clock: clock, Go: runner.GoOptions{CacheDir: t.TempDir()}})
			rec := newRecorder()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := startAsync(ctx, reg, runner.Request{
				Action:           runner.Action{Ref: "demo.greet", RunnerType: runner.TypeGo, EntryPoint: filepath.Join(pack, "actions", "greet")},
				Parameters:       map[string]any{"mode": "block"},
				RunnerParameters: map[string]any{"timeout": 9},
				Output:           rec.Output,
			})
			rec.waitFor(t, "", runner.StreamStderr, "started\n")
			if tt.cancel {
				cancel()
			} else {
				clock.BlockUntil(t, 1)
				clock.Advance(9 * time.Second)
			}
			o := waitOutcome(t, done)
			if got := errName(t, o.err); got != tt.wantErr {
				t.Fatalf("error = %v, want %s", o.err, tt.wantErr)
			}
			// The action saw SIGTERM as the cancellation of its context.
			rec.waitFor(t, "", runner.StreamStderr, "stopping: context canceled")
		})
	}
}

// TestGoActionCache: a stdlib-only action in its own module, speaking the
// protocol without the SDK; editing it makes a new build.
func TestGoActionCache(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/raw\n\ngo 1.22\n")
	const src = `package main

import (
	"encoding/json"
	"os"
)

func main() {
	var req struct {
		Parameters map[string]any ` + "`json:\"parameters\"`" + `
	}
	_ = json.NewDecoder(os.Stdin).Decode(&req)
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"result": map[string]any{"version": VERSION, "x": req.Parameters["x"]}})
}
`
	write("main.go", strings.ReplaceAll(src, "VERSION", `"one"`))
	cache := t.TempDir()
	reg := runner.New(runner.Options{Go: runner.GoOptions{CacheDir: cache}})
	run := func() any {
		t.Helper()
		res, err := reg.Run(context.Background(), runner.Request{
			Action:     runner.Action{Ref: "raw.action", RunnerType: runner.TypeGo, EntryPoint: dir},
			Parameters: map[string]any{"x": "y"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return res.Value
	}
	builds := func() int {
		entries, err := os.ReadDir(cache)
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	if got := run(); !reflect.DeepEqual(got, map[string]any{"version": "one", "x": "y"}) {
		t.Fatalf("result = %#v", got)
	}
	run()
	if n := builds(); n != 1 {
		t.Fatalf("%d builds after two runs of one source, want 1", n)
	}
	write("main.go", strings.ReplaceAll(src, "VERSION", `"two"`))
	if got := run(); !reflect.DeepEqual(got, map[string]any{"version": "two", "x": "y"}) {
		t.Fatalf("after the edit, result = %#v", got)
	}
	if n := builds(); n != 2 {
		t.Fatalf("%d builds after an edit, want 2", n)
	}

	write("main.go", "package main\n\nfunc main() { undefined() }\n")
	_, err := reg.Run(context.Background(), runner.Request{Action: runner.Action{Ref: "raw.action", RunnerType: runner.TypeGo, EntryPoint: dir}})
	if got := errName(t, err); got != runner.ErrNameGoBuildFailed || !strings.Contains(err.Error(), "undefined") {
		t.Fatalf("error = %v, want %s with the compiler's message", err, runner.ErrNameGoBuildFailed)
	}
}
