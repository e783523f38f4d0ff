package enforcer

import (
	"context"
	"errors"
	"fmt"

	"github.com/bwc-project/bwc/internal/store"
)

// ExecutionReader reads executions and their secret parameters;
// store.Executions satisfies it.
type ExecutionReader interface {
	GetExecution(ctx context.Context, id string) (store.Execution, error)
	ExecutionSecrets(ctx context.Context, id string) (map[string]any, error)
}

// ReRunParameters returns execution id as stored and the parameters a
// re-run of it starts with, as both engines re-run: its stored parameters
// without the immutable ones and those equal to their default (both are
// filled in again by validation), the values the store kept for its secret
// parameters (store.ExecutionSecrets) in place of their masks, then given
// on top. Outcomes: the execution and the parameters; store.ErrNotFound; a
// *ParameterError naming each secret parameter whose value was not kept
// (a store without a cipher) and is not given; a storage or cipher error.
func ReRunParameters(ctx context.Context, st ExecutionReader, actions Actions, id string, given map[string]any) (store.Execution, map[string]any, error) {
	orig, err := st.GetExecution(ctx, id)
	if err != nil {
		return store.Execution{}, nil, fmt.Errorf("re-running %s: %w", id, err)
	}
	merged := map[string]any{}
	a := actions.Action(orig.Action)
	for k, v := range orig.Parameters {
		if a != nil {
			if p := a.Param(k); p != nil && (p.Immutable || (p.HasDefault && sameJSON(p.Default, v))) {
				continue
			}
		}
		merged[k] = v
	}
	if len(orig.SecretParameters) > 0 {
		kept, err := st.ExecutionSecrets(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNoCipher) {
			return orig, nil, fmt.Errorf("re-running %s: reading its secret parameters: %w", id, err)
		}
		var missing []string
		merged, missing = store.WithSecrets(merged, orig.SecretParameters, kept)
		var problems []Problem
		for _, name := range missing {
			if _, ok := given[name]; !ok {
				problems = append(problems, Problem{Pointer: "/" + name, Message: "secret parameter: its value was not kept, give it again"})
			}
		}
		if len(problems) > 0 {
			return orig, nil, &ParameterError{Action: orig.Action, Problems: problems}
		}
	}
	for k, v := range given {
		merged[k] = v
	}
	return orig, merged, nil
}
