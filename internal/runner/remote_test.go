package runner_test

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/bwc-project/bwc/internal/runner"
)

type secretMap map[string]string

func (m secretMap) Get(_ context.Context, name string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", errors.New("no such secret")
	}
	return v, nil
}

func currentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

func TestRemoteShell(t *testing.T) {
	dir := t.TempDir()
	hostKey := newTestKey(t, dir, "host_key")
	client := newTestKey(t, dir, "client_key")
	stranger := newTestKey(t, dir, "stranger_key")
	a := startSSHD(t, hostKey, client.public)
	b := startSSHD(t, hostKey, client.public)
	closed := "127.0.0.1:" + strconv.Itoa(freePort(t))
	three := []string{a.addr("127.0.0.1"), a.addr("localhost"), b.addr("127.0.0.1")}
	pack := demoPack(t)
	me := currentUser(t)

	cmd := runner.Action{Ref: "demo.remote", RunnerType: runner.TypeRemoteShellCmd, PackDir: pack}
	scriptAction := runner.Action{Ref: "demo.args", RunnerType: runner.TypeRemoteShellScript, PackDir: pack,
		EntryPoint: filepath.Join(pack, "actions", "args.sh"),
		Parameters: map[string]runner.ParameterInfo{"who": {Type: "string", Position: intp(0)}}}
	serverPort := `echo "port ${SSH_CONNECTION##* } id $BWC_EXECUTION_ID $FROM_ENGINE $GREETING"`

	type hostWant struct {
		stdout string
		code   int
		error  bool
	}
	tests := []struct {
		name      string
		action    runner.Action
		params    map[string]any
		rparams   map[string]any
		secrets   secretMap
		wantErr   string
		retryable bool
		want      map[string]hostWant
	}{
		{
			name:   "three hosts in parallel, key material",
			action: cmd,
			rparams: map[string]any{"hosts": strings.Join(three, ","), "private_key": client.pem, "cmd": serverPort,
				"env": map[string]any{"GREETING": "hello world"}},
			want: map[string]hostWant{
				three[0]: {stdout: "port " + strconv.Itoa(a.port) + " id ex-1 engine hello world"},
				three[1]: {stdout: "port " + strconv.Itoa(a.port) + " id ex-1 engine hello world"},
				three[2]: {stdout: "port " + strconv.Itoa(b.port) + " id ex-1 engine hello world"},
			},
		},
		{
			name:   "sequential, key file, hosts as a list, user@host",
			action: cmd,
			rparams: map[string]any{"hosts": []any{me + "@" + three[0], three[2]}, "parallel": false,
				"private_key": client.path, "cmd": "id -un", "username": "nobody-by-default"},
			wantErr: runner.ErrNameRemoteConnectionFailed, retryable: false,
			want: map[string]hostWant{
				me + "@" + three[0]: {stdout: me},
				three[2]:            {code: 255, error: true}, // nobody-by-default cannot log in
			},
		},
		{
			name:    "private_key_ref from the secret store",
			action:  cmd,
			rparams: map[string]any{"hosts": three[2], "private_key_ref": "ssh/deploy", "cmd": "echo ok"},
			secrets: secretMap{"ssh/deploy": client.pem},
			want:    map[string]hostWant{three[2]: {stdout: "ok"}},
		},
		{
			name:    "missing secret",
			action:  cmd,
			rparams: map[string]any{"hosts": three[2], "private_key_ref": "ssh/missing", "cmd": "echo ok"},
			secrets: secretMap{},
			wantErr: runner.ErrNameSecretLookupFailed, retryable: true,
		},
		{
			name:    "non-zero exit on one host",
			action:  cmd,
			rparams: map[string]any{"hosts": three[0] + "," + three[2], "private_key": client.pem, "cmd": `[ "${SSH_CONNECTION##* }" = ` + strconv.Itoa(b.port) + ` ] && exit 4; echo fine`},
			wantErr: runner.ErrNameActionFailed,
			want: map[string]hostWant{
				three[0]: {stdout: "fine"},
				three[2]: {code: 4},
			},
		},
		{
			name:    "connection refused is retryable",
			action:  cmd,
			rparams: map[string]any{"hosts": three[0] + "," + closed, "private_key": client.pem, "cmd": "echo up"},
			wantErr: runner.ErrNameRemoteConnectionFailed, retryable: true,
			want: map[string]hostWant{
				three[0]: {stdout: "up"},
				closed:   {code: 255, error: true},
			},
		},
		{
			name:    "unknown key is not retryable",
			action:  cmd,
			rparams: map[string]any{"hosts": three[0], "private_key": stranger.pem, "cmd": "echo up"},
			wantErr: runner.ErrNameRemoteConnectionFailed, retryable: false,
			want: map[string]hostWant{three[0]: {code: 255, error: true}},
		},
		{
			name:    "cwd and sudo",
			action:  cmd,
			rparams: map[string]any{"hosts": three[0], "private_key": client.pem, "cmd": `echo "$(pwd) sudo_user=$SUDO_USER"`, "cwd": "/usr", "sudo": true},
			want:    map[string]hostWant{three[0]: {stdout: "/usr sudo_user=" + me}},
		},
		{
			name:    "script uploaded, run with st2 arguments, removed",
			action:  scriptAction,
			params:  map[string]any{"who": "the world", "loud": true},
			rparams: map[string]any{"hosts": three[0] + "," + three[2], "private_key": client.pem, "cwd": "/"},
			want: map[string]hostWant{
				three[0]: {stdout: "[--loud]\n[the world]\ncwd=/"},
				three[2]: {stdout: "[--loud]\n[the world]\ncwd=/"},
			},
		},
		{
			name:    "no credentials",
			action:  cmd,
			rparams: map[string]any{"hosts": three[0], "cmd": "true"},
			wantErr: runner.ErrNameInvalidParameters,
		},
		{
			name:    "bad host",
			action:  cmd,
			rparams: map[string]any{"hosts": "127.0.0.1:notaport", "private_key": client.pem, "cmd": "true"},
			wantErr: runner.ErrNameInvalidParameters,
		},
	}
	reg := runner.New(runner.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rparams["sudo"] == true && os.Geteuid() != 0 {
				t.Skip("sudo -n on the remote side needs passwordless sudo; tested as root")
			}
			req := runner.Request{ExecutionID: "ex-1", Action: tt.action, Parameters: tt.params, RunnerParameters: tt.rparams,
				Env: map[string]string{"FROM_ENGINE": "engine"}}
			if tt.secrets != nil {
				req.Secrets = tt.secrets
			}
			res, err := reg.Run(context.Background(), req)
			if got := errName(t, err); got != tt.wantErr {
				t.Fatalf("error = %v, want name %q", err, tt.wantErr)
			}
			if err != nil {
				var ae *runner.ActionError
				errors.As(err, &ae)
				if tt.wantErr != runner.ErrNameActionFailed && ae.Retryable != tt.retryable {
					t.Errorf("retryable = %v, want %v (%v)", ae.Retryable, tt.retryable, err)
				}
			}
			if tt.want == nil {
				return
			}
			got, ok := res.Value.(map[string]any)
			if !ok || len(got) != len(tt.want) {
				t.Fatalf("result = %#v, want hosts %v", res.Value, tt.want)
			}
			for host, w := range tt.want {
				hr, ok := got[host].(map[string]any)
				if !ok {
					t.Fatalf("no result for %s in %#v", host, got)
				}
				if hr["return_code"] != w.code || hr["succeeded"] != (w.code == 0) || hr["failed"] != (w.code != 0) {
					t.Errorf("%s: result %#v, want return_code %d", host, hr, w.code)
				}
				if w.error {
					if e, _ := hr["error"].(string); e == "" {
						t.Errorf("%s: no error in %#v", host, hr)
					}
					continue
				}
				if hr["stdout"] != w.stdout {
					t.Errorf("%s: stdout %q, want %q (stderr %q)", host, hr["stdout"], w.stdout, hr["stderr"])
				}
			}
			if tt.action.RunnerType == runner.TypeRemoteShellScript {
				if _, err := os.Stat("/tmp/bwc-ex-1-args.sh"); !os.IsNotExist(err) {
					t.Errorf("uploaded script not removed: %v", err)
				}
			}
		})
	}
}

func TestRemoteShellPassword(t *testing.T) {
	name, password := testUser(t)
	dir := t.TempDir()
	srv := startSSHD(t, newTestKey(t, dir, "host_key"))
	rec := newRecorder()
	reg := runner.New(runner.Options{})
	host := name + "@" + srv.addr("127.0.0.1")
	res, err := reg.Run(context.Background(), runner.Request{
		Action: runner.Action{RunnerType: runner.TypeRemoteShellCmd},
		// The command prints the password: it must come out masked.
		RunnerParameters: map[string]any{"hosts": host, "password_ref": "ssh/pw", "cmd": "id -un; echo " + password + " >&2"},
		Secrets:          secretMap{"ssh/pw": password},
		Output:           rec.Output,
	})
	if err != nil {
		t.Fatal(err)
	}
	hr := res.Value.(map[string]any)[host].(map[string]any)
	if hr["stdout"] != name {
		t.Errorf("stdout = %q, want %q (stderr %q)", hr["stdout"], name, hr["stderr"])
	}
	if hr["stderr"] != runner.Masked {
		t.Errorf("stderr = %q, want the password masked", hr["stderr"])
	}
	if all := rec.all(); strings.Contains(all, password) || !strings.Contains(all, runner.Masked) {
		t.Errorf("streamed output %q leaks the password or lacks the mask", all)
	}

	// A wrong password is an authentication failure: not retryable.
	_, err = reg.Run(context.Background(), runner.Request{
		Action:           runner.Action{RunnerType: runner.TypeRemoteShellCmd},
		RunnerParameters: map[string]any{"hosts": host, "password": "wrong-" + password, "cmd": "true"},
	})
	var ae *runner.ActionError
	if !errors.As(err, &ae) || ae.Name != runner.ErrNameRemoteConnectionFailed || ae.Retryable {
		t.Fatalf("wrong password: error %v, want a non-retryable %s", err, runner.ErrNameRemoteConnectionFailed)
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestRemoteShellKnownHosts(t *testing.T) {
	dir := t.TempDir()
	hostKey := newTestKey(t, dir, "host_key")
	other := newTestKey(t, dir, "other_key")
	client := newTestKey(t, dir, "client_key")
	srv := startSSHD(t, hostKey, client.public)
	for _, tt := range []struct {
		name    string
		key     ssh.PublicKey
		wantErr string
	}{
		{name: "matching host key", key: hostKey.public},
		{name: "other host key", key: other.public, wantErr: runner.ErrNameRemoteConnectionFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			line := "[127.0.0.1]:" + strconv.Itoa(srv.port) + " " + string(ssh.MarshalAuthorizedKey(tt.key))
			if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
				t.Fatal(err)
			}
			reg := runner.New(runner.Options{SSH: runner.SSHOptions{KnownHostsFiles: []string{kh}}})
			_, err := reg.Run(context.Background(), runner.Request{
				Action:           runner.Action{RunnerType: runner.TypeRemoteShellCmd},
				RunnerParameters: map[string]any{"hosts": srv.addr("127.0.0.1"), "private_key": client.pem, "cmd": "true"},
			})
			if got := errName(t, err); got != tt.wantErr {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestRemoteShellStop: a timeout or a cancellation kills the remote process
// group (the sshd here is local, so the test can see the processes).
func TestRemoteShellStop(t *testing.T) {
	dir := t.TempDir()
	client := newTestKey(t, dir, "client_key")
	srv := startSSHD(t, newTestKey(t, dir, "host_key"), client.public)
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
			host := srv.addr("127.0.0.1")
			done := startAsync(ctx, reg, runner.Request{
				Action:           runner.Action{RunnerType: runner.TypeRemoteShellCmd},
				RunnerParameters: map[string]any{"hosts": host, "private_key": client.pem, "cmd": tt.cmd, "timeout": 30},
				Output:           rec.Output,
			})
			rec.waitFor(t, host, runner.StreamStdout, "shell ")
			pids := pidsIn(t, rec.text(host, runner.StreamStdout), "child", "shell")
			t.Cleanup(func() {
				for _, p := range pids {
					_ = syscall.Kill(p, syscall.SIGKILL)
				}
			})
			if tt.cancel {
				cancel()
			} else {
				clock.BlockUntil(t, 1)
				clock.Advance(30 * time.Second)
			}
			if tt.ignoresTERM {
				clock.BlockUntil(t, 1) // the grace period after SIGTERM
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
			if _, ok := o.res.Value.(map[string]any)[host]; !ok {
				t.Errorf("no result for %s: %#v", host, o.res.Value)
			}
		})
	}
}

// TestRemoteShellParallel: with parallel, the hosts run at the same time
// (each command waits until the test has seen every host start); without it,
// one host's output ends before the next host's begins.
func TestRemoteShellParallel(t *testing.T) {
	dir := t.TempDir()
	hostKey := newTestKey(t, dir, "host_key")
	client := newTestKey(t, dir, "client_key")
	a := startSSHD(t, hostKey, client.public)
	b := startSSHD(t, hostKey, client.public)
	hosts := []string{a.addr("127.0.0.1"), b.addr("127.0.0.1")}
	fifos := t.TempDir()
	for _, s := range []*sshServer{a, b} {
		if err := syscall.Mkfifo(filepath.Join(fifos, "fifo-"+strconv.Itoa(s.port)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	reg := runner.New(runner.Options{})

	t.Run("parallel", func(t *testing.T) {
		rec := newRecorder()
		done := startAsync(context.Background(), reg, runner.Request{
			Action: runner.Action{RunnerType: runner.TypeRemoteShellCmd},
			RunnerParameters: map[string]any{"hosts": strings.Join(hosts, ","), "private_key": client.pem, "parallel": true,
				"cmd": `echo ready; read x < ` + fifos + `/fifo-${SSH_CONNECTION##* }; echo "got $x"`},
			Output: rec.Output,
		})
		// Both hosts are running before either may finish.
		for _, h := range hosts {
			rec.waitFor(t, h, runner.StreamStdout, "ready\n")
		}
		for _, s := range []*sshServer{a, b} {
			if err := os.WriteFile(filepath.Join(fifos, "fifo-"+strconv.Itoa(s.port)), []byte("go\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		o := waitOutcome(t, done)
		if o.err != nil {
			t.Fatal(o.err)
		}
		for _, h := range hosts {
			if got := o.res.Value.(map[string]any)[h].(map[string]any)["stdout"]; got != "ready\ngot go" {
				t.Errorf("%s: stdout %q", h, got)
			}
		}
	})

	t.Run("sequential", func(t *testing.T) {
		rec := newRecorder()
		_, err := reg.Run(context.Background(), runner.Request{
			Action: runner.Action{RunnerType: runner.TypeRemoteShellCmd},
			RunnerParameters: map[string]any{"hosts": strings.Join(hosts, ","), "private_key": client.pem, "parallel": false,
				"cmd": `echo one; echo two >&2; echo three`},
			Output: rec.Output,
		})
		if err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		last0, first1 := -1, len(rec.chunks)
		for i, c := range rec.chunks {
			if c.Host == hosts[0] {
				last0 = i
			}
			if c.Host == hosts[1] && i < first1 {
				first1 = i
			}
		}
		if last0 < 0 || first1 == len(rec.chunks) || last0 > first1 {
			t.Errorf("hosts interleaved: last chunk of %s at %d, first of %s at %d", hosts[0], last0, hosts[1], first1)
		}
	})
}
