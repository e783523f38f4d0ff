package runner_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/runner"
	"github.com/bwc-project/bwc/internal/store"
)

func TestNewRequest(t *testing.T) {
	two := 2
	a := &pack.Action{Ref: "ops.deploy", RunnerType: runner.TypeLocalShellScript, EntryPointPath: "packs/ops/actions/scripts/deploy.sh",
		Effective: []*pack.Parameter{
			{Name: "host", Type: "string", Position: &two},
			{Name: "token", Type: "string|null", Secret: true},
			{Name: "timeout", Type: "integer", Runner: runner.TypeLocalShellScript},
		}}
	ex := store.Execution{ID: "ex-1", ParentID: "wf-1", Context: store.ExecutionContext{User: "u", Rule: "r", TriggerInstanceID: "ti", TraceTag: "tt", WorkflowTask: "t"}}
	req := runner.NewRequest(ex, a, map[string]any{"host": "web-1", "token": "s3cret", "timeout": 5, "undeclared": 1}, "http://api")
	abs, _ := filepath.Abs("packs/ops/actions/scripts/deploy.sh")
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"execution id", req.ExecutionID, "ex-1"},
		{"entry point", req.Action.EntryPoint, abs},
		{"pack dir", req.Action.PackDir, filepath.Dir(filepath.Dir(filepath.Dir(abs)))},
		{"parameters", req.Parameters, map[string]any{"host": "web-1", "token": "s3cret"}},
		{"runner parameters", req.RunnerParameters, map[string]any{"timeout": 5}},
		{"parameter info", req.Action.Parameters, map[string]runner.ParameterInfo{
			"host": {Type: "string", Position: &two}, "token": {Type: "string", Secret: true}, "timeout": {Type: "integer"}}},
		{"context", req.Context, map[string]any{"user": "u", "rule": "r", "trigger_instance_id": "ti", "trace_tag": "tt", "parent_id": "wf-1", "workflow_task": "t"}},
		{"api url", req.APIURL, "http://api"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%v, want %v", c.got, c.want)
			}
		})
	}
}

func TestWithError(t *testing.T) {
	e := map[string]any{"name": "bwc.ActionFailed", "message": "boom"}
	for _, tc := range []struct {
		name string
		v    any
		want any
	}{
		{"an object", map[string]any{"stdout": "x"}, map[string]any{"stdout": "x", "error": e}},
		{"nothing", nil, map[string]any{"error": e}},
		{"a scalar", 4, map[string]any{"result": 4, "error": e}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runner.WithError(tc.v, "bwc.ActionFailed", "boom"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("WithError = %v, want %v", got, tc.want)
			}
		})
	}
	wrapped := &runner.ActionError{Name: "bwc.ActionFailed", Err: errors.New("boom")}
	if got := runner.ErrorMessage(wrapped); got != "boom" {
		t.Errorf("ErrorMessage = %q, want the wrapped message", got)
	}
}

type chunkStore struct{ chunks []store.OutputChunk }

func (s *chunkStore) AppendOutput(_ context.Context, c store.OutputChunk) error {
	if c.Data == "dup" {
		return store.ErrAlreadyExists
	}
	if c.Data == "bad" {
		return errors.New("disk full")
	}
	s.chunks = append(s.chunks, c)
	return nil
}

func TestStoreOutput(t *testing.T) {
	st := &chunkStore{}
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	var failed []int64
	out := runner.StoreOutput(context.Background(), st, "ex-1", func() time.Time { return at }, func(seq int64, _ error) { failed = append(failed, seq) })
	out(runner.Chunk{Stream: runner.StreamStdout, Data: []byte("a")})
	out(runner.Chunk{Stream: runner.StreamStderr, Data: []byte("dup")})
	out(runner.Chunk{Stream: runner.StreamStdout, Data: []byte("bad")})
	out(runner.Chunk{Stream: runner.StreamStdout, Data: []byte("b"), Host: "h1"})
	want := []store.OutputChunk{
		{ExecutionID: "ex-1", Seq: 1, Stream: store.Stdout, Data: "a", At: at},
		{ExecutionID: "ex-1", Seq: 4, Stream: store.Stdout, Data: "h1: b", At: at},
	}
	if !reflect.DeepEqual(st.chunks, want) {
		t.Errorf("stored %+v, want %+v", st.chunks, want)
	}
	if !reflect.DeepEqual(failed, []int64{3}) {
		t.Errorf("failures reported for chunks %v, want [3] (a redelivered chunk is no failure)", failed)
	}
}
