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
// internal error (a recovered panic), U1003 a path step after null picked
// out of an array constructor (`[null][0].a`, a TypeError in jsonata-js),
// S0303 a regular expression that Go's RE2 engine cannot run (lookaround,
// backreferences). $eval is not bound, as
// in Step Functions: calling it is T1006, as calling any undefined function.
// Strings are bounded to 2^29 bytes, the range operator to 1e7 items and
// picture widths to 10,000 digits, so hostile expressions end with an
// error, never a hang or a crash.
//
// # Pictures, dates and the clock
//
// $formatNumber, $formatBase, $formatInteger, $parseInteger, $fromMillis,
// $toMillis and $now follow jsonata-js 2.0.6's reading of the XPath F&O 3.1
// picture strings, quirks included. $now() and $millis() read the clock
// (WithClock) once per evaluation, so every call in one evaluation sees the
// same instant; $toMillis with a picture that leaves out the date takes it
// from that instant too.
//
// # Differences from jsonata-js that cannot be avoided
//
// Go strings are UTF-8: lone UTF-16 surrogates cannot be represented.
// Regular expressions are translated from JavaScript syntax to RE2.
// Objects given to Eval as Go maps have no key order: their keys are read
// in sorted order (EvalJSON keeps the document's order). $toMillis reads an
// ISO 8601 timestamp without an offset as UTC (jsonata-js uses the host's
// local time zone; Step Functions runs in UTC). Where jsonata-js never
// returns ($formatNumber with an exponent picture on zero or a negative
// number) or fails with a JavaScript error of its own (a TypeError, a
// stack overflow), BWC returns a result or a JSONata error.
//
// # Concurrency
//
// An *Expr is immutable after Compile and safe for concurrent use by
// multiple goroutines; each Eval has its own state. Functions registered
// with WithFunction, WithClock and WithRandom must be safe for concurrent
// use.
package jsonata
