package store

import (
	"context"
	"time"
)

// RunPurge calls p.Purge every interval until ctx is done, handing each
// outcome to report (which may be nil). The embedded engine runs it for
// SQLite; on DynamoDB the table's TTL makes it unnecessary. It returns
// ctx's error.
func RunPurge(ctx context.Context, p Purger, interval time.Duration, report func(deleted int, err error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			n, err := p.Purge(ctx)
			if report != nil {
				report(n, err)
			}
		}
	}
}
