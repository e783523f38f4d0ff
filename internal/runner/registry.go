package runner

import (
	"context"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

// Options configures the runners built by [New]. The zero value works.
type Options struct {
	// Clock times timeouts and kill grace periods; default the real clock.
	Clock Clock
	// KillGrace is how long a process group has between SIGTERM and SIGKILL;
	// default 5s.
	KillGrace time.Duration
	// Environ is the base environment of local processes; nil means the
	// environment of this process (st2's behaviour).
	Environ []string
	// MaxOutputBytes caps what a result keeps of each stream (stdout,
	// stderr, HTTP body); the rest is still streamed to Request.Output.
	// Default 4 MiB.
	MaxOutputBytes int
	// Sudo is the sudo program; default "sudo" from PATH.
	Sudo string
	// Shell runs local-shell-cmd commands as Shell -c cmd; default /bin/sh
	// (st2 runs commands with shell=True, which is /bin/sh).
	Shell string
	// HTTPTransport is the base transport of http-request (proxies and TLS
	// settings are applied to a clone of it); default a clone of
	// http.DefaultTransport.
	HTTPTransport *http.Transport
	// UserAgent is sent by http-request; default "bwc".
	UserAgent string
	// SSH configures the remote runners.
	SSH SSHOptions
	// Go configures the go runner.
	Go GoOptions
}

// SSHOptions configures remote-shell-cmd and remote-shell-script.
type SSHOptions struct {
	// User is the default SSH user; default the current user.
	User string
	// PrivateKeyFile is the default key when a request gives no password and
	// no key (st2's system_user.ssh_key_file).
	PrivateKeyFile string
	// KnownHostsFiles, when set, are OpenSSH known_hosts files that host
	// keys must match. When empty, any host key is accepted, as st2 does.
	KnownHostsFiles []string
	// MaxParallel caps the hosts contacted at once; default 20.
	MaxParallel int
	// DialTimeout bounds the TCP connection and SSH handshake; default 30s
	// (also bounded by the runner parameter timeout).
	DialTimeout time.Duration
}

// GoOptions configures the go runner.
type GoOptions struct {
	// GoBinary is the go command; default "go" from PATH.
	GoBinary string
	// CacheDir holds the built actions, one directory per source hash;
	// default <user cache dir>/bwc/go-actions.
	CacheDir string
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.KillGrace <= 0 {
		o.KillGrace = 5 * time.Second
	}
	if o.MaxOutputBytes <= 0 {
		o.MaxOutputBytes = 4 << 20
	}
	if o.Sudo == "" {
		o.Sudo = "sudo"
	}
	if o.Shell == "" {
		o.Shell = "/bin/sh"
	}
	if o.UserAgent == "" {
		o.UserAgent = "bwc"
	}
	if o.SSH.MaxParallel <= 0 {
		o.SSH.MaxParallel = 20
	}
	if o.SSH.DialTimeout <= 0 {
		o.SSH.DialTimeout = 30 * time.Second
	}
	if o.Go.GoBinary == "" {
		o.Go.GoBinary = "go"
	}
	if o.Go.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		o.Go.CacheDir = dir + "/bwc/go-actions"
	}
	return o
}

// Registry maps runner type names to runners.
type Registry struct {
	runners map[string]Runner
}

var _ Runner = (*Registry)(nil)

// New builds a registry holding this package's runners: local-shell-cmd,
// local-shell-script, remote-shell-cmd, remote-shell-script, http-request,
// noop and go.
func New(o Options) *Registry {
	o = o.withDefaults()
	local := &localRunner{opts: o}
	remote := &remoteRunner{opts: o}
	return &Registry{runners: map[string]Runner{
		TypeLocalShellCmd:     local,
		TypeLocalShellScript:  local,
		TypeRemoteShellCmd:    remote,
		TypeRemoteShellScript: remote,
		TypeHTTPRequest:       &httpRunner{opts: o},
		TypeNoop:              noopRunner{},
		TypeGo:                newGoRunner(o),
	}}
}

// Register adds or replaces the runner of a type (the engine registers
// inquirer, workflow and asl). Call it before the first Run.
func (r *Registry) Register(runnerType string, rn Runner) {
	r.runners[runnerType] = rn
}

// Has reports whether a runner of the type is registered.
func (r *Registry) Has(runnerType string) bool {
	_, ok := r.runners[runnerType]
	return ok
}

// Types returns the registered runner types, sorted.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.runners))
	for t := range r.runners {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Run runs req with the runner of req.Action.RunnerType, masking secrets in
// what comes out (see the package documentation). Outcomes are those of
// [Runner]; an unregistered runner type is bwc.UnknownRunner.
func (r *Registry) Run(ctx context.Context, req Request) (Result, error) {
	rn, ok := r.runners[req.Action.RunnerType]
	if !ok {
		return Result{}, actionErr(ErrNameUnknownRunner, false, "action %s: no runner of type %q", req.Action.Ref, req.Action.RunnerType)
	}
	m := &masker{}
	m.add(secretValues(&req)...)
	if req.Secrets != nil {
		inner := req.Secrets
		req.Secrets = SecretsFunc(func(ctx context.Context, name string) (string, error) {
			v, err := inner.Get(ctx, name)
			if err == nil {
				m.add(v)
			}
			return v, err
		})
	}
	out := newOutputMux(req.Output, m)
	req.Output = out.write
	res, err := rn.Run(ctx, req)
	out.close()
	res.Value = m.value(res.Value)
	return res, m.err(err)
}

// outputMux serialises calls to the engine's Output and masks each
// (host, stream) separately.
type outputMux struct {
	mu      sync.Mutex
	sink    func(Chunk)
	m       *masker
	streams map[[2]string]*stream
	closed  bool
}

func newOutputMux(sink func(Chunk), m *masker) *outputMux {
	return &outputMux{sink: sink, m: m, streams: map[[2]string]*stream{}}
}

func (o *outputMux) write(c Chunk) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sink == nil || o.closed || len(c.Data) == 0 {
		return
	}
	key := [2]string{c.Host, c.Stream}
	s := o.streams[key]
	if s == nil {
		s = &stream{m: o.m}
		o.streams[key] = s
	}
	if data := s.write(c.Data); len(data) > 0 {
		o.sink(Chunk{Host: c.Host, Stream: c.Stream, Data: data})
	}
}

func (o *outputMux) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.closed = true
	if o.sink == nil {
		return
	}
	keys := make([][2]string, 0, len(o.streams))
	for k := range o.streams {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		if data := o.streams[k].flush(); len(data) > 0 {
			o.sink(Chunk{Host: k[0], Stream: k[1], Data: data})
		}
	}
}
