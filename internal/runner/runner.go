package runner

import (
	"context"
	"time"
)

// Runner type names (st2's, plus go).
const (
	TypeLocalShellCmd     = "local-shell-cmd"
	TypeLocalShellScript  = "local-shell-script"
	TypeRemoteShellCmd    = "remote-shell-cmd"
	TypeRemoteShellScript = "remote-shell-script"
	TypeHTTPRequest       = "http-request"
	TypeNoop              = "noop"
	TypeGo                = "go"
)

// Output stream names used in [Chunk].
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// Runner runs one action execution.
//
// Run returns when the action has finished, timed out or been canceled.
// Outcomes:
//   - success: a Result and a nil error;
//   - the action ran and failed (non-zero exit, HTTP status outside 2xx, a Go
//     action that returned an error, a timeout, a cancellation): a Result when
//     there is one (the shell shape with the exit code, the HTTP response...)
//     and an *ActionError naming the failure;
//   - the action could not start (bad runner parameters, missing entry point,
//     build failure, connection failure): a zero Result and an *ActionError.
//
// Every error Run returns is an *ActionError.
type Runner interface {
	Run(ctx context.Context, req Request) (Result, error)
}

// Request is one execution of an action, as the engine resolved it.
type Request struct {
	// ExecutionID identifies the execution (BWC_EXECUTION_ID in the
	// environment of local processes).
	ExecutionID string
	// Action is the action being run.
	Action Action
	// Parameters are the action's parameters, validated and defaulted by the
	// engine. Runner parameters do not belong here, but for st2
	// compatibility a runner parameter found only here is used too.
	Parameters map[string]any
	// RunnerParameters are the values of the runner type's own parameters
	// (cmd, timeout, cwd, env, hosts, url, ...; see [ParameterSpecs]).
	RunnerParameters map[string]any
	// Context is the execution context (user, rule, trace tag, parent...),
	// passed through to Go actions.
	Context map[string]any
	// Env is extra environment for local processes (added after the
	// runner's own BWC_* variables and before the runner parameter env).
	Env map[string]string
	// APIURL is the URL of BWC's API (BWC_API_URL and ST2_ACTION_API_URL).
	APIURL string
	// Output receives stdout and stderr while the action runs; nil discards.
	// See the package documentation for its calling contract. It should
	// return quickly: while it runs, the action's output pipes fill and the
	// action waits.
	Output func(Chunk)
	// Secrets resolves the *_ref runner parameters (SSH keys, passwords)
	// from the datastore; nil when the engine has none.
	Secrets Secrets
}

// Action is what the engine knows of the action's metadata.
type Action struct {
	// Ref is the action reference, pack.name.
	Ref string
	// RunnerType selects the runner (see the Type* constants).
	RunnerType string
	// EntryPoint is the absolute path of the script or of the Go action's
	// main.go (or its directory); empty for runners that have none.
	EntryPoint string
	// PackDir is the absolute path of the pack's directory.
	PackDir string
	// Parameters describes the action's parameters: positions, types and
	// which ones are secret.
	Parameters map[string]ParameterInfo
}

// ParameterInfo is the part of an action parameter's schema that runners use.
type ParameterInfo struct {
	// Type is the JSON Schema type (string, integer, number, boolean, array,
	// object); it selects the serialisation of positional arguments.
	Type string
	// Position, when set, makes the parameter a positional argument of a
	// script, in increasing order.
	Position *int
	// Secret marks values to mask in output, results and errors.
	Secret bool
}

// Chunk is a piece of an action's output.
type Chunk struct {
	// Host is the remote host for remote runners, empty for local ones.
	Host string
	// Stream is StreamStdout or StreamStderr.
	Stream string
	// Data is the bytes read, secrets masked.
	Data []byte
}

// Result is what an execution produced. Value is the JSON-shaped result
// (maps, slices, strings, float64/int, bools, nil) that becomes the
// execution's result.
type Result struct {
	Value any
}

// Secrets looks up a secret value by its datastore name.
//
// Get returns the value, or an error (wrapping the store's not-found error
// when there is no such secret).
type Secrets interface {
	Get(ctx context.Context, name string) (string, error)
}

// SecretsFunc adapts a function to [Secrets].
type SecretsFunc func(ctx context.Context, name string) (string, error)

// Get calls f.
func (f SecretsFunc) Get(ctx context.Context, name string) (string, error) { return f(ctx, name) }

// Clock is the time source runners use for timeouts and kill grace periods.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer made by a [Clock].
type Timer interface {
	// C delivers the time when the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer returns a real timer.
func (SystemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }
