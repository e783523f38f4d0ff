package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/bwc-project/bwc/internal/runner/goaction"
)

// goRunner runs go actions: it builds actions/<name>/main.go's package into
// Options.Go.CacheDir, keyed by a hash of its sources, and runs the program
// with the goaction protocol.
type goRunner struct {
	opts Options

	mu      sync.Mutex
	builds  map[string]*sync.Mutex // per cache key
	version string                 // of the go toolchain, once read
}

var _ Runner = (*goRunner)(nil)

func newGoRunner(o Options) *goRunner {
	return &goRunner{opts: o, builds: map[string]*sync.Mutex{}}
}

// Run implements [Runner]. The result is the value the action returned, as
// on AWS where it is the Lambda's result. An error the action returned keeps
// its name (bwc.ActionFailed when it has none).
func (g *goRunner) Run(ctx context.Context, req Request) (Result, error) {
	p := params{&req}
	timeout, err := p.timeout(60)
	if err != nil {
		return Result{}, err
	}
	envParam, err := p.stringMap("env")
	if err != nil {
		return Result{}, err
	}
	dir := req.Action.EntryPoint
	if dir == "" || !filepath.IsAbs(dir) {
		return Result{}, invalidParam("action %s: entry point %q: expected the absolute path of main.go or of its directory", req.Action.Ref, dir)
	}
	if st, err := os.Stat(dir); err != nil {
		return Result{}, actionErr(ErrNameStartFailed, false, "action %s: entry point: %w", req.Action.Ref, err)
	} else if !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	bin, err := g.build(ctx, dir)
	if err != nil {
		return Result{}, err
	}

	in := goaction.Request{
		ExecutionID: req.ExecutionID,
		Action:      req.Action.Ref,
		Parameters:  req.Parameters,
		Context:     req.Context,
	}
	if in.Parameters == nil {
		in.Parameters = map[string]any{}
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		return Result{}, invalidParam("encoding the request of %s: %v", req.Action.Ref, err)
	}
	stdout := &capture{max: g.opts.MaxOutputBytes}
	stderr := &capture{max: 64 << 10}
	pr, err := runProc(ctx, g.opts, procSpec{
		argv:    []string{bin},
		dir:     dir,
		env:     buildEnv(g.opts.Environ, &req, envParam),
		stdin:   append(stdin, '\n'),
		timeout: timeout,
		onOutput: func(stream string, data []byte) {
			if stream == StreamStdout {
				stdout.add(data)
				return
			}
			stderr.add(data)
			emit(&req, Chunk{Stream: StreamStderr, Data: data})
		},
	})
	if err != nil {
		return Result{}, err
	}
	if pr.stopped != nil {
		return Result{}, pr.stopped
	}
	var resp goaction.Response
	dec := json.NewDecoder(bytes.NewReader(stdout.buf))
	dec.UseNumber()
	if stdout.truncated {
		return Result{}, actionErr(ErrNameActionFailed, false, "%s: response larger than %d bytes", req.Action.Ref, g.opts.MaxOutputBytes)
	}
	if err := dec.Decode(&resp); err != nil || (resp.Error == nil && resp.Result == nil) {
		return Result{}, actionErr(ErrNameActionFailed, false, "%s exited with status %d without a response on stdout%s",
			req.Action.Ref, pr.exitCode, stderrTail(stderr.String()))
	}
	if resp.Error != nil {
		name := resp.Error.Name
		if name == "" {
			name = ErrNameActionFailed
		}
		return Result{}, &ActionError{Name: name, Retryable: resp.Error.Retryable, Err: errors.New(resp.Error.Message)}
	}
	var v any
	rd := json.NewDecoder(bytes.NewReader(resp.Result))
	rd.UseNumber()
	if err := rd.Decode(&v); err != nil {
		return Result{}, actionErr(ErrNameActionFailed, false, "%s: decoding its result: %w", req.Action.Ref, err)
	}
	return Result{Value: numbersToGo(v)}, nil
}

// numbersToGo turns json.Number into int64 when integral, else float64.
func numbersToGo(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToGo(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersToGo(e)
		}
	}
	return v
}

func stderrTail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return ": " + s
}

// build returns the path of the built program of the package in dir,
// building it when its cache entry is missing.
func (g *goRunner) build(ctx context.Context, dir string) (string, error) {
	key, err := g.sourceKey(ctx, dir)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(g.opts.Go.CacheDir, key, "action")
	g.mu.Lock()
	lock := g.builds[key]
	if lock == nil {
		lock = &sync.Mutex{}
		g.builds[key] = lock
	}
	g.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", actionErr(ErrNameStartFailed, false, "creating the Go action cache: %w", err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	cmd := exec.CommandContext(ctx, g.opts.Go.GoBinary, "build", "-trimpath", "-o", tmp, ".")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		if ctx.Err() != nil {
			return "", ctxStopErr(ctx)
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", actionErr(ErrNameGoBuildFailed, false, "go build in %s: %s", dir, strings.TrimSpace(out.String()))
		}
		return "", actionErr(ErrNameStartFailed, false, "running %s build: %w", g.opts.Go.GoBinary, err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		_ = os.Remove(tmp)
		return "", actionErr(ErrNameStartFailed, false, "installing the built Go action: %w", err)
	}
	return bin, nil
}

// listTemplate prints, for every non-standard package the action depends on,
// its directory, module, and source files.
const listTemplate = `{{if not .Standard}}{{.ImportPath}}|{{.Dir}}|{{with .Module}}{{.Path}}@{{.Version}}|{{.Main}}|{{.GoMod}}{{end}}|` +
	`{{range .GoFiles}}{{.}},{{end}}{{range .CgoFiles}}{{.}},{{end}}{{range .EmbedFiles}}{{.}},{{end}}{{range .CFiles}}{{.}},{{end}}{{range .HFiles}}{{.}},{{end}}{{range .SFiles}}{{.}},{{end}}{{range .SysoFiles}}{{.}},{{end}}{{end}}`

// sourceKey hashes what the build depends on: the go version and platform,
// and for each non-standard package in the dependency graph either its
// module version (modules in the module cache are immutable) or, for the
// main module and packages outside modules, the content of its files and of
// go.mod.
func (g *goRunner) sourceKey(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, g.opts.Go.GoBinary, "list", "-deps", "-f", listTemplate, ".")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return "", ctxStopErr(ctx)
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", actionErr(ErrNameGoBuildFailed, false, "go list in %s: %s", dir, strings.TrimSpace(stderr.String()))
		}
		return "", actionErr(ErrNameStartFailed, false, "running %s list: %w", g.opts.Go.GoBinary, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s/%s\n", g.goVersion(ctx), runtime.GOOS, runtime.GOARCH)
	hashed := map[string]bool{}
	hashFile := func(path string) error {
		if path == "" || hashed[path] {
			return nil
		}
		hashed[path] = true
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		fmt.Fprintf(h, "file %s\n", path)
		_, err = io.Copy(h, f)
		return err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" {
			continue
		}
		fields := strings.Split(line, "|")
		if len(fields) != 6 {
			continue
		}
		pkgDir, mod, isMain, gomod, files := fields[1], fields[2], fields[3], fields[4], fields[5]
		fmt.Fprintf(h, "pkg %s\n", fields[0])
		if mod != "" && isMain != "true" {
			fmt.Fprintf(h, "mod %s\n", mod)
			continue
		}
		if err := hashFile(gomod); err != nil {
			return "", actionErr(ErrNameStartFailed, false, "hashing %s: %w", gomod, err)
		}
		if gomod != "" {
			_ = hashFile(strings.TrimSuffix(gomod, ".mod") + ".sum")
		}
		for _, f := range strings.Split(files, ",") {
			if f == "" {
				continue
			}
			if err := hashFile(filepath.Join(pkgDir, f)); err != nil {
				return "", actionErr(ErrNameStartFailed, false, "hashing %s: %w", f, err)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// goVersion returns the toolchain's version and build settings, read once.
func (g *goRunner) goVersion(ctx context.Context) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.version != "" {
		return g.version
	}
	out, err := exec.CommandContext(ctx, g.opts.Go.GoBinary, "env", "GOVERSION", "GOFLAGS", "GOEXPERIMENT", "CGO_ENABLED").Output()
	if err != nil {
		return "unknown"
	}
	g.version = strings.TrimSpace(string(out))
	return g.version
}
