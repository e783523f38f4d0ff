// Package cost estimates what BWC's AWS stack (infra/stack) costs to run a
// compiled pack set, at AWS list prices: per rule, for a number of triggers
// (a million by default), plus the stack's fixed monthly costs. It is what
// `bwc cost` prints and docs/deploy.md quotes.
//
// The estimate follows one trigger of a rule through the resources the
// stack declares for it, and counts what each step bills:
//
//   - intake, by where the trigger comes from: an HTTP API request and the
//     webhook function (core.webhook, and any pack trigger posted to the
//     generic /api/v1/webhooks/st2), an EventBridge Scheduler invocation and
//     the timer function (timers), or nothing (core.actiontrigger and other
//     core triggers, emitted and paid for by the execution that ended; a
//     polling sensor's triggers, whose polls are a fixed monthly cost); then
//     the trigger instance record and PutEvents (one event per 64 KB chunk);
//   - enforcement, by the rule's AWS path (content.RulePath): the enforcer
//     function, the enforcement record and the execution record, or, for a
//     direct rule, its direct machine's run (internal/aws/direct, an
//     Express machine: one request, its assumed duration rounded up to
//     100 ms at its assumed memory rounded up to 64 MB, and its log events)
//     and the enforcement record it writes (the completion function creates
//     the execution record). EventBridge's deliveries to Lambda and Step
//     Functions targets are free;
//   - the execution: Step Functions standard state transitions along the
//     path a typical run takes through the rule's state machine (every task
//     succeeds, every Choice takes its first rule, a Map runs one item, a
//     Parallel every branch; read from the ASL, so it is an estimate); one
//     runner invocation and one output record per task that invokes the
//     runner, a child execution record per workflow task; an inquiry answered
//     through the API for each .waitForTaskToken task; the child state
//     machine's own run for a states:startExecution task; two completion
//     invocations (RUNNING and the final status) per state machine run, two
//     status updates, the result, and core.actiontrigger (PutEvents and its
//     trigger instance record);
//   - CloudWatch Logs ingestion (assumed bytes per Lambda invocation, per
//     Step Functions log event at LogLevel ALL, per API access log line) and
//     X-Ray traces (the sampled share of triggers).
//
// DynamoDB request units come from what internal/store/dynamo writes: every
// record is one item of at most 1 KB (assumed) plus one entry in each global
// secondary index its keys put it in (projection ALL), and a status update
// reads the item (strongly consistent) and rewrites it and its index
// entries, the two status-keyed entries as a delete and a put. See Units.
//
// Prices are a table in code ([ListPrices]) with the AWS pricing page each
// comes from and the date they were taken ([PricesAsOf]). Not counted: free
// tiers, data transfer, DynamoDB and CloudWatch Logs storage, point-in-time
// recovery, the empty dead-letter queue, cold starts, retries, $kv/$secret
// reads and KMS requests.
//
// Estimate is a pure function of its inputs and safe for concurrent use.
package cost
