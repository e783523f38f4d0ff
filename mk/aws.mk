# The AWS path without AWS: aws-lambda-rie (the Lambda runtime API
# emulator, pinned) hosts each function's real bootstrap; the end-to-end
# test runs them against dynalite and `bwc serve --aws`; bench-lambda
# measures the bootstraps' sizes and cold starts. See docs/deploy.md
# ("Running the functions under aws-lambda-rie").

.PHONY: aws-tools test-aws bench-lambda
TEST_DEPS     += aws-tools # the tests themselves run in test-go (./...)
BENCH_TARGETS += bench-lambda

AWS_LAMBDA_RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d

aws-tools: $(TOOLS_BIN)/aws-lambda-rie

$(TOOLS_BIN)/aws-lambda-rie:
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(AWS_LAMBDA_RIE_VERSION)

test-aws: aws-tools node-tools ## the AWS path end to end: every bootstrap under aws-lambda-rie, dynalite, bwc serve --aws (tests/awspath_test.go), and the functions' unit tests
	$(GO) test -count=1 ./internal/aws/... ./functions/...
	$(GO) test -count=1 -run '^TestAWSPath(Poller)?$$' ./tests/

bench-lambda: aws-tools lambda ## bootstrap sizes (arm64, as deployed) and cold starts under aws-lambda-rie (last line: JSON per function bytes, init_ms, first_response_ms)
	$(GO) run ./tests/lambdabench -rie $(TOOLS_BIN)/aws-lambda-rie -sizes $(LAMBDA_BUILD) -packs packs
