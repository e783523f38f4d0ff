# internal/jsonata: JSONata (Step Functions' flavour) targets.

.PHONY: bench-jsonata test-jsonata fuzz-jsonata
BENCH_TARGETS += bench-jsonata

bench-jsonata: ## (needs `make node-tools`) BWC's JSONata vs jsonata-js 2.0.6 (last line: JSON with min_speedup, speedups)
	$(GO) run ./internal/jsonata/benchcmp -seconds 1

test-jsonata: ## (needs `make node-tools`) conformance suite (prints its pass rate), differential test, API and CLI tests
	cd internal/jsonata && $(GO) test -count=1
	$(GO) test -count=1 -run JSONata ./cmd/bwc/

fuzz-jsonata: ## short fuzz runs of the JSONata parser, evaluator and picture strings
	$(GO) test -run '^$$' -fuzz FuzzCompile -fuzztime 30s ./internal/jsonata/
	$(GO) test -run '^$$' -fuzz FuzzEval -fuzztime 30s ./internal/jsonata/
	$(GO) test -run '^$$' -fuzz FuzzPicture -fuzztime 30s ./internal/jsonata/
