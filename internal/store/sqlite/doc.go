// Package sqlite is the embedded engine's store: one SQLite file (by default
// .bwc/bwc.db) opened with modernc.org/sqlite, a pure-Go driver, in WAL mode.
//
// Each record type has its own table; the fields lists filter on are
// columns with indexes shaped by the access patterns, and the rest of the
// record is a JSON document. Execution results live in their own table, so
// listings never read them. Status changes and idempotent creates run in
// IMMEDIATE transactions, which makes compare-and-set atomic across
// connections and processes. The schema is versioned and migrated forward
// when the file is opened. Records past their retention are hidden from
// reads at once and deleted by [DB.Purge], which the engine calls
// periodically (see [github.com/bwc-project/bwc/internal/store.RunPurge]).
//
// Concurrency: a [DB] is safe for concurrent use; several processes may open
// the same file (SQLite serialises writers; readers never block in WAL mode).
package sqlite
