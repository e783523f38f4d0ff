# internal/store: the audit trail and datastore (SQLite and DynamoDB adapters).

.PHONY: bench-store bench-store-writes test-store
BENCH_TARGETS += bench-store bench-store-writes

# Rows loaded before measuring; override for a quick run: make bench-store BENCH_STORE_ROWS=50000
BENCH_STORE_ROWS ?= 1000000

bench-store: ## SQLite with 1M executions: insert rates and newest-50-failed listing (last line: JSON insert_per_sec, insert_batched_per_sec, list_failed_newest50_ms)
	@set -o pipefail; BWC_BENCH_STORE_ROWS=$(BENCH_STORE_ROWS) $(GO) test -run '^$$' -bench '^BenchmarkStore$$' -benchtime 2s -count 1 -timeout 60m ./internal/store/sqlite/ | $(GO) run ./internal/store/sqlite/benchreport

bench-store-writes: ## SQLite under concurrent writers, group commit vs a transaction per write (last line: JSON writes/s of each and their ratio)
	@set -o pipefail; $(GO) test -run '^$$' -bench '^BenchmarkConcurrentWrites$$' -benchtime 10000x -count 1 ./internal/store/sqlite/ | awk '\
		/group_commit/ { for (i = 1; i < NF; i++) if ($$(i+1) == "writes/s") g = $$i } \
		/tx_per_write/ { for (i = 1; i < NF; i++) if ($$(i+1) == "writes/s") t = $$i } \
		{ print } \
		END { if (g == "" || t == "") exit 1; printf "{\"group_commit_writes_per_sec\":%d,\"tx_per_write_writes_per_sec\":%d,\"ratio\":%.2f}\n", g, t, g / t }'

test-store: node-tools ## the store's conformance suite on SQLite and on dynalite, and its unit tests
	$(GO) test -count=1 ./internal/store/...
