package runner_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/runner"
)

func demoPack(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/packs/demo")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func intp(i int) *int { return &i }

func TestLocalShell(t *testing.T) {
	pack := demoPack(t)
	tmp := t.TempDir()
	cmdAction := runner.Action{Ref: "demo.cmd", RunnerType: runner.TypeLocalShellCmd, PackDir: pack}
	script := func(name string, params map[string]runner.ParameterInfo) runner.Action {
		return runner.Action{Ref: "demo." + name, RunnerType: runner.TypeLocalShellScript, PackDir: pack,
			EntryPoint: filepath.Join(pack, "actions", name), Parameters: params}
	}
	tests := []struct {
		name       string
		req        runner.Request
		wantErr    string
		wantStdout string
		wantStderr string
		wantCode   int
	}{
		{
			name:       "cmd stdout and stderr",
			req:        runner.Request{Action: cmdAction, RunnerParameters: map[string]any{"cmd": "echo out; echo err >&2"}},
			wantStdout: "out", wantStderr: "err",
		},
		{
			name:       "cmd non-zero exit fails with the result",
			req:        runner.Request{Action: cmdAction, RunnerParameters: map[string]any{"cmd": "echo partial; exit 3"}},
			wantErr:    runner.ErrNameActionFailed,
			wantStdout: "partial", wantCode: 3,
		},
		{
			name: "cmd environment: BWC, st2 and env parameter",
			req: runner.Request{
				ExecutionID: "ex-42", APIURL: "http://127.0.0.1:9101", Action: cmdAction,
				Env:              map[string]string{"FROM_ENGINE": "engine"},
				RunnerParameters: map[string]any{"cmd": `echo "$BWC_EXECUTION_ID $ST2_ACTION_EXECUTION_ID $BWC_API_URL $ST2_ACTION_API_URL $BWC_PACK $FROM_ENGINE $GREETING"`, "env": map[string]any{"GREETING": "hi there"}},
			},
			wantStdout: "ex-42 ex-42 http://127.0.0.1:9101 http://127.0.0.1:9101 demo engine hi there",
		},
		{
			name:       "cmd cwd parameter",
			req:        runner.Request{Action: cmdAction, RunnerParameters: map[string]any{"cmd": "pwd", "cwd": tmp}},
			wantStdout: tmp,
		},
		{
			name:       "cmd default cwd is the pack",
			req:        runner.Request{Action: cmdAction, RunnerParameters: map[string]any{"cmd": "pwd"}},
			wantStdout: pack,
		},
		{
			name:    "cmd missing",
			req:     runner.Request{Action: cmdAction},
			wantErr: runner.ErrNameInvalidParameters,
		},
		{
			name:    "timeout not a number",
			req:     runner.Request{Action: cmdAction, RunnerParameters: map[string]any{"cmd": "true", "timeout": "soon"}},
			wantErr: runner.ErrNameInvalidParameters,
		},
		{
			name: "script arguments in st2's conventions",
			req: runner.Request{
				Action: script("args.sh", map[string]runner.ParameterInfo{
					"first":  {Type: "string", Position: intp(0)},
					"flag":   {Type: "boolean", Position: intp(1)},
					"list":   {Type: "array", Position: intp(2)},
					"obj":    {Type: "object", Position: intp(3)},
					"absent": {Type: "string", Position: intp(4)},
					"name":   {Type: "string"},
					"count":  {Type: "integer"},
					"on":     {Type: "boolean"},
					"off":    {Type: "boolean"},
					"empty":  {Type: "string"},
					"tags":   {Type: "array"},
				}),
				Parameters: map[string]any{
					"first": "a b", "flag": true, "list": []any{"x", 2.0, "z"}, "obj": map[string]any{"k": "v"},
					"name": "it's", "count": 3.0, "on": true, "off": false, "empty": "", "tags": []any{"t1", "t2"},
					"timeout": 30.0, // a runner parameter given with the action's: not an argument
				},
			},
			wantStdout: "[--count=3]\n[--name=it's]\n[--on]\n[--tags=[\"t1\",\"t2\"]]\n[a b]\n[1]\n[x,2,z]\n[{\"k\":\"v\"}]\n[]\ncwd=" + filepath.Join(pack, "actions"),
		},
		{
			name: "script kwarg_op",
			req: runner.Request{
				Action:           script("args.sh", nil),
				Parameters:       map[string]any{"level": "debug"},
				RunnerParameters: map[string]any{"kwarg_op": "-"},
			},
			wantStdout: "[-level=debug]\ncwd=" + filepath.Join(pack, "actions"),
		},
		{
			name:       "script that is not executable runs with its #! interpreter",
			req:        runner.Request{Action: script("noexec.sh", nil), Parameters: map[string]any{"x": "1"}},
			wantStdout: "ran by " + filepath.Join(pack, "actions", "noexec.sh") + " with 1 args",
		},
		{
			name:       "script failure",
			req:        runner.Request{Action: script("fail.sh", nil)},
			wantErr:    runner.ErrNameActionFailed,
			wantStdout: "to stdout", wantStderr: "to stderr", wantCode: 7,
		},
		{
			name:    "script missing",
			req:     runner.Request{Action: script("nope.sh", nil)},
			wantErr: runner.ErrNameStartFailed,
		},
	}
	reg := runner.New(runner.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := reg.Run(context.Background(), tt.req)
			if got := errName(t, err); got != tt.wantErr {
				t.Fatalf("error = %v, want name %q", err, tt.wantErr)
			}
			if tt.wantErr == runner.ErrNameInvalidParameters || tt.wantErr == runner.ErrNameStartFailed {
				return
			}
			want := map[string]any{"stdout": tt.wantStdout, "stderr": tt.wantStderr, "return_code": tt.wantCode,
				"succeeded": tt.wantCode == 0, "failed": tt.wantCode != 0}
			if !reflect.DeepEqual(res.Value, want) {
				t.Errorf("result = %#v\nwant %#v", res.Value, want)
			}
		})
	}
}

func TestLocalShellSudo(t *testing.T) {
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Fatalf("sudo is not installed: run `make test-deps-runner`")
	}
	if os.Geteuid() != 0 {
		t.Skip("sudo -n needs passwordless sudo; the test runs it as root only")
	}
	reg := runner.New(runner.Options{})
	res, err := reg.Run(context.Background(), runner.Request{
		Action:           runner.Action{RunnerType: runner.TypeLocalShellCmd},
		RunnerParameters: map[string]any{"cmd": `echo "sudo_user=$SUDO_USER kept=$KEPT"`, "sudo": true, "env": map[string]any{"KEPT": "yes"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// SUDO_USER is set only by sudo; -E keeps the environment.
	if got := res.Value.(map[string]any)["stdout"]; got != "sudo_user=root kept=yes" {
		t.Errorf("stdout = %q", got)
	}
}

// startAsync runs req in the background.
func startAsync(ctx context.Context, r runner.Runner, req runner.Request) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := r.Run(ctx, req)
		ch <- outcome{res, err}
	}()
	return ch
}

func waitOutcome(t *testing.T, ch <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(hangGuard):
		t.Fatal("Run did not return")
		return outcome{}
	}
}

// TestLocalShellStop: a timeout or a cancellation kills the whole process
// group (the shell and the sleep it started); a group that ignores SIGTERM
// gets SIGKILL after the grace period.
func TestLocalShellStop(t *testing.T) {
	const script = `sleep 1000 & echo "child $!"; echo "shell $$"; wait`
	tests := []struct {
		name        string
		cmd         string
		cancel      bool
		ignoresTERM bool
		wantErr     string
	}{
		{name: "timeout", cmd: script, wantErr: runner.ErrNameActionTimeout},
		{name: "cancel", cmd: script, cancel: true, wantErr: runner.ErrNameActionCanceled},
		{name: "timeout, SIGTERM ignored", cmd: "trap '' TERM; " + script, ignoresTERM: true, wantErr: runner.ErrNameActionTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			reg := runner.New(runner.Options{Clock: clock, KillGrace: 10 * time.Second})
			rec := newRecorder()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := startAsync(ctx, reg, runner.Request{
				Action:           runner.Action{RunnerType: runner.TypeLocalShellCmd},
				RunnerParameters: map[string]any{"cmd": tt.cmd, "timeout": 5},
				Output:           rec.Output,
			})
			rec.waitFor(t, "", runner.StreamStdout, "shell ")
			pids := pidsIn(t, rec.text("", runner.StreamStdout), "child", "shell")
			t.Cleanup(func() {
				for _, p := range pids {
					_ = syscall.Kill(p, syscall.SIGKILL)
				}
			})
			if tt.cancel {
				cancel()
			} else {
				clock.BlockUntil(t, 1)
				clock.Advance(5 * time.Second)
			}
			if tt.ignoresTERM {
				// SIGTERM was sent and ignored: both still run until the
				// grace period ends.
				clock.BlockUntil(t, 1)
				for _, p := range pids {
					if !alive(p) {
						t.Fatalf("pid %d died from an ignored SIGTERM", p)
					}
				}
				clock.Advance(10 * time.Second)
			}
			o := waitOutcome(t, done)
			if got := errName(t, o.err); got != tt.wantErr {
				t.Fatalf("error = %v, want %s", o.err, tt.wantErr)
			}
			for _, p := range pids {
				waitDead(t, p)
			}
			code := o.res.Value.(map[string]any)["return_code"].(int)
			wantSig := -int(syscall.SIGTERM)
			if tt.ignoresTERM {
				wantSig = -int(syscall.SIGKILL)
			}
			if code != wantSig {
				t.Errorf("return_code = %d, want %d", code, wantSig)
			}
		})
	}
}

// TestLocalShellStreams: output reaches Output while the command still runs,
// in order, from one goroutine at a time, and equals the result.
func TestLocalShellStreams(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "go-on")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	reg := runner.New(runner.Options{})
	rec := newRecorder()
	cmd := `i=0; while [ $i -lt 200 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; echo waiting; read x < ` + fifo + `; echo "got $x"`
	done := startAsync(context.Background(), reg, runner.Request{
		Action:           runner.Action{RunnerType: runner.TypeLocalShellCmd},
		RunnerParameters: map[string]any{"cmd": cmd},
		Output:           rec.Output,
	})
	// The command blocks until the test answers, so this output was
	// streamed while it ran.
	rec.waitFor(t, "", runner.StreamStdout, "waiting\n")
	if err := os.WriteFile(fifo, []byte("go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := waitOutcome(t, done)
	if o.err != nil {
		t.Fatal(o.err)
	}
	var wantOut, wantErr strings.Builder
	for i := 0; i < 200; i++ {
		wantOut.WriteString("out " + strconv.Itoa(i) + "\n")
		wantErr.WriteString("err " + strconv.Itoa(i) + "\n")
	}
	wantOut.WriteString("waiting\ngot go\n")
	if got := rec.text("", runner.StreamStdout); got != wantOut.String() {
		t.Errorf("streamed stdout out of order or incomplete:\n%q", got)
	}
	if got := rec.text("", runner.StreamStderr); got != wantErr.String() {
		t.Errorf("streamed stderr out of order or incomplete:\n%q", got)
	}
	v := o.res.Value.(map[string]any)
	if v["stdout"] != strings.TrimSuffix(wantOut.String(), "\n") {
		t.Errorf("result stdout differs from the stream")
	}
	if rec.maxCon != 1 {
		t.Errorf("Output called concurrently (%d calls at once)", rec.maxCon)
	}
}
