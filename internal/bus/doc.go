// Package bus is the embedded engine's event bus: the in-process twin of
// Amazon EventBridge for BWC's trigger events.
//
// [Bus.PutEvents] takes a batch of entries, as EventBridge's PutEvents does,
// and answers one result per entry, in order. Each entry becomes a trigger
// instance that is written durably to the store (through the [Recorder]
// port) before its result says it was accepted; an entry whose event id was
// recorded before is acknowledged again as a duplicate and is not delivered a
// second time. Accepted events are queued and delivered by a pool of
// workers: the compiled EventBridge patterns of the enabled rules
// ([pattern.Matcher]) select the rules, and the [Target] (the enforcer) is
// called once per matching rule. When every matching rule has been handled,
// the trigger instance is marked processed (or processing_failed).
//
// Delivery is at least once: after a crash, [Bus.Redeliver] puts back the
// trigger instances that were recorded but not processed, and the target
// must be idempotent per (trigger instance, rule) — the enforcer is, by its
// enforcement id.
//
// Concurrency: every method is safe for concurrent use. PutEvents blocks
// when the delivery queue is full (backpressure), until the entry is queued
// or ctx ends. SetRules may be called while events flow; each event is
// matched against one consistent set of rules. Start launches the workers;
// Close stops accepting events, lets the workers drain the queue and waits
// for them.
package bus
