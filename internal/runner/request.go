package runner

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/store"
)

// NewRequest builds the request that runs execution ex of action a with
// params (validated and defaulted, secret values in clear), as both
// engines run it: each parameter the action declares goes to Parameters,
// or to RunnerParameters when it is a parameter of the runner type, with
// its type, position and secret flag in Action.Parameters; the context
// names who and what started the execution; apiURL is BWC_API_URL. The
// caller sets Output (and Env, Secrets) when it needs them.
func NewRequest(ex store.Execution, a *pack.Action, params map[string]any, apiURL string) Request {
	req := Request{
		ExecutionID: ex.ID,
		Action: Action{
			Ref:        a.Ref,
			RunnerType: a.RunnerType,
			EntryPoint: absPath(a.EntryPointPath),
			Parameters: map[string]ParameterInfo{},
		},
		Parameters:       map[string]any{},
		RunnerParameters: map[string]any{},
		Context: map[string]any{
			"user":                ex.Context.User,
			"rule":                ex.Context.Rule,
			"trigger_instance_id": ex.Context.TriggerInstanceID,
			"trace_tag":           ex.Context.TraceTag,
			"parent_id":           ex.ParentID,
			"workflow_task":       ex.Context.WorkflowTask,
		},
		APIURL: apiURL,
	}
	if a.EntryPointPath != "" {
		req.Action.PackDir = packDir(req.Action.EntryPoint)
	}
	for _, p := range a.Effective {
		typ, _, _ := strings.Cut(p.Type, "|")
		req.Action.Parameters[p.Name] = ParameterInfo{Type: typ, Position: p.Position, Secret: p.Secret}
		v, ok := params[p.Name]
		if !ok {
			continue
		}
		if p.Runner != "" {
			req.RunnerParameters[p.Name] = v
		} else {
			req.Parameters[p.Name] = v
		}
	}
	return req
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(filepath.FromSlash(p)); err == nil {
		return abs
	}
	return p
}

// packDir finds the pack directory above an entry point: the parent of the
// "actions" directory.
func packDir(entry string) string {
	dir := filepath.Dir(entry)
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if filepath.Base(d) == "actions" {
			return filepath.Dir(d)
		}
	}
	return dir
}

// WithError returns the result an execution that failed is recorded with,
// in both engines: v (the action's own result) with {"error": {"name",
// "message"}} added; a result that is not an object is kept under
// "result".
func WithError(v any, name, message string) any {
	e := map[string]any{"name": name, "message": message}
	switch m := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(m)+1)
		for k, x := range m {
			out[k] = x
		}
		out["error"] = e
		return out
	case nil:
		return map[string]any{"error": e}
	default:
		return map[string]any{"result": v, "error": e}
	}
}

// ErrorMessage is the message of err without its stable name: for an
// [*ActionError], the message of the error it wraps.
func ErrorMessage(err error) string {
	var ae *ActionError
	if errors.As(err, &ae) && ae.Err != nil {
		return ae.Err.Error()
	}
	return err.Error()
}
