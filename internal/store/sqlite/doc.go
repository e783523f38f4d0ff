// Package sqlite is the embedded engine's store: one SQLite file (by default
// .bwc/bwc.db) opened with modernc.org/sqlite, a pure-Go driver, in WAL mode.
//
// Each record type has its own table; the fields lists filter on are
// columns with indexes shaped by the access patterns, and the rest of the
// record is a JSON document. Execution results live in their own table, so
// listings never read them. The schema is versioned and migrated forward
// when the file is opened. Records past their retention are hidden from
// reads at once and deleted by [DB.Purge], which the engine calls
// periodically (see [github.com/bwc-project/bwc/internal/store.RunPurge]).
//
// Writes are group-committed: one goroutine owns the only connection that
// writes, takes the writes of every caller queued meanwhile and runs them in
// one IMMEDIATE transaction, in which a write that fails is rolled back
// alone, then commits once and answers each caller. A write method returns
// only after the commit that holds its write, so durability is as with a
// transaction per write; under load, one commit serves many writes.
// Compare-and-set updates (statuses, versions) are checked inside that
// transaction, so they stay atomic across connections and processes; the
// JSON encoding and decoding around them happens in the callers'
// goroutines. Reads run on a pool of other connections, with statements
// prepared once per connection. The WAL is checkpointed in the background
// (PASSIVE, which never blocks the writer) instead of by the commit that
// fills it.
//
// Concurrency: a [DB] is safe for concurrent use; several processes may open
// the same file (SQLite serialises writers; readers never block in WAL mode).
package sqlite
