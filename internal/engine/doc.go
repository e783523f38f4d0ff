// Package engine is the embedded engine behind `bwc serve`: it wires the
// packs, the SQLite store, the event bus (package bus), the enforcer
// (package enforcer), the executor, the timers, the custom sensors and the
// HTTP API (package api) of one process, and holds the handlers that the
// AWS Lambdas will host too: the [Executor] (execution start, runs through
// package runner, status transitions, output streaming, core.actiontrigger
// on completion, cancel, re-run, pause and resume, policies), the workflow
// runner (workflows on package asl, each task a child execution through the
// executor, checkpointed after every step) and the inquirer (core.ask).
//
// [Open] loads and compiles the packs, opens the store and builds
// everything; [Engine.Run] recovers what an earlier process left unfinished
// (executions not started are started, workflows resume from their
// checkpoint, pending inquiries wait again, other executions in flight are
// abandoned with the reason, pending trigger instances are delivered again)
// and serves until its context ends. See docs/engine.md.
//
// Ids are derived from what caused them (trigger instance from the event
// id, enforcement from trigger instance and rule, execution from
// enforcement, a workflow task's child from the workflow, state and task
// token), so that every write that starts something is idempotent.
//
// Concurrency: an Engine is built by Open and run once by Run, from one
// goroutine. The Executor is safe for concurrent use: each execution runs
// on its own goroutine, at most ExecutorOptions.MaxRunning at once
// (workflows and inquiries, which wait, take no slot); status changes are
// compare-and-set in the store, so a cancel racing a finishing run leaves
// one consistent final status. A workflow's interpreter state is touched
// only by that workflow's goroutine; task completions reach it through a
// channel.
package engine
