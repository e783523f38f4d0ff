package runner

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// localRunner runs local-shell-cmd and local-shell-script.
type localRunner struct {
	opts Options
}

var _ Runner = (*localRunner)(nil)

// Run implements [Runner]. The result has st2's shape: stdout, stderr
// (strings, never parsed as JSON), return_code, succeeded, failed.
func (l *localRunner) Run(ctx context.Context, req Request) (Result, error) {
	p := params{&req}
	timeout, err := p.timeout(60)
	if err != nil {
		return Result{}, err
	}
	sudo, err := p.boolean("sudo", false)
	if err != nil {
		return Result{}, err
	}
	sudoPassword, err := p.str("sudo_password", "")
	if err != nil {
		return Result{}, err
	}
	envParam, err := p.stringMap("env")
	if err != nil {
		return Result{}, err
	}
	cwd, err := p.str("cwd", "")
	if err != nil {
		return Result{}, err
	}

	var argv []string
	switch req.Action.RunnerType {
	case TypeLocalShellCmd:
		cmd, err := p.str("cmd", "")
		if err != nil {
			return Result{}, err
		}
		if strings.TrimSpace(cmd) == "" {
			return Result{}, invalidParam("runner parameter \"cmd\" is required by %s", TypeLocalShellCmd)
		}
		argv = []string{l.opts.Shell, "-c", cmd}
		if cwd == "" {
			cwd = req.Action.PackDir
		}
	case TypeLocalShellScript:
		kwargOp, err := p.str("kwarg_op", "--")
		if err != nil {
			return Result{}, err
		}
		script := req.Action.EntryPoint
		if script == "" || !filepath.IsAbs(script) {
			return Result{}, invalidParam("action %s: entry point %q: expected an absolute script path", req.Action.Ref, script)
		}
		interp, err := interpreter(script)
		if err != nil {
			return Result{}, err
		}
		argv = append(append(interp, script), scriptArgs(&req, kwargOp)...)
		if cwd == "" {
			cwd = filepath.Dir(script)
		}
	default:
		return Result{}, invalidParam("local runner cannot run runner type %q", req.Action.RunnerType)
	}
	if cwd == "" {
		cwd = os.TempDir()
	}
	var stdin []byte
	if sudo {
		prefix := []string{l.opts.Sudo, "-E", "-n", "--"}
		if sudoPassword != "" {
			prefix = []string{l.opts.Sudo, "-E", "-S", "-p", "", "--"}
			stdin = []byte(sudoPassword + "\n")
		}
		argv = append(prefix, argv...)
	}

	stdout := &capture{max: l.opts.MaxOutputBytes}
	stderr := &capture{max: l.opts.MaxOutputBytes}
	pr, err := runProc(ctx, l.opts, procSpec{
		argv:    argv,
		dir:     cwd,
		env:     buildEnv(l.opts.Environ, &req, envParam),
		stdin:   stdin,
		timeout: timeout,
		onOutput: func(stream string, data []byte) {
			if stream == StreamStdout {
				stdout.add(data)
			} else {
				stderr.add(data)
			}
			emit(&req, Chunk{Stream: stream, Data: data})
		},
	})
	if err != nil {
		return Result{}, err
	}
	res := Result{Value: shellResult(stdout.String(), stderr.String(), pr.exitCode)}
	if pr.stopped != nil {
		return res, pr.stopped
	}
	if pr.exitCode != 0 {
		return res, actionErr(ErrNameActionFailed, false, "%s exited with status %d", commandName(&req), pr.exitCode)
	}
	return res, nil
}

func commandName(req *Request) string {
	if req.Action.Ref != "" {
		return req.Action.Ref
	}
	return req.Action.RunnerType
}

func shellResult(stdout, stderr string, code int) map[string]any {
	return map[string]any{
		"stdout":      strings.TrimSuffix(stdout, "\n"),
		"stderr":      strings.TrimSuffix(stderr, "\n"),
		"return_code": code,
		"succeeded":   code == 0,
		"failed":      code != 0,
	}
}

func emit(req *Request, c Chunk) {
	if req.Output != nil && len(c.Data) > 0 {
		req.Output(c)
	}
}

// interpreter returns how to start a script: directly when it is executable,
// else with the interpreter of its #! line, else with /bin/sh.
func interpreter(script string) ([]string, error) {
	st, err := os.Stat(script)
	if err != nil {
		return nil, actionErr(ErrNameStartFailed, false, "script %s: %w", script, err)
	}
	if st.IsDir() {
		return nil, actionErr(ErrNameStartFailed, false, "script %s is a directory", script)
	}
	if st.Mode()&0o111 != 0 {
		return nil, nil
	}
	f, err := os.Open(script)
	if err != nil {
		return nil, actionErr(ErrNameStartFailed, false, "script %s: %w", script, err)
	}
	defer func() { _ = f.Close() }()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) && line == "" {
		return []string{"/bin/sh"}, nil
	}
	if rest, ok := strings.CutPrefix(line, "#!"); ok {
		if fields := strings.Fields(rest); len(fields) > 0 {
			return fields, nil
		}
	}
	return []string{"/bin/sh"}, nil
}

// buildEnv is the environment of a local process: the base environment, then
// BWC's variables, then the engine's Env, then the runner parameter env.
func buildEnv(base []string, req *Request, envParam map[string]string) []string {
	if base == nil {
		base = os.Environ()
	}
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set(k, v)
		}
	}
	pack, _, _ := strings.Cut(req.Action.Ref, ".")
	for k, v := range bwcEnv(req, pack) {
		set(k, v)
	}
	for _, k := range sortedKeys(req.Env) {
		set(k, req.Env[k])
	}
	for _, k := range sortedKeys(envParam) {
		set(k, envParam[k])
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out
}

func bwcEnv(req *Request, pack string) map[string]string {
	return map[string]string{
		"BWC_EXECUTION_ID":        req.ExecutionID,
		"BWC_API_URL":             req.APIURL,
		"BWC_ACTION_REF":          req.Action.Ref,
		"BWC_PACK":                pack,
		"ST2_ACTION_EXECUTION_ID": req.ExecutionID,
		"ST2_ACTION_API_URL":      req.APIURL,
		"ST2_ACTION_PACK_NAME":    pack,
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
