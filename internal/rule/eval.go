package rule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bwc-project/bwc/internal/jsonata"
	"github.com/bwc-project/bwc/internal/pattern"
)

// Functions are the enforcer's functions that parameter templates and
// residual conditions may call. A nil function makes a call to it fail with
// an error that says it is not available.
type Functions struct {
	// KV reads a datastore value: $kv(scope, key), scope "system" or "user".
	KV func(ctx context.Context, scope, key string) (any, error)
	// Secret reads and decrypts a secret datastore value: $secret(key).
	Secret func(ctx context.Context, key string) (any, error)
	// Config reads a value of the rule's pack configuration: $config(key).
	Config func(ctx context.Context, pack, key string) (any, error)
	// Now is the clock of $now() and $millis() (time.Now when nil).
	Now func() time.Time
}

// Evaluator runs one compiled rule: its pattern, its residual and its
// parameter templates. It is safe for concurrent use.
type Evaluator struct {
	c        *Compiled
	pattern  *pattern.Pattern
	residual *jsonata.Expr
	critBus  []*pattern.Pattern
	critRes  []*jsonata.Expr
	params   any // the parameter structure with *jsonata.Expr in place of templates
}

// NewEvaluator prepares a compiled rule for evaluation with the given
// functions.
func NewEvaluator(c *Compiled, fns Functions) (*Evaluator, error) {
	opts := FunctionOptions(c.Pack, fns)
	e := &Evaluator{c: c}
	p, err := pattern.Parse(c.Pattern)
	if err != nil {
		return nil, fmt.Errorf("rule %s: compiled pattern is invalid: %w", c.Ref, err)
	}
	e.pattern = p
	if c.Residual != "" {
		if e.residual, err = jsonata.Compile(c.Residual, opts...); err != nil {
			return nil, fmt.Errorf("rule %s: residual condition: %w", c.Ref, err)
		}
	}
	e.critBus = make([]*pattern.Pattern, len(c.Criteria))
	e.critRes = make([]*jsonata.Expr, len(c.Criteria))
	for i, cp := range c.Criteria {
		if cp.Bus != nil {
			if e.critBus[i], err = pattern.Parse(fieldPattern(cp.BusPath, cp.Bus)); err != nil {
				return nil, fmt.Errorf("rule %s: criterion %s: %w", c.Ref, cp.Key, err)
			}
		}
		if cp.Residual != "" {
			if e.critRes[i], err = jsonata.Compile(cp.Residual, opts...); err != nil {
				return nil, fmt.Errorf("rule %s: criterion %s: %w", c.Ref, cp.Key, err)
			}
		}
	}
	if e.params, err = compileTemplates(c.Action.Parameters, "action.parameters", opts); err != nil {
		return nil, fmt.Errorf("rule %s: %w", c.Ref, err)
	}
	return e, nil
}

// FunctionOptions registers the enforcer's functions ($kv, $secret,
// $config for the given pack) and clock with a JSONata expression. The
// enforcer's parameter defaults use it too, so templates see the same
// functions wherever they are evaluated.
func FunctionOptions(pack string, fns Functions) []jsonata.Option {
	unavailable := func(name string) error {
		return fmt.Errorf("$%s() is not available here", name)
	}
	opts := []jsonata.Option{
		jsonata.WithFunction("kv", "<ss:x>", func(ctx context.Context, args []any) (any, error) {
			if fns.KV == nil {
				return nil, unavailable("kv")
			}
			scope, _ := args[0].(string)
			key, _ := args[1].(string)
			return fns.KV(ctx, scope, key)
		}),
		jsonata.WithFunction("secret", "<s:x>", func(ctx context.Context, args []any) (any, error) {
			if fns.Secret == nil {
				return nil, unavailable("secret")
			}
			key, _ := args[0].(string)
			return fns.Secret(ctx, key)
		}),
		jsonata.WithFunction("config", "<s:x>", func(ctx context.Context, args []any) (any, error) {
			if fns.Config == nil {
				return nil, unavailable("config")
			}
			key, _ := args[0].(string)
			return fns.Config(ctx, pack, key)
		}),
	}
	if fns.Now != nil {
		opts = append(opts, jsonata.WithClock(fns.Now))
	}
	return opts
}

// fieldPattern builds a one-field event pattern from a dotted path.
func fieldPattern(path string, matchers json.RawMessage) []byte {
	segs := splitPath(path)
	out := string(matchers)
	for i := len(segs) - 1; i >= 0; i-- {
		k, _ := json.Marshal(segs[i])
		out = "{" + string(k) + ":" + out + "}"
	}
	return []byte(out)
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// bindings are the variables of residual conditions and templates.
func (e *Evaluator) bindings(env Envelope) (map[string]any, error) {
	raw, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encoding event: %w", err)
	}
	var event map[string]any
	if err := json.Unmarshal(raw, &event); err != nil {
		return nil, fmt.Errorf("decoding event: %w", err)
	}
	detail, _ := event["detail"].(map[string]any)
	payload := detail["payload"]
	if payload == nil {
		payload = map[string]any{}
	}
	return map[string]any{
		"trigger": payload,
		"event":   event,
		"rule":    map[string]any{"ref": e.c.Ref, "pack": e.c.Pack, "name": e.c.Name},
	}, nil
}

// MatchesPattern reports whether the event (as bytes on the bus) passes the
// rule's event pattern.
func (e *Evaluator) MatchesPattern(event []byte) (bool, error) {
	return pattern.Matches(e.pattern, event)
}

// CheckResidual evaluates the residual condition. A rule without one
// passes. An evaluation error (say, a timestamp that does not parse) is a
// non-match, reported with the error so that it can be recorded.
func (e *Evaluator) CheckResidual(ctx context.Context, env Envelope) (bool, error) {
	if e.residual == nil {
		return true, nil
	}
	b, err := e.bindings(env)
	if err != nil {
		return false, err
	}
	return truthy(e.residual.Eval(ctx, nil, b))
}

func truthy(v any, err error) (bool, error) {
	if errors.Is(err, jsonata.ErrUndefined) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	return ok && b, nil
}

// Match reports whether the rule matches the event: pattern and residual.
func (e *Evaluator) Match(ctx context.Context, env Envelope) (bool, error) {
	raw, err := env.JSON()
	if err != nil {
		return false, fmt.Errorf("encoding event: %w", err)
	}
	ok, err := e.MatchesPattern(raw)
	if err != nil || !ok {
		return false, err
	}
	return e.CheckResidual(ctx, env)
}

// Outcome is the result of one criterion on one event.
type Outcome struct {
	Criterion CriterionPlan `json:"criterion"`
	// Bus is the pattern's answer for the criterion's field (nil when the
	// criterion has no pattern fragment).
	Bus *bool `json:"bus,omitempty"`
	// Residual is the residual's answer (nil when it has none or the bus
	// already said no).
	Residual *bool  `json:"residual,omitempty"`
	Error    string `json:"error,omitempty"`
	Matched  bool   `json:"matched"`
}

// Explain evaluates every criterion on its own, for people: which ones pass
// and where each is decided.
func (e *Evaluator) Explain(ctx context.Context, env Envelope) ([]Outcome, error) {
	raw, err := env.JSON()
	if err != nil {
		return nil, fmt.Errorf("encoding event: %w", err)
	}
	b, err := e.bindings(env)
	if err != nil {
		return nil, err
	}
	out := make([]Outcome, len(e.c.Criteria))
	for i, cp := range e.c.Criteria {
		o := Outcome{Criterion: cp, Matched: true}
		if p := e.critBus[i]; p != nil {
			ok, err := pattern.Matches(p, raw)
			if err != nil {
				o.Error = err.Error()
				ok = false
			}
			o.Bus = &ok
			o.Matched = ok
		}
		if x := e.critRes[i]; x != nil && o.Matched {
			ok, err := truthy(x.Eval(ctx, nil, b))
			if err != nil {
				o.Error = err.Error()
			}
			o.Residual = &ok
			o.Matched = ok
		}
		out[i] = o
	}
	return out, nil
}

// Render evaluates the parameter templates for an event.
func (e *Evaluator) Render(ctx context.Context, env Envelope) (map[string]any, error) {
	b, err := e.bindings(env)
	if err != nil {
		return nil, err
	}
	v, err := renderTemplates(ctx, e.params, b, "action.parameters")
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// compiledTemplate is a JSONata template inside a parameter structure.
type compiledTemplate struct {
	src  string
	expr *jsonata.Expr
}

func compileTemplates(v any, field string, opts []jsonata.Option) (any, error) {
	switch x := v.(type) {
	case string:
		src, ok := TemplateExpr(x)
		if !ok {
			return x, nil
		}
		expr, err := jsonata.Compile(src, opts...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		return &compiledTemplate{src: src, expr: expr}, nil
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			c, err := compileTemplates(el, fmt.Sprintf("%s[%d]", field, i), opts)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			c, err := compileTemplates(x[k], field+"."+k, opts)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	return v, nil
}

// errOmit marks a template whose value is undefined: the parameter is left
// out, so that the action's default applies.
var errOmit = errors.New("omit")

func renderTemplates(ctx context.Context, v any, b map[string]any, field string) (any, error) {
	switch x := v.(type) {
	case *compiledTemplate:
		r, err := x.expr.Eval(ctx, nil, b)
		if errors.Is(err, jsonata.ErrUndefined) {
			return nil, errOmit
		}
		if err != nil {
			return nil, fmt.Errorf("%s: evaluating {%% %s %%}: %w", field, x.src, err)
		}
		return r, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, el := range x {
			r, err := renderTemplates(ctx, el, b, fmt.Sprintf("%s[%d]", field, i))
			if errors.Is(err, errOmit) {
				r, err = nil, nil
			}
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			r, err := renderTemplates(ctx, x[k], b, field+"."+k)
			if errors.Is(err, errOmit) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}
