package enforcer_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/store"
)

// rerunStore is one stored execution with the secrets kept for it.
type rerunStore struct {
	ex      store.Execution
	kept    map[string]any
	keptErr error
}

func (s rerunStore) GetExecution(_ context.Context, id string) (store.Execution, error) {
	if id != s.ex.ID {
		return store.Execution{}, store.ErrNotFound
	}
	return s.ex, nil
}

func (s rerunStore) ExecutionSecrets(context.Context, string) (map[string]any, error) {
	return s.kept, s.keptErr
}

type oneAction struct{ a *pack.Action }

func (o oneAction) Action(ref string) *pack.Action {
	if ref == o.a.Ref {
		return o.a
	}
	return nil
}

func TestReRunParameters(t *testing.T) {
	a := &pack.Action{Ref: "ops.deploy", Effective: []*pack.Parameter{
		{Name: "host"},
		{Name: "token", Secret: true},
		{Name: "retries", HasDefault: true, Default: 3},
		{Name: "sudo", Immutable: true, HasDefault: true, Default: false},
	}}
	orig := store.Execution{ID: "ex-1", Action: a.Ref, SecretParameters: []string{"token"},
		Parameters: map[string]any{"host": "web-1", "token": store.Masked, "retries": 3, "sudo": false}}
	for _, tc := range []struct {
		name    string
		kept    map[string]any
		keptErr error
		given   map[string]any
		want    map[string]any
		fail    string // "invalid": a *ParameterError; "error": any other error
	}{
		{name: "the kept secret", kept: map[string]any{"token": "s3cret"},
			want: map[string]any{"host": "web-1", "token": "s3cret"}},
		{name: "a secret given again wins", kept: map[string]any{"token": "s3cret"}, given: map[string]any{"token": "new", "host": "web-2"},
			want: map[string]any{"host": "web-2", "token": "new"}},
		{name: "not kept and not given", kept: map[string]any{}, fail: "invalid"},
		{name: "no cipher, given", keptErr: store.ErrNoCipher, given: map[string]any{"token": "new"},
			want: map[string]any{"host": "web-1", "token": "new"}},
		{name: "not decrypting", keptErr: errors.New("cannot decrypt"), fail: "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := rerunStore{ex: orig, kept: tc.kept, keptErr: tc.keptErr}
			got, params, err := enforcer.ReRunParameters(context.Background(), st, oneAction{a}, "ex-1", tc.given)
			if tc.fail != "" {
				if err == nil || (tc.fail == "invalid") != errors.Is(err, enforcer.ErrInvalidParameters) {
					t.Fatalf("err %v, want a failure (%s)", err, tc.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != "ex-1" || !reflect.DeepEqual(params, tc.want) {
				t.Errorf("ReRunParameters = %s, %v; want ex-1, %v", got.ID, params, tc.want)
			}
		})
	}
	_, _, err := enforcer.ReRunParameters(context.Background(), rerunStore{ex: orig}, oneAction{a}, "ex-none", nil)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing execution: %v, want store.ErrNotFound", err)
	}
}
