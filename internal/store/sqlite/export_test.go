package sqlite

import (
	"context"

	"github.com/bwc-project/bwc/internal/store"
)

// ExecutionListSQL exposes the listing query to the query-plan test.
var ExecutionListSQL = executionListSQL

// OpenUnbatched opens a store whose writes each have a transaction of their
// own (no group commit), for the benchmarks' comparison.
func OpenUnbatched(ctx context.Context, path string, opts store.Options) (*DB, error) {
	return open(ctx, path, opts, false)
}
