# internal/asl: the Step Functions (ASL) interpreter.

.PHONY: bench-asl test-asl fuzz-asl gen-asl-cases
BENCH_TARGETS += bench-asl

bench-asl: ## (needs `make node-tools`) BWC's ASL interpreter vs aws-local-stepfunctions (last line: JSON with min_speedup, speedups)
	$(GO) run ./internal/asl/benchcmp -seconds 1

test-asl: ## (needs `make node-tools`) conformance cases (prints the pass rate), resume-at-every-transition, asl-validator cross-check, CLI tests
	cd internal/asl && $(GO) test -count=1
	$(GO) test -count=1 -run ASL ./cmd/bwc/

fuzz-asl: ## a short fuzz run of the definition parser (and of running what it accepts)
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 30s ./internal/asl/

gen-asl-cases: ## regenerate internal/asl/testdata/conformance from ../shared/conformance/asl
	$(GO) run ./internal/asl/asltest/gencases -src ../shared/conformance/asl -out internal/asl/testdata/conformance
