package jsonata

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"
)

// Expr is a compiled JSONata expression. It is immutable: Eval may be called
// from many goroutines at once.
type Expr struct {
	src       string
	ast       *node
	lib       *env // function library, read-only after Compile
	maxDepth  int
	timeLimit time.Duration
	clock     func() time.Time
	random    func() float64
	maxRange  float64 // largest sequence the range operator builds (tests lower it)
}

// Option configures Compile.
type Option func(*config) error

type config struct {
	extra     []fnDef
	maxDepth  int
	timeLimit time.Duration
	clock     func() time.Time
	random    func() float64
}

// noInputMarker is the type of NoInput.
type noInputMarker struct{}

// NoInput passed as the input of Eval means "no input document" (JavaScript
// undefined, `dataset: null` in the jsonata-js test suite): paths evaluate to
// undefined and `$` is undefined. A nil input is JSON null.
var NoInput any = noInputMarker{}

// WithFunction registers an extra function, callable as $name, with a
// signature in JSONata syntax (e.g. "<s-:s>"; "" for no validation). The
// function receives the validated arguments as plain Go JSON values (nil
// for undefined or null, bool, float64, string, []any, map[string]any) and
// returns such a value; returning (nil, nil) means undefined. It must be
// safe for concurrent use. A registered name shadows a built-in one. An
// error it returns ends the evaluation with an *Error (code D3137, unless
// it is itself an *Error) that wraps it.
func WithFunction(name, signature string, fn func(ctx context.Context, args []any) (any, error)) Option {
	return func(c *config) error {
		if name == "" || fn == nil {
			return fmt.Errorf("registering function %q: name and function are required", name)
		}
		c.extra = append(c.extra, fnDef{name: name, sig: signature, fn: func(cl call, args []any) (any, error) {
			plain := make([]any, len(args))
			for i, a := range args {
				plain[i] = toGo(a)
			}
			res, err := fn(cl.st.ctx, plain)
			if err != nil {
				var je *Error
				if errors.As(err, &je) {
					return nil, je
				}
				return nil, &Error{Code: "D3137", Token: name, Value: err.Error(), Message: fmt.Sprintf("$%s: %v", name, err), cause: err}
			}
			if res == nil {
				return nil, nil
			}
			return fromGo(res)
		}})
		return nil
	}
}

// DefaultMaxDepth is the evaluation depth limit when WithMaxDepth is not
// given: deep enough for thousands of levels of non-tail recursion (tail
// calls do not count), shallow enough to keep the Go stack small.
const DefaultMaxDepth = 20000

// maxStringLength bounds the strings an evaluation builds (as JavaScript
// engines do, about 2^29 characters), so a doubling loop ends with an error
// instead of exhausting memory.
const maxStringLength = 1 << 29

// WithMaxDepth limits the nesting depth of evaluation (AST node evaluations,
// as jsonata-js counts them); beyond it Eval fails with U1001. 0 means
// DefaultMaxDepth.
func WithMaxDepth(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("max depth %d: must not be negative", n)
		}
		c.maxDepth = n
		return nil
	}
}

// WithTimeLimit bounds the wall-clock time of each Eval; beyond it Eval
// fails with U1001. 0 means no limit.
func WithTimeLimit(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("time limit %v: must not be negative", d)
		}
		c.timeLimit = d
		return nil
	}
}

// WithClock sets the clock read by $now() and $millis() (once per Eval, as
// jsonata-js does). The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		c.clock = now
		return nil
	}
}

// WithRandom sets the source of $random(), $shuffle() and $uuid(): a
// function returning numbers in [0, 1), safe for concurrent use.
func WithRandom(r func() float64) Option {
	return func(c *config) error {
		c.random = r
		return nil
	}
}

// Compile parses src, in Step Functions' flavour of JSONata 2.0.6. Syntax
// errors are returned as *Error with jsonata-js's S0xxx codes.
func Compile(src string, opts ...Option) (*Expr, error) {
	var cfg config
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("compiling JSONata: %w", err)
		}
	}
	ast, err := parse(src)
	if err != nil {
		return nil, err
	}
	boxLiterals(ast)
	lib := &env{vars: map[string]any{}}
	for _, d := range append(library(), cfg.extra...) {
		b := &builtin{name: d.name, arity: d.arity, fn: d.fn}
		if d.sig != "" {
			sig, serr := parseSignature(d.sig)
			if serr != nil {
				return nil, fmt.Errorf("compiling signature %q of $%s: %w", d.sig, d.name, serr)
			}
			b.sig = sig
			if b.arity == 0 {
				b.arity = len(sig.params)
			}
		}
		lib.vars[d.name] = b
	}
	for _, d := range pictureFunctions() {
		sig, serr := parseSignature(d.sig)
		if serr != nil {
			return nil, fmt.Errorf("compiling signature %q of $%s: %w", d.sig, d.name, serr)
		}
		if _, taken := lib.vars[d.name]; !taken {
			lib.vars[d.name] = &builtin{name: d.name, arity: d.arity, fn: d.fn, sig: sig}
		}
	}
	return &Expr{src: src, ast: ast, lib: lib, maxDepth: cfg.maxDepth, timeLimit: cfg.timeLimit,
		clock: cfg.clock, random: cfg.random}, nil
}

// MustCompile is Compile that panics on error, for expressions known at
// build time.
func MustCompile(src string, opts ...Option) *Expr {
	e, err := Compile(src, opts...)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the source of the expression.
func (e *Expr) String() string { return e.src }

// Eval evaluates the expression against input (plain Go JSON values as
// encoding/json decodes into any; json.Number and Go integer types are
// accepted; NoInput for no input) with the given variable bindings (name
// without '$' → value; values may also be functions returned by earlier
// results). It returns plain Go JSON values: nil for JSON null, bool,
// float64, string, []any, map[string]any. An undefined result is
// (nil, ErrUndefined). Errors are *Error; cancellation of ctx ends the
// evaluation with an *Error (code U1002) wrapping nothing else.
func (e *Expr) Eval(ctx context.Context, input any, bindings map[string]any) (any, error) {
	var in any
	if _, none := input.(noInputMarker); !none {
		in = norm(input)
	}
	res, err := e.eval(ctx, in, bindings)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, ErrUndefined
	}
	return toGo(res), nil
}

// EvalJSON is Eval for JSON text: input is a JSON document (nil or empty
// for no input) and the result is JSON with object keys in the order
// JSONata produces them and numbers printed as JavaScript prints them. An
// undefined result is (nil, ErrUndefined).
func (e *Expr) EvalJSON(ctx context.Context, input []byte, bindings map[string]any) ([]byte, error) {
	var in any
	if len(input) > 0 {
		v, err := parseJSON(input)
		if err != nil {
			return nil, fmt.Errorf("reading input: %w", err)
		}
		in = v
	}
	res, err := e.eval(ctx, in, bindings)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, ErrUndefined
	}
	return marshalJSON(res)
}

func (e *Expr) eval(ctx context.Context, in any, bindings map[string]any) (res any, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	defer func() {
		// a bug in the evaluator must not take the host process down
		if r := recover(); r != nil {
			res, err = nil, &Error{Code: "U1000", Value: fmt.Sprint(r),
				Message: fmt.Sprintf("internal error evaluating %q: %v", e.src, r)}
		}
	}()
	st := &evalState{ctx: ctx, maxDepth: e.maxDepth, clock: e.clock, expr: e, maxRange: e.maxRange}
	if st.maxDepth == 0 {
		st.maxDepth = DefaultMaxDepth
	}
	if st.maxRange == 0 {
		st.maxRange = 1e7
	}
	if st.clock == nil {
		st.clock = time.Now
	}
	st.rand = e.random
	if st.rand == nil {
		st.rand = mrand.Float64
	}
	if e.timeLimit > 0 {
		st.hasLimit = true
		st.deadline = time.Now().Add(e.timeLimit)
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Code: "U1002", Value: err.Error(), Message: "evaluation cancelled: " + err.Error(), cause: err}
	}
	root := &env{parent: e.lib, st: st, vars: make(map[string]any, len(bindings)+1)}
	for k, v := range bindings {
		root.vars[k] = norm(v)
	}
	if a, ok := in.(*array); ok && !a.seq {
		w := newSeq(a)
		w.outer = true
		in = w
	}
	root.vars["$"] = in
	return st.eval(e.ast, in, root)
}

func (st *evalState) nowTime() time.Time {
	if !st.nowSet {
		st.now = st.clock()
		st.nowSet = true
	}
	return st.now
}
