package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// remoteRunner runs remote-shell-cmd and remote-shell-script over SSH.
type remoteRunner struct {
	opts Options
}

var _ Runner = (*remoteRunner)(nil)

var errRemoteTimeout = errors.New("remote timeout")

// remoteHost is one entry of the hosts runner parameter.
type remoteHost struct {
	label string // as written, the key of the result
	user  string
	addr  string // host:port
}

// remoteJob is what every host runs.
type remoteJob struct {
	req        *Request
	config     *ssh.ClientConfig
	command    string // without the process group marker line
	script     []byte // remote-shell-script: the script to upload
	scriptPath string // and where (each host adds its own suffix)
	scriptArgs []string
	wrap       func(body string) string // adds cwd, env and sudo to a command
	stdin      string                   // sudo password
	timeout    time.Duration
}

// hostOutcome is how one host ended.
type hostOutcome struct {
	result  map[string]any
	connErr *ActionError // could not connect or authenticate
	stopped bool         // killed by timeout or cancellation
}

// Run implements [Runner]. The result maps each host (as written in hosts)
// to st2's shell shape (stdout, stderr, return_code, succeeded, failed); a
// host that could not be reached has return_code 255 and an "error" string.
// The error is bwc.ActionTimeout or bwc.ActionCanceled when the run was
// stopped, else bwc.RemoteConnectionFailed when a host could not be reached,
// else bwc.ActionFailed when a command exited non-zero on any host.
func (r *remoteRunner) Run(ctx context.Context, req Request) (Result, error) {
	job, hosts, parallel, err := r.prepare(ctx, &req)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if job.timeout > 0 {
		t := r.opts.Clock.NewTimer(job.timeout)
		defer t.Stop()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-t.C():
				cancel(errRemoteTimeout)
			case <-stop:
			}
		}()
	}

	outcomes := make([]hostOutcome, len(hosts))
	if parallel {
		sem := make(chan struct{}, r.opts.SSH.MaxParallel)
		var wg sync.WaitGroup
		for i, h := range hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
					outcomes[i] = r.runHost(ctx, job, h)
				case <-ctx.Done():
					outcomes[i] = notRun(ctx)
				}
			}()
		}
		wg.Wait()
	} else {
		for i, h := range hosts {
			if ctx.Err() != nil {
				outcomes[i] = notRun(ctx)
				continue
			}
			outcomes[i] = r.runHost(ctx, job, h)
		}
	}

	value := map[string]any{}
	var connErrs, failed []string
	retryable := true
	stopped := false
	for i, h := range hosts {
		o := outcomes[i]
		value[h.label] = o.result
		switch {
		case o.stopped:
			stopped = true
		case o.connErr != nil:
			connErrs = append(connErrs, h.label+": "+o.connErr.Err.Error())
			retryable = retryable && o.connErr.Retryable
		case o.result["failed"] == true:
			failed = append(failed, fmt.Sprintf("%s (status %v)", h.label, o.result["return_code"]))
		}
	}
	res := Result{Value: value}
	switch {
	case stopped:
		if errors.Is(context.Cause(ctx), errRemoteTimeout) {
			return res, actionErr(ErrNameActionTimeout, false, "timed out after %s; remote process groups killed", job.timeout)
		}
		return res, ctxStopErr(ctx)
	case len(connErrs) > 0:
		return res, actionErr(ErrNameRemoteConnectionFailed, retryable, "%s", strings.Join(connErrs, "; "))
	case len(failed) > 0:
		return res, actionErr(ErrNameActionFailed, false, "%s failed on %s", commandName(&req), strings.Join(failed, ", "))
	}
	return res, nil
}

func notRun(ctx context.Context) hostOutcome {
	return hostOutcome{stopped: true, result: map[string]any{
		"stdout": "", "stderr": "", "return_code": 255, "succeeded": false, "failed": true,
		"error": "not run: " + ctxStopErr(ctx).Err.Error(),
	}}
}

func (r *remoteRunner) prepare(ctx context.Context, req *Request) (*remoteJob, []remoteHost, bool, error) {
	p := params{req}
	fail := func(err error) (*remoteJob, []remoteHost, bool, error) { return nil, nil, false, err }
	hostList, err := p.stringList("hosts")
	if err != nil {
		return fail(err)
	}
	if len(hostList) == 0 {
		return fail(invalidParam("runner parameter \"hosts\" is required by %s", req.Action.RunnerType))
	}
	username, err := p.str("username", r.opts.SSH.User)
	if err != nil {
		return fail(err)
	}
	if username == "" {
		if u, err := user.Current(); err == nil {
			username = u.Username
		}
	}
	port, err := p.number("port", 22)
	if err != nil {
		return fail(err)
	}
	if port < 1 || port > 65535 || port != float64(int(port)) {
		return fail(invalidParam("runner parameter \"port\": found %v, expected 1-65535", port))
	}
	var hosts []remoteHost
	seen := map[string]bool{}
	for _, h := range hostList {
		if seen[h] {
			continue
		}
		seen[h] = true
		rh, err := parseHost(h, username, int(port))
		if err != nil {
			return fail(err)
		}
		hosts = append(hosts, rh)
	}
	parallel, err := p.boolean("parallel", true)
	if err != nil {
		return fail(err)
	}
	timeout, err := p.timeout(60)
	if err != nil {
		return fail(err)
	}
	auth, err := r.auth(ctx, req, p)
	if err != nil {
		return fail(err)
	}
	hostKey := ssh.InsecureIgnoreHostKey() //nolint:gosec // st2 accepts any host key unless known_hosts files are configured.
	if len(r.opts.SSH.KnownHostsFiles) > 0 {
		hostKey, err = knownhosts.New(r.opts.SSH.KnownHostsFiles...)
		if err != nil {
			return fail(actionErr(ErrNameStartFailed, false, "reading known_hosts: %w", err))
		}
	}
	job := &remoteJob{
		req:     req,
		timeout: timeout,
		config: &ssh.ClientConfig{
			User:            username,
			Auth:            auth,
			HostKeyCallback: hostKey,
			Timeout:         r.opts.SSH.DialTimeout,
		},
	}

	sudo, err := p.boolean("sudo", false)
	if err != nil {
		return fail(err)
	}
	sudoPassword, err := p.str("sudo_password", "")
	if err != nil {
		return fail(err)
	}
	cwd, err := p.str("cwd", "")
	if err != nil {
		return fail(err)
	}
	envParam, err := p.stringMap("env")
	if err != nil {
		return fail(err)
	}
	env := map[string]string{}
	pack, _, _ := strings.Cut(req.Action.Ref, ".")
	for k, v := range bwcEnv(req, pack) {
		env[k] = v
	}
	for k, v := range req.Env {
		env[k] = v
	}
	for k, v := range envParam {
		env[k] = v
	}
	var body string
	switch req.Action.RunnerType {
	case TypeRemoteShellCmd:
		cmd, err := p.str("cmd", "")
		if err != nil {
			return fail(err)
		}
		if strings.TrimSpace(cmd) == "" {
			return fail(invalidParam("runner parameter \"cmd\" is required by %s", TypeRemoteShellCmd))
		}
		body = cmd
	case TypeRemoteShellScript:
		script := req.Action.EntryPoint
		if script == "" || !filepath.IsAbs(script) {
			return fail(invalidParam("action %s: entry point %q: expected an absolute script path", req.Action.Ref, script))
		}
		job.script, err = os.ReadFile(script)
		if err != nil {
			return fail(actionErr(ErrNameStartFailed, false, "reading script: %w", err))
		}
		dir, err := p.str("dir", "/tmp")
		if err != nil {
			return fail(err)
		}
		kwargOp, err := p.str("kwarg_op", "--")
		if err != nil {
			return fail(err)
		}
		id := safeName.ReplaceAllString(req.ExecutionID, "_")
		if id == "" {
			id = strconv.FormatInt(r.opts.Clock.Now().UnixNano(), 36)
		}
		job.scriptPath = strings.TrimRight(dir, "/") + "/bwc-" + id + "-" + safeName.ReplaceAllString(filepath.Base(script), "_")
		job.scriptArgs = scriptArgs(req, kwargOp)
	default:
		return fail(invalidParam("remote runner cannot run runner type %q", req.Action.RunnerType))
	}
	var lines []string
	if cwd != "" {
		lines = append(lines, "cd "+shellQuote(cwd)+" || exit 1")
	}
	var exports []string
	for _, k := range sortedKeys(env) {
		if !envName.MatchString(k) {
			return fail(invalidParam("runner parameter \"env\": %q is not a variable name", k))
		}
		exports = append(exports, k+"="+shellQuote(env[k]))
	}
	if len(exports) > 0 {
		lines = append(lines, "export "+strings.Join(exports, " "))
	}
	if sudo && sudoPassword != "" {
		job.stdin = sudoPassword + "\n"
	}
	job.wrap = func(body string) string {
		command := strings.Join(append(append([]string(nil), lines...), body), "\n")
		if sudo {
			flags := "-E -n"
			if sudoPassword != "" {
				flags = "-E -S -p ''"
			}
			command = "sudo " + flags + " -- /bin/sh -c " + shellQuote(command)
		}
		return command
	}
	if job.script == nil {
		job.command = job.wrap(body)
	}
	return job, hosts, parallel, nil
}

var (
	safeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)
	envName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func parseHost(s, defUser string, defPort int) (remoteHost, error) {
	h := remoteHost{label: s, user: defUser}
	rest := s
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		h.user, rest = rest[:at], rest[at+1:]
	}
	host, portStr, err := net.SplitHostPort(rest)
	if err != nil {
		host, portStr = strings.Trim(rest, "[]"), strconv.Itoa(defPort)
	}
	port, err := strconv.Atoi(portStr)
	if host == "" || err != nil || port < 1 || port > 65535 || h.user == "" {
		return remoteHost{}, invalidParam("runner parameter \"hosts\": %q: expected [user@]host[:port]", s)
	}
	h.addr = net.JoinHostPort(host, strconv.Itoa(port))
	return h, nil
}

// auth builds the SSH auth methods: a private key (runner parameter or its
// _ref, or Options.SSH.PrivateKeyFile) and a password (or its _ref).
func (r *remoteRunner) auth(ctx context.Context, req *Request, p params) ([]ssh.AuthMethod, error) {
	get := func(name string) (string, error) {
		v, err := p.str(name, "")
		if err != nil || v != "" {
			return v, err
		}
		ref, err := p.str(name+"_ref", "")
		if err != nil || ref == "" {
			return "", err
		}
		if req.Secrets == nil {
			return "", actionErr(ErrNameSecretLookupFailed, false, "runner parameter %s_ref: no secret store", name)
		}
		v, err = req.Secrets.Get(ctx, ref)
		if err != nil {
			return "", actionErr(ErrNameSecretLookupFailed, true, "runner parameter %s_ref: reading secret %q: %w", name, ref, err)
		}
		return v, nil
	}
	password, err := get("password")
	if err != nil {
		return nil, err
	}
	key, err := get("private_key")
	if err != nil {
		return nil, err
	}
	passphrase, err := get("passphrase")
	if err != nil {
		return nil, err
	}
	if key == "" && password == "" && r.opts.SSH.PrivateKeyFile != "" {
		key = r.opts.SSH.PrivateKeyFile
	}
	var methods []ssh.AuthMethod
	if key != "" {
		material := []byte(key)
		if !strings.Contains(key, "PRIVATE KEY") {
			material, err = os.ReadFile(key)
			if err != nil {
				return nil, invalidParam("runner parameter \"private_key\": neither key material nor a readable key file: %v", err)
			}
		}
		var signer ssh.Signer
		if passphrase != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase(material, []byte(passphrase))
		} else {
			signer, err = ssh.ParsePrivateKey(material)
		}
		if err != nil {
			return nil, invalidParam("runner parameter \"private_key\": %v", err)
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if password != "" {
		methods = append(methods, ssh.Password(password),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = password
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		return nil, invalidParam("no SSH credentials: give password, private_key (or their _ref) or configure a default key")
	}
	return methods, nil
}

func connFailed(h remoteHost, err error) hostOutcome {
	retry := true
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	if strings.Contains(err.Error(), "unable to authenticate") || errors.As(err, &keyErr) || errors.As(err, &revoked) {
		retry = false
	}
	ae := actionErr(ErrNameRemoteConnectionFailed, retry, "connecting to %s: %w", h.addr, err)
	return hostOutcome{connErr: ae, result: map[string]any{
		"stdout": "", "stderr": "", "return_code": 255, "succeeded": false, "failed": true,
		"error": ae.Err.Error(),
	}}
}

func (r *remoteRunner) dial(ctx context.Context, job *remoteJob, h remoteHost) (*ssh.Client, error) {
	d := net.Dialer{Timeout: r.opts.SSH.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	cfg := *job.config
	cfg.User = h.user
	c, chans, reqs, err := ssh.NewClientConn(conn, h.addr, &cfg)
	if !stop() {
		if err == nil {
			_ = c.Close()
		}
		_ = conn.Close()
		if err == nil {
			err = context.Cause(ctx)
		}
		return nil, err
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return ssh.NewClient(c, chans, reqs), nil
}

const pgidMarker = "BWC-PGID "

func (r *remoteRunner) runHost(ctx context.Context, job *remoteJob, h remoteHost) hostOutcome {
	client, err := r.dial(ctx, job, h)
	if err != nil {
		if ctx.Err() != nil {
			o := notRun(ctx)
			o.result["error"] = fmt.Sprintf("connecting to %s: %v", h.addr, ctxStopErr(ctx).Err)
			return o
		}
		return connFailed(h, err)
	}
	defer func() { _ = client.Close() }()

	jobCommand := job.command
	if job.script != nil {
		// Each host gets its own copy: two host names can reach the same
		// machine, and one's cleanup must not remove the other's script.
		path := job.scriptPath + "-" + safeName.ReplaceAllString(h.label, "_")
		jobCommand = job.wrap(shellJoin(append([]string{path}, job.scriptArgs...)))
		up := "umask 077 && mkdir -p " + shellQuote(filepath.Dir(path)) +
			" && cat > " + shellQuote(path) + " && chmod 700 " + shellQuote(path)
		if out, err := r.quick(ctx, client, up, job.script); err != nil {
			if ctx.Err() != nil {
				return notRun(ctx)
			}
			return connFailed(h, fmt.Errorf("uploading the script to %s: %w: %s", path, err, strings.TrimSpace(out)))
		}
		defer func() {
			// Removal is best effort; after a timeout or a cancellation
			// (ctx done) it gets the kill grace period.
			_, _ = r.quick(ctx, client, "rm -f "+shellQuote(path), nil)
		}()
	}

	sess, err := client.NewSession()
	if err != nil {
		return connFailed(h, fmt.Errorf("opening a session: %w", err))
	}
	defer func() { _ = sess.Close() }()
	stdout := &capture{max: r.opts.MaxOutputBytes}
	stderr := &capture{max: r.opts.MaxOutputBytes}
	var mu sync.Mutex
	pgid := make(chan int, 1)
	sess.Stdout = &markerWriter{pgid: pgid, next: &streamWriter{mu: &mu, c: stdout, req: job.req, host: h.label, stream: StreamStdout}}
	sess.Stderr = &streamWriter{mu: &mu, c: stderr, req: job.req, host: h.label, stream: StreamStderr}
	if job.stdin != "" {
		sess.Stdin = strings.NewReader(job.stdin)
	}
	command := "printf '" + pgidMarker + "%d\\n' \"$$\"\n" + jobCommand
	if err := sess.Start(command); err != nil {
		return connFailed(h, fmt.Errorf("starting the command: %w", err))
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()

	var waitErr error
	stopped := false
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		stopped = true
		waitErr = r.kill(client, sess, pgid, done)
	}
	code := 0
	var exitErr *ssh.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exitErr):
		code = exitErr.ExitStatus()
		if exitErr.Signal() != "" && code > 128 {
			code = -(code - 128)
		}
	default:
		code = -1
		if !stopped {
			return connFailed(h, fmt.Errorf("running the command: %w", waitErr))
		}
	}
	mu.Lock()
	res := shellResult(stdout.String(), stderr.String(), code)
	mu.Unlock()
	return hostOutcome{result: res, stopped: stopped}
}

// kill stops a remote command: SIGTERM to its process group (or to the
// session's process when the group is unknown), SIGKILL after the grace
// period, then the connection is closed.
func (r *remoteRunner) kill(client *ssh.Client, sess *ssh.Session, pgid <-chan int, done <-chan error) error {
	var group int
	select {
	case group = <-pgid:
	default:
	}
	signal := func(sig string) {
		if group > 0 {
			_, _ = r.quick(context.Background(), client, fmt.Sprintf("kill -%s -- -%d", sig, group), nil)
		} else {
			_ = sess.Signal(ssh.Signal(sig))
		}
	}
	signal("TERM")
	grace := r.opts.Clock.NewTimer(r.opts.KillGrace)
	defer grace.Stop()
	select {
	case err := <-done:
		return err
	case <-grace.C():
	}
	signal("KILL")
	_ = client.Close()
	return <-done
}

// quick runs a short command in a new session, closing the connection if it
// takes longer than the kill grace period after ctx ends.
func (r *remoteRunner) quick(ctx context.Context, client *ssh.Client, cmd string, stdin []byte) (string, error) {
	sess, err := client.NewSession()
	if err != nil {
		return "", err
	}
	defer func() { _ = sess.Close() }()
	out := &lockedBuffer{}
	sess.Stdout = out
	sess.Stderr = out
	if stdin != nil {
		sess.Stdin = bytes.NewReader(stdin)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Run(cmd) }()
	select {
	case err := <-done:
		return out.String(), err
	case <-ctx.Done():
	}
	t := r.opts.Clock.NewTimer(r.opts.KillGrace)
	defer t.Stop()
	select {
	case err := <-done:
		return out.String(), err
	case <-t.C():
		_ = client.Close()
		return out.String(), <-done
	}
}

// streamWriter captures a remote stream and passes it to Request.Output.
type streamWriter struct {
	mu     *sync.Mutex
	c      *capture
	req    *Request
	host   string
	stream string
}

func (w *streamWriter) Write(p []byte) (int, error) {
	data := append([]byte(nil), p...)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.c.add(data)
	emit(w.req, Chunk{Host: w.host, Stream: w.stream, Data: data})
	return len(p), nil
}

// markerWriter strips the first line of stdout when it is the process group
// marker, and sends the group id on pgid.
type markerWriter struct {
	pgid chan<- int
	next *streamWriter
	buf  []byte
	done bool
}

func (w *markerWriter) Write(p []byte) (int, error) {
	if w.done {
		return w.next.Write(p)
	}
	w.buf = append(w.buf, p...)
	i := bytes.IndexByte(w.buf, '\n')
	if i < 0 {
		if len(w.buf) < len(pgidMarker)+24 {
			return len(p), nil
		}
		w.done = true
		_, err := w.next.Write(w.buf)
		return len(p), err
	}
	w.done = true
	line, rest := string(w.buf[:i]), w.buf[i+1:]
	if id, ok := strings.CutPrefix(line, pgidMarker); ok {
		if n, err := strconv.Atoi(id); err == nil {
			w.pgid <- n
			if len(rest) > 0 {
				_, err := w.next.Write(rest)
				return len(p), err
			}
			return len(p), nil
		}
	}
	_, err := w.next.Write(w.buf)
	return len(p), err
}

// lockedBuffer collects stdout and stderr, written by two goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
