// Package rule compiles BWC rules — StackStorm-style criteria over a trigger
// payload, and action parameters mapped from the trigger — into the artefacts
// both engines run:
//
//   - an Amazon EventBridge event pattern over BWC's event envelope (see
//     Envelope), which selects events on the bus for free, and
//   - a residual JSONata condition for what no pattern operator can say
//     exactly (regular expressions, time differences, case-insensitive
//     substrings, type-dependent st2 semantics), checked by the enforcer, and
//   - JSONata templates for the action parameters, rendered by the enforcer
//     against $trigger (the payload), $event (the envelope) and $rule, with the
//     enforcer's $kv(), $secret() and $config() functions.
//
// The split is exact: for every event, "pattern matches and residual is true"
// holds exactly when StackStorm's operators would match the criteria (see
// docs/rules.md for the few documented deviations). Where the trigger type's
// payload schema pins a field's type, most operators are decided entirely on
// the bus; where it does not, the pattern is a sound pre-filter (it never
// drops an event the criteria would match) and the residual decides.
//
// The package is pure: it imports only the standard library and BWC's
// domain packages. Compile is a function of its inputs; a compiled Set is
// immutable and its JSON form is deterministic. An Evaluator is safe for
// concurrent use.
package rule
