// Package dynamo is the AWS engine's store: one DynamoDB table (single-table
// design) reached with aws-sdk-go-v2. docs/storage.md documents the keys,
// the global secondary indexes and the access pattern each one serves.
//
// Every create is a conditional PutItem (attribute_not_exists), every status
// change a read followed by a PutItem conditioned on the version read, so
// at-least-once callers never duplicate a record nor lose a transition. No
// transactions are used (TransactWriteItems is absent from dynalite, the
// test server, and not needed): execution results larger than what fits in
// an item are written first as numbered chunk items under a new result
// generation, then the execution item is switched to that generation by its
// conditional put, and the chunks of the previous generation are deleted.
// Readers follow the generation the execution item names, so they never see
// a half-written result.
//
// Records carry their expiry twice: exp (Unix nanoseconds) for exact
// filtering on reads and conditions, and ttl (Unix seconds), the table's
// TTL attribute, with which DynamoDB deletes them; [DB.Purge] therefore
// deletes nothing itself.
//
// Concurrency: a [DB] is safe for concurrent use by many goroutines and many
// Lambdas; all coordination is by conditional writes.
package dynamo
