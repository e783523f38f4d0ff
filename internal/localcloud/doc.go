// Package localcloud is the local cloud behind `bwc serve --aws`: an
// http.Handler that answers, on loopback, the AWS JSON protocol calls the
// BWC Lambda functions make — EventBridge PutEvents and the Step Functions
// execution and task-token calls — backed by BWC's own engine parts: rule
// patterns matched with internal/pattern, state machines run by the
// internal/asl interpreter. With it, dynalite for DynamoDB and
// aws-lambda-rie hosting each function's bootstrap, the AWS path of BWC
// runs on one machine, with the AWS SDK for Go or the AWS CLI pointed at it
// with an endpoint URL. It also holds an API Gateway HTTP API front
// (payload format 2.0) for the webhook, api and inquiry functions.
//
// Functions are reached through the Function port: an aws-lambda-rie URL
// (RIE) or an in-process handler that the caller wires (the embedded
// engine's enforcer, runner, ...). What the local cloud does with each:
//
//   - PutEvents matches every entry against the enabled rules' compiled
//     patterns and invokes the "enforcer" function with {"rule", "event"}
//     for each match, asynchronously, as an EventBridge target is invoked;
//     a rule on the direct path (Config.Direct) starts its direct machine
//     instead, with the input its EventBridge input transformer builds.
//   - State machines are the compiled workflows, the hand-written ASL
//     actions and the one-task action machine, named as the CDK stack names
//     them (<name>-<ref>) with the stack's definition substitutions filled
//     for the local account 000000000000. Their lambda:invoke tasks invoke
//     the "runner" function; states:startExecution tasks start child
//     executions here; .waitForTaskToken tasks wait for SendTaskSuccess or
//     SendTaskFailure; DynamoDB tasks run against Config.DynamoDB
//     (internal/aws/sfnddb).
//   - Every execution of a BWC machine that starts and ends sends a "Step
//     Functions Execution Status Change" event (source aws.states, RUNNING
//     then the end) to the "completion" function.
//   - RunSchedules and RunPollers stand in for EventBridge Scheduler: each
//     timer rule's fires invoke the "timer" function, each polling
//     sensor's the "poller" function.
//
// An RIE (one aws-lambda-rie process, one Lambda instance) takes one
// invocation at a time: concurrent callers queue.
//
// A Function that is also a CallbackAnswerer (the engine's in-process
// runner) completes the .waitForTaskToken tasks it is invoked for with its
// own answer; a Lambda function's answer to such a task is ignored.
//
// Signatures are not verified: any credentials work. Execution state is
// kept in memory and, when Config.Dir is set, written to one file per
// execution after every step, so executions survive a restart of the
// process (see docs/local-cloud.md for what resumes and what does not).
// Ended executions are kept up to Config.KeepEnded, the oldest forgotten
// first, so that memory and Dir stay bounded.
//
// Concurrency: a *Cloud is safe for concurrent use. Each execution has its
// own lock; the interpreter runs an execution only while holding it, and
// function invocations run on their own goroutines, their results handed
// back under the lock. An execution never takes another execution's lock
// while holding its own: a task that starts an execution by name finds an
// existing one from what is kept outside the lock (its input, start date
// and whether it ended).
package localcloud
