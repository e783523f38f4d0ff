// Package enforcer is the rule enforcement handler: given an event that a
// rule's pattern selected on the bus, it checks the rule's residual
// condition, renders the action parameters from their JSONata templates,
// validates them against the action's parameters (defaults, types, enums,
// required, immutable), records the rule enforcement and starts the
// execution. The embedded engine calls it in-process for each rule the bus
// matched; on AWS the enforcer Lambda calls the same [Enforcer.Enforce].
//
// Enforcement is idempotent: the enforcement id is derived from the trigger
// instance id and the rule, and the execution id from the enforcement id, so
// an event delivered twice (at-least-once delivery, a restart) starts one
// execution. The execution is created before the enforcement is recorded: a
// crash in between leaves an execution whose enforcement the redelivery
// writes.
//
// [Parameters] is the validation on its own, used as well for executions
// started by the API and by workflows. [ReRunParameters] (the parameters of
// a re-run, with the secret values kept for the original) and
// [RespondInquiry] (an inquiry response checked against its schema and
// recorded) are the same checks for the API's re-run and respond, shared
// by both engines.
//
// Concurrency: an [Enforcer] is immutable once built and safe for concurrent
// use; its ports must be too.
package enforcer
