// Package asl is BWC's interpreter for Amazon States Language: it parses and
// validates Step Functions state machine definitions and runs them, in both
// query languages (JSONPath and JSONata), as the embedded engine's
// replacement for AWS Step Functions.
//
// A definition is parsed once into an immutable *Machine (Parse). An
// *Interpreter, built with New, holds what an execution needs from outside:
// a TaskPort that runs Task states (Lambda functions, service integrations,
// child executions, callbacks), a Clock, and a source of ids and randomness.
// Start begins an execution; Execution.Run advances it until it ends or
// waits (for a timer, a task token, or a pending task). Waiting executions
// are resumed by SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat,
// by the clock passing a timer (Run again, or RunUntilDone with a
// ManualClock), or stopped by Stop. The whole state of an execution —
// position of every branch, variables, retry counters, history — serializes
// with Execution.Snapshot and is restored by Interpreter.Resume, so an
// execution survives a restart of the process that runs it.
//
// Concurrency: a *Machine is safe for concurrent use. An *Execution is not:
// callers serialize calls on one execution (the embedded engine holds one
// lock per execution). Different executions run independently. Parallel
// branches and Map iterations run interleaved on the calling goroutine, in
// a deterministic order, so a history is reproducible.
//
// The package imports only the standard library and internal/jsonata: no
// AWS SDK, no I/O. What a task does is the TaskPort's business.
package asl
