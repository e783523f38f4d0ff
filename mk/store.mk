# internal/store: the audit trail and datastore (SQLite and DynamoDB adapters).

.PHONY: bench-store test-store
BENCH_TARGETS += bench-store

# Rows loaded before measuring; override for a quick run: make bench-store BENCH_STORE_ROWS=50000
BENCH_STORE_ROWS ?= 1000000

bench-store: ## SQLite with 1M executions: insert rates and newest-50-failed listing (last line: JSON insert_per_sec, insert_batched_per_sec, list_failed_newest50_ms)
	@set -o pipefail; BWC_BENCH_STORE_ROWS=$(BENCH_STORE_ROWS) $(GO) test -run '^$$' -bench '^BenchmarkStore$$' -benchtime 2s -count 1 -timeout 60m ./internal/store/sqlite/ | $(GO) run ./internal/store/sqlite/benchreport

test-store: node-tools ## the store's conformance suite on SQLite and on dynalite, and its unit tests
	$(GO) test -count=1 ./internal/store/...
