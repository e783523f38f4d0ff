// Package lambdafn holds the handlers of BWC's eight Lambda functions —
// webhook, timer, poller, enforcer, runner, completion, inquiry and api —
// built from the same parts the embedded engine runs: the API server
// (internal/api) behind an API Gateway HTTP API (payload 2.0) to net/http
// adapter for webhook, api and inquiry; the enforcer (internal/enforcer)
// for enforcer; the runners (internal/runner) for runner; and, for the AWS
// side, the adapters of internal/aws/... (EventBridge, Step Functions, KMS)
// and the DynamoDB store. functions/<fn>/main.go only calls [Load] and
// lambda.Start with one handler.
//
// What each function receives is in docs/deploy.md ("Functions"). The
// audit trail is the same as the embedded engine's: the webhook and timer
// functions record the trigger instance before the event goes on the bus;
// the enforcer records the enforcement and the execution (scheduled) and
// starts its state machine under the execution id; the runner moves the
// execution to running and runs the action, and records each workflow
// task as a child execution with its output, final status and
// core.actiontrigger; the completion function writes the final status and
// result of every state machine execution and emits core.actiontrigger;
// the inquiry function answers core.ask's task token, and its scheduled
// sweep ([SweepInquiries]) fails the tokens of the inquiries nobody
// answered within their ttl with bwc.InquiryTimeout, as the embedded
// engine's timer does (the deadline and the compare-and-set timeout are
// internal/enforcer's, shared by both).
//
// Secret parameters never travel in clear through Step Functions: the
// execution record keeps them encrypted (store.ExecutionSecrets), the
// state machine input carries them masked (the action machine) or as
// references (a workflow, store.SecretRef), and the runner reads
// them back just before it runs the action.
//
// Errors at the Lambda boundary have stable names: a failed action makes
// the runner return a function error whose errorType is the action's error
// name (runner.ActionError.Name, e.g. bwc.ActionFailed), so that ASL Retry
// and Catch match it on AWS as the embedded interpreter does.
//
// Deadlines: the runner and the poller stop their work a margin before
// the invocation's deadline (a fifth of the time left, 1 to 10 seconds;
// cause [ErrFunctionDeadline]) and record what it did, since Lambda runs
// nothing past the function's timeout.
//
// Logs are JSON (log/slog) on stdout, one object per line, each with the
// function, the request id and, where known, the trace tag.
//
// Concurrency: a Lambda runs one invocation at a time per process, but the
// handlers do not rely on it: a [Deps] and the handlers built from it are
// safe for concurrent use.
package lambdafn
