package runner_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/runner"
)

type fixedRunner struct{ value any }

func (f fixedRunner) Run(context.Context, runner.Request) (runner.Result, error) {
	return runner.Result{Value: f.value}, nil
}

func TestRegistry(t *testing.T) {
	reg := runner.New(runner.Options{})
	want := []string{"go", "http-request", "local-shell-cmd", "local-shell-script", "noop", "remote-shell-cmd", "remote-shell-script"}
	if got := reg.Types(); !reflect.DeepEqual(got, want) {
		t.Errorf("Types() = %v, want %v", got, want)
	}
	for _, typ := range want {
		if _, ok := runner.ParameterSpecs(typ); !ok {
			t.Errorf("no parameter specs for %s", typ)
		}
	}

	_, err := reg.Run(context.Background(), runner.Request{Action: runner.Action{Ref: "x.y", RunnerType: "mistral-v2"}})
	if got := errName(t, err); got != runner.ErrNameUnknownRunner {
		t.Errorf("unknown runner: error %v", err)
	}

	res, err := reg.Run(context.Background(), runner.Request{Action: runner.Action{RunnerType: runner.TypeNoop}})
	if err != nil || !reflect.DeepEqual(res.Value, map[string]any{"stdout": "", "stderr": "", "return_code": 0, "succeeded": true, "failed": false}) {
		t.Errorf("noop = %#v, %v", res.Value, err)
	}

	// A registered runner's result is masked like the built-in ones'.
	reg.Register("inquirer", fixedRunner{value: map[string]any{"answer": "the password is letmein!"}})
	res, err = reg.Run(context.Background(), runner.Request{
		Action:     runner.Action{RunnerType: "inquirer", Parameters: map[string]runner.ParameterInfo{"pw": {Secret: true}}},
		Parameters: map[string]any{"pw": "letmein!"},
	})
	if err != nil || res.Value.(map[string]any)["answer"] != "the password is ********" {
		t.Errorf("registered runner = %#v, %v", res.Value, err)
	}
}

// TestSecretsMasked: a secret parameter echoed by a command never reaches
// the stream, the result or the error.
func TestSecretsMasked(t *testing.T) {
	const secret = "Tr0ub4dor&3-horse"
	reg := runner.New(runner.Options{})
	rec := newRecorder()
	// The secret is printed in pieces: the stream masker must join them.
	cmd := `printf 'token=Tr0ub'; printf '4dor&3-'; printf 'horse\n'; echo "$TOKEN" >&2; exit 2`
	res, err := reg.Run(context.Background(), runner.Request{
		Action: runner.Action{Ref: "demo.leak", RunnerType: runner.TypeLocalShellCmd,
			Parameters: map[string]runner.ParameterInfo{"token": {Type: "string", Secret: true}}},
		Parameters:       map[string]any{"token": secret},
		RunnerParameters: map[string]any{"cmd": cmd, "env": map[string]any{"TOKEN": secret}},
		Output:           rec.Output,
	})
	if got := errName(t, err); got != runner.ErrNameActionFailed {
		t.Fatalf("error = %v", err)
	}
	v := res.Value.(map[string]any)
	if v["stdout"] != "token="+runner.Masked || v["stderr"] != runner.Masked {
		t.Errorf("result = %#v", v)
	}
	all := rec.all()
	if strings.Contains(all, secret) || strings.Count(all, runner.Masked) != 2 {
		t.Errorf("stream = %q", all)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks the secret: %v", err)
	}
}
