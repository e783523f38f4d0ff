// Package runner runs actions: it is the port that the embedded engine calls
// in-process and that the runner Lambda calls on AWS, and the implementations
// of the runner types that need no engine state.
//
// Runner types (st2's names): local-shell-cmd, local-shell-script,
// remote-shell-cmd, remote-shell-script (SSH, golang.org/x/crypto/ssh),
// http-request, noop and go (a pack's Go program, built on demand and run as a
// child process that speaks the JSON protocol of package goaction). The engine
// adds inquirer, workflow and asl to the same [Registry] with
// [Registry.Register].
//
// A [Registry], built explicitly with [New], maps runner type names to
// [Runner]s. Its Run method picks the runner from Request.Action.RunnerType and
// masks secrets: the values of secret parameters, and every secret looked up
// through Request.Secrets, are replaced by "********" in output chunks, in the
// result and in error messages.
//
// Failures are [*ActionError] values with a stable Name (bwc.ActionFailed,
// bwc.ActionTimeout, ...; see errors.go and docs/runners.md). On AWS the name
// becomes the Lambda errorType, so ASL Retry/Catch ErrorEquals match it; the
// embedded ASL interpreter matches the same names.
//
// Processes: local commands, scripts and Go actions run in their own process
// group. A timeout (runner parameter "timeout", in seconds) or the
// cancellation of the context passed to Run sends SIGTERM to the whole group,
// then SIGKILL after the grace period of Options.KillGrace. Remote commands are
// killed the same way on the remote host, by process group, over a second SSH
// session. Timers come from the injected [Clock].
//
// Both engines build a request with [NewRequest], record its output with
// [StoreOutput], record a failure's result with [WithError], put the result
// of core.inject_trigger on the bus with [InjectTrigger] and emit
// core.actiontrigger with [EmitActionTrigger], so an action runs and is
// recorded the same way in-process and in the runner Lambda.
//
// Concurrency: a Registry and every Runner in this package are safe for
// concurrent use by many goroutines once built (Register is not: call it
// before the first Run). Each call to Run is independent. Request.Output is
// called from one goroutine at a time, never concurrently, with each stream's
// chunks in order, and never after Run returns. Request.Secrets may be called
// concurrently (remote hosts run in parallel).
package runner
