# The embedded engine (internal/engine, bus, enforcer, api; bwc serve).

.PHONY: serve test-engine bench-engine
BENCH_TARGETS += bench-engine

serve: build ## start the embedded engine with the example packs (bin/bwc serve --packs packs)
	$(BWC) serve --packs packs

test-engine: ## bus, enforcer, engine and API tests, and the end-to-end tests of bwc serve (tests/)
	$(GO) test -count=1 ./internal/bus/ ./internal/enforcer/ ./internal/engine/ ./internal/api/... ./tests/

bench-engine: build ## load bwc serve over loopback from another process (last line: JSON with sustained_triggers_per_sec, and p50_ms_at_500/p99_ms_at_500 from webhook accepted to execution succeeded)
	$(GO) run ./tests/loadgen -bwc $(BWC) -packs packs
