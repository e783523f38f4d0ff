# internal/pattern: EventBridge event patterns.

.PHONY: bench-pattern test-pattern fuzz-pattern
BENCH_TARGETS += bench-pattern

# Five runs of each size; benchreport reports the median of each size's runs.
bench-pattern: ## Matcher throughput with 1..10,000 patterns on one core, median of 5 runs (last line: JSON events_per_sec_N)
	@set -o pipefail; $(GO) test -run '^$$' -bench '^BenchmarkMatch$$' -cpu 1 -benchtime 1s -count 5 ./internal/pattern/ | $(GO) run ./internal/pattern/benchreport

test-pattern: ## conformance (recorded EventBridge answers), semantics, differential and CLI tests
	$(GO) test -count=1 ./internal/pattern/... && $(GO) test -count=1 -run 'EventsTestPattern' ./cmd/bwc/

fuzz-pattern: ## short fuzz runs of the pattern parser and the differential matcher
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 20s ./internal/pattern/
	$(GO) test -run '^$$' -fuzz '^FuzzMatch$$' -fuzztime 20s ./internal/pattern/
