// Package jsonata implements JSONata 2.0.6 (the version AWS Step Functions
// runs) in Go, with Step Functions' changes: the functions $partition,
// $range, $hash, $random(seed), $uuid and $parse are added and $eval is not
// available.
//
// Compile an expression once and evaluate it many times:
//
//	e, err := jsonata.Compile(`Account.Order.Product.(Price * Quantity) ~> $sum()`)
//	v, err := e.Eval(ctx, input, nil)
//
// # Values
//
// Inputs and results are plain Go JSON values as encoding/json decodes them
// into any: nil (JSON null), bool, float64, string, []any and map[string]any;
// inputs may also hold json.Number and Go integer types. An undefined result
// (no value) is reported as ErrUndefined, distinct from JSON null; the input
// NoInput means "no input document". Numbers are IEEE doubles with
// JavaScript's semantics (integers print without a fraction, $string uses
// 15 significant digits). EvalJSON works on JSON text and keeps the key
// order of objects as JSONata produces it.
//
// # Errors and limits
//
// Errors are *Error values carrying jsonata-js's codes (S0xxx syntax,
// T0xxx-T2xxx type, D1xxx-D3xxx dynamic) and the position in the expression
// (in characters, at the end of the offending token, as jsonata-js reports
// it). Codes BWC adds: U1001 a limit was exceeded (WithMaxDepth, default
// DefaultMaxDepth; WithTimeLimit), U1002 the context was cancelled, U1000 an
// internal error (a recovered panic), S0303 a regular expression that Go's
// RE2 engine cannot run (lookaround, backreferences). $eval is not available
// (T1006, as calling any undefined function). Strings are bounded to 2^29
// bytes and the range operator to 1e7 items, so hostile expressions end with
// an error, never a hang or a crash.
//
// # Differences from jsonata-js that cannot be avoided
//
// Go strings are UTF-8: lone UTF-16 surrogates cannot be represented.
// Regular expressions are translated from JavaScript syntax to RE2.
// Objects given to Eval as Go maps have no key order: their keys are read
// in sorted order (EvalJSON keeps the document's order).
//
// # Concurrency
//
// An *Expr is immutable after Compile and safe for concurrent use by
// multiple goroutines; each Eval has its own state. Functions registered
// with WithFunction, WithClock and WithRandom must be safe for concurrent
// use.
package jsonata
