// Package stepfunctions is the AWS engine's adapter to AWS Step Functions:
// it names the deployment's state machines ([Machines]), starts executions
// for the enforcer and the API ([Starter], an enforcer.Starter: the BWC
// execution record is created in the store, then StartExecution is called
// with the execution id as the execution's name), stops them ([Stopper]),
// and answers the callback tasks of inquiries ([Tasks]: SendTaskSuccess and
// SendTaskFailure).
//
// Secret parameters never travel in clear through Step Functions: the
// execution record keeps them encrypted (store.ExecutionSecrets), the action
// machine's input carries them masked and a workflow's input carries
// references to them ([MachineParameters], [store.SecretRef]), which the runner
// function resolves just before it runs an action.
//
// Each adapter declares the few SDK calls it makes as an unexported
// interface that *sfn.Client satisfies, and translates the service's errors
// into sentinels: [ErrNoMachine], [ErrTaskGone], store.ErrNotFound.
//
// Idempotence: a second Start with the same execution id finds the record
// stored (store.ErrAlreadyExists) and calls StartExecution again, which Step
// Functions answers with the running execution for the same name and
// input; ExecutionAlreadyExists (the same name with another input) is taken
// as success too, since the name is the BWC execution id and an execution
// under it has been started: a redelivered event starts nothing twice.
//
// Concurrency: every type here is immutable once built and safe for
// concurrent use if its ports are.
package stepfunctions
