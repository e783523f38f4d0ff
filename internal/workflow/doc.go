// Package workflow reads BWC's workflow language and compiles it to Amazon
// States Language.
//
// The language keeps Orquesta's words — input, vars, output, tasks with
// action, input, next (when, publish, do), join, with (items, concurrency),
// retry (when, count, delay) and delay — with JSONata expressions written
// "{% ... %}" (docs/workflows.md). Compile turns a workflow into a state
// machine with QueryLanguage JSONata that runs unchanged on AWS Step
// Functions and on BWC's embedded interpreter (internal/asl): transitions
// become Choice states, publish becomes Assign, with-items a Map state, a
// fork a Parallel state, retry a Retry block, delay a Wait state, core.ask a
// .waitForTaskToken task, a sub-workflow a states:startExecution.sync:2
// task, and a failed task with no handler a Fail state. Resource ARNs are
// definition substitutions (${RunnerFunctionArn}, ${StateMachineArn_...})
// that the CDK app fills in.
//
// The package is pure and its functions are safe for concurrent use; the
// compiled output is deterministic.
package workflow
