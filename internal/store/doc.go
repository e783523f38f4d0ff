// Package store defines BWC's audit trail and datastore: the records (trigger
// instances, rule enforcements, executions and their output, traces,
// key-value pairs, inquiries, API keys), the status rules they obey, and the
// ports the engines use to keep them.
//
// The package is pure domain: it holds no I/O and imports no database or AWS
// code. Adapters live below it: [github.com/bwc-project/bwc/internal/store/sqlite]
// (the embedded default, a file at .bwc/bwc.db) and
// [github.com/bwc-project/bwc/internal/store/dynamo] (DynamoDB, single table).
// Both pass the one conformance suite in
// [github.com/bwc-project/bwc/internal/store/storetest].
//
// The ports are split by consumer: [TriggerInstances] (the sensor side, which
// records an instance before acknowledging its event), [Enforcements] (the
// enforcer), [Executions] and [Output] (runners and workflow engines),
// [Traces], [KeyValues] (the $kv()/$secret() functions and the API),
// [Inquiries] (core.ask), [APIKeys] (the API's authentication),
// [Checkpoints] (the workflow engine's saved state) and [Purger]
// (retention). [Store] composes them for wiring.
//
// Contracts every adapter keeps:
//
//   - Creation is idempotent by id: a second create of an id that exists
//     returns the stored record and an error matching [ErrAlreadyExists]; it
//     never duplicates nor overwrites.
//   - Status changes are compare-and-set: the caller names the status it
//     expects; a record in another status is left unchanged and the call
//     fails with [ErrConflict]; a change the transition table refuses fails
//     with [ErrIllegalTransition] (a finished execution never runs again).
//   - Lists are newest first (key-values by name) and paged with opaque
//     tokens; an empty token starts at the first page, an empty Next ends.
//   - Secret key-value pairs are encrypted with a [Cipher] before they are
//     written and masked in results unless decryption is asked for; secret
//     action parameters are masked before an execution is written, and
//     their values kept beside it, encrypted with the Cipher and bound to
//     the execution id, readable only with [ExecutionSecrets] (never in
//     GetExecution or ListExecutions results).
//   - Records past their retention are invisible to reads at once, and are
//     deleted by the adapter's own mechanism (DynamoDB TTL, SQLite purge).
//
// Concurrency: every adapter is safe for concurrent use by many goroutines
// and by several processes sharing the same database; compare-and-set
// operations are atomic with respect to each other. Records returned are
// copies the caller owns.
package store
