// Package stack is the CDK definition of BWC's AWS engine: one CloudFormation
// stack built from compiled packs.
//
// [Build] turns the compiled content (rules, workflows, timers, webhooks)
// into a [Plan]: plain data that says which AWS resource each piece of
// content becomes and, for each rule, whether the enforcer Lambda or
// EventBridge itself starts the execution. [New] declares the resources of a
// plan with aws-cdk-go: the event bus, one EventBridge rule per BWC rule, one
// Step Functions state machine per workflow and per enabled hand-written
// (asl) action plus the generic action state machine, one EventBridge
// Scheduler schedule per timer and per Go polling sensor, the HTTP API (its routes from internal/api's route table,
// internal/api/routes), the DynamoDB table, the KMS key for secrets, the Lambda
// functions with one least-privilege IAM policy each, and the stack outputs
// a deploy needs (API URL, table, bus, key, dead-letter queue). The choice
// of a rule's target is content.RulePath, the decision `bwc rule explain`
// shows. [AddChecks] applies cdk-nag's AwsSolutions
// rules; every suppression is made in this package, next to its reason.
//
// Concurrency: the functions build new values and share nothing; jsii (the
// CDK runtime) serializes calls into its Node.js process, so building two
// stacks at once gains nothing.
package stack
