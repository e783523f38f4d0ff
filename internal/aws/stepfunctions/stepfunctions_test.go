package stepfunctions_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/bwc-project/bwc/internal/aws/stepfunctions"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/store"
)

func TestMachineName(t *testing.T) {
	for _, tc := range []struct{ prefix, ref, want string }{
		{"bwc", "examples.remediate_disk", "bwc-examples_remediate_disk"},
		{"bwc", "bwc.action", "bwc-bwc_action"},
		{"prod", "my-pack.a b/c", "prod-my-pack_a_b_c"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := stepfunctions.MachineName(tc.prefix, tc.ref); got != tc.want {
				t.Errorf("MachineName(%q, %q) = %q, want %q", tc.prefix, tc.ref, got, tc.want)
			}
		})
	}
	m := stepfunctions.Machines{Prefix: "bwc", Region: "eu-west-1", Account: "123456789012"}
	arn := m.ExecutionARN("bwc.action", "ex-1")
	if arn != "arn:aws:states:eu-west-1:123456789012:execution:bwc-bwc_action:ex-1" {
		t.Errorf("ExecutionARN = %s", arn)
	}
	if stepfunctions.ExecutionName(arn) != "ex-1" || stepfunctions.MachineNameOf(arn) != "bwc-bwc_action" {
		t.Errorf("ExecutionName/MachineNameOf of %s = %s, %s", arn, stepfunctions.ExecutionName(arn), stepfunctions.MachineNameOf(arn))
	}
}

type fakeSFN struct {
	starts []sfn.StartExecutionInput
	err    error
}

func (f *fakeSFN) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	f.starts = append(f.starts, *in)
	if f.err != nil {
		return nil, f.err
	}
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String("arn")}, nil
}

type memExecutions struct{ m map[string]store.Execution }

func (s *memExecutions) CreateExecution(_ context.Context, e store.Execution) (store.Execution, error) {
	if old, ok := s.m[e.ID]; ok {
		return old, store.ErrAlreadyExists
	}
	s.m[e.ID] = e
	return e, nil
}

func TestStarter(t *testing.T) {
	workflow := &pack.Action{Ref: "examples.remediate_disk", RunnerType: pack.RunnerWorkflow}
	shell := &pack.Action{Ref: "core.local", RunnerType: "local-shell-cmd"}
	machines := stepfunctions.Machines{Prefix: "bwc", Region: "us-east-1", Account: "000000000000",
		IsWorkflow: func(ref string) bool { return ref == workflow.Ref }}
	for _, tc := range []struct {
		name      string
		action    *pack.Action
		sfnErr    error
		wantARN   string
		wantInput string
		wantErr   error
	}{
		{name: "workflow", action: workflow, wantARN: "arn:aws:states:us-east-1:000000000000:stateMachine:bwc-examples_remediate_disk",
			wantInput: `{"host":"h","password":"bwc-secret://ex-1/password"}`},
		{name: "action machine", action: shell, wantARN: "arn:aws:states:us-east-1:000000000000:stateMachine:bwc-bwc_action",
			wantInput: `{"action":"core.local","parameters":{"host":"h","password":"********"},"context":{"user":"u","rule":"r","trigger_instance_id":"ti","trace_tag":"tt"}}`},
		{name: "already started", action: workflow, sfnErr: &types.ExecutionAlreadyExists{Message: aws.String("exists")},
			wantARN: "arn:aws:states:us-east-1:000000000000:stateMachine:bwc-examples_remediate_disk", wantInput: `{"host":"h","password":"bwc-secret://ex-1/password"}`},
		{name: "no machine", action: workflow, sfnErr: &types.StateMachineDoesNotExist{Message: aws.String("gone")}, wantErr: stepfunctions.ErrNoMachine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeSFN{err: tc.sfnErr}
			st := &memExecutions{m: map[string]store.Execution{}}
			s := stepfunctions.NewStarter(api, st, machines, nil)
			ex, err := s.Start(context.Background(), enforcer.StartRequest{
				ExecutionID: "ex-1", Action: tc.action, Parameters: map[string]any{"host": "h", "password": "hunter2"}, Secret: []string{"password"},
				Context: store.ExecutionContext{User: "u", Rule: "r", TriggerInstanceID: "ti", TraceTag: "tt"},
			})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ex.Status != store.StatusScheduled || st.m["ex-1"].Action != tc.action.Ref {
				t.Errorf("recorded %+v", ex)
			}
			in := api.starts[0]
			if aws.ToString(in.StateMachineArn) != tc.wantARN || aws.ToString(in.Name) != "ex-1" {
				t.Errorf("started %s named %s, want %s named ex-1", aws.ToString(in.StateMachineArn), aws.ToString(in.Name), tc.wantARN)
			}
			var got, want any
			_ = json.Unmarshal([]byte(aws.ToString(in.Input)), &got)
			_ = json.Unmarshal([]byte(tc.wantInput), &want)
			if b1, _ := json.Marshal(got); string(b1) != mustJSON(want) {
				t.Errorf("input %s, want %s", aws.ToString(in.Input), tc.wantInput)
			}
			if strings.Contains(aws.ToString(in.Input), "hunter2") {
				t.Errorf("the StartExecution input holds the secret value: %s", aws.ToString(in.Input))
			}
			if st.m["ex-1"].Parameters["password"] != "hunter2" {
				t.Errorf("the store was not given the secret value to keep: %v", st.m["ex-1"].Parameters)
			}
		})
	}
}

func TestSecretRef(t *testing.T) {
	for _, tc := range []struct {
		name      string
		v         any
		id, param string
		ok        bool
	}{
		{"made by SecretRef", store.SecretRef("ex-1", "password"), "ex-1", "password", true},
		{"an id with a slash", store.SecretRef("wf/1", "token"), "wf/1", "token", true},
		{"a plain string", "hunter2", "", "", false},
		{"the mask", store.Masked, "", "", false},
		{"no name", "bwc-secret://ex-1/", "", "", false},
		{"no id", "bwc-secret:///token", "", "", false},
		{"not a string", 42, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, param, ok := store.ParseSecretRef(tc.v)
			if id != tc.id || param != tc.param || ok != tc.ok {
				t.Errorf("ParseSecretRef(%v) = %q, %q, %v; want %q, %q, %v", tc.v, id, param, ok, tc.id, tc.param, tc.ok)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

type fakeTokens struct{ err error }

func (f *fakeTokens) SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	return &sfn.SendTaskSuccessOutput{}, f.err
}

func (f *fakeTokens) SendTaskFailure(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	return &sfn.SendTaskFailureOutput{}, f.err
}

func TestTasksErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		wantGone bool
	}{
		{"answered", nil, false},
		{"task does not exist", &types.TaskDoesNotExist{Message: aws.String("x")}, true},
		{"timed out", &types.TaskTimedOut{Message: aws.String("x")}, true},
		{"invalid token", &types.InvalidToken{Message: aws.String("x")}, true},
		{"other", errors.New("connection reset"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tasks := stepfunctions.NewTasks(&fakeTokens{err: tc.err})
			for _, err := range []error{tasks.Succeed(context.Background(), "tok", map[string]any{"a": 1}), tasks.Fail(context.Background(), "tok", "bwc.X", "why")} {
				if (err == nil) != (tc.err == nil) {
					t.Errorf("err %v for SDK error %v", err, tc.err)
				}
				if errors.Is(err, stepfunctions.ErrTaskGone) != tc.wantGone || (tc.wantGone && !errors.Is(err, store.ErrConflict)) {
					t.Errorf("err %v: ErrTaskGone %v, want %v", err, errors.Is(err, stepfunctions.ErrTaskGone), tc.wantGone)
				}
			}
		})
	}
}

// TestStarterInputTooLarge: parameters over Step Functions' 256 KiB input
// fail with ErrInputTooLarge, before an execution is recorded or a call
// made (a recorded one would stay scheduled for ever).
func TestStarterInputTooLarge(t *testing.T) {
	shell := &pack.Action{Ref: "core.local", RunnerType: "local-shell-cmd"}
	machines := stepfunctions.Machines{Prefix: "bwc", Region: "us-east-1", Account: "000000000000", IsWorkflow: func(string) bool { return false }}
	for _, tc := range []struct {
		name    string
		size    int
		wantErr error
	}{
		{name: "under the limit", size: stepfunctions.MaxInputBytes - 1024},
		{name: "over the limit", size: stepfunctions.MaxInputBytes, wantErr: stepfunctions.ErrInputTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeSFN{}
			st := &memExecutions{m: map[string]store.Execution{}}
			_, err := stepfunctions.NewStarter(api, st, machines, nil).Start(context.Background(), enforcer.StartRequest{
				ExecutionID: "ex-big", Action: shell, Parameters: map[string]any{"cmd": strings.Repeat("x", tc.size)},
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil {
				return
			}
			if !strings.Contains(err.Error(), "ex-big") || !errors.Is(err, store.ErrInvalid) || len(st.m) != 0 || len(api.starts) != 0 {
				t.Errorf("err %q, %d recorded, %d started: want a message naming the execution, nothing recorded or started", err, len(st.m), len(api.starts))
			}
		})
	}
}
