# internal/pack: the pack loader, the core and examples packs, bwc pack.

.PHONY: bench-pack test-pack fuzz-pack validate-packs
BENCH_TARGETS += bench-pack

bench-pack: ## time to load and validate the shipped packs (last line: JSON ns_per_load, allocs_per_load)
	@set -o pipefail; $(GO) test -run '^$$' -bench '^BenchmarkLoadShippedPacks$$' -benchmem -cpu 1 -count 1 ./internal/pack/ | tee /dev/stderr | \
	  awk '/^BenchmarkLoadShippedPacks/ { printf "{\"ns_per_load\": %s, \"bytes_per_load\": %s, \"allocs_per_load\": %s}\n", $$3, $$5, $$7 }'

test-pack: ## loader diagnostics (table and golden tests), shipped packs, sample events, bwc pack CLI
	$(GO) test -count=1 ./internal/pack/ ./packs/...
	$(GO) test -count=1 -run 'Pack' ./cmd/bwc/

fuzz-pack: ## short fuzz run of the pack loader over arbitrary YAML in each kind of file
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime 30s ./internal/pack/

validate-packs: build ## bwc pack validate on the shipped packs
	$(BWC) pack validate packs/
