# infra/: the CDK app of the AWS engine (its own Go module, so jsii stays out
# of the Lambdas), its offline synth test, and the Lambda builds it packages.
# Go CDK modules come from the module proxy (infra/go.sum); the CDK CLI is
# pinned in infra/package-lock.json and installed with npm ci.

.PHONY: synth test-infra lint-infra lambda infra-tools
TEST_DEPS += test-infra

INFRA_NODE_BIN   := $(CURDIR)/infra/node_modules/.bin
LAMBDA_BUILD     := $(CURDIR)/build/lambda
LAMBDA_FUNCTIONS := webhook timer poller enforcer runner completion inquiry api
# The infra module's packages, named rather than ./..., so that an
# infra/node_modules installed by hand (without the go.mod marker below) and
# its aws-cdk Go template files, which do not parse, never get in the way.
INFRA_PKGS       := . ./stack/...

infra-tools: infra/node_modules/.installed

# The go.mod written into node_modules makes it a module of its own, so that
# `go build ./...` in infra/ skips the Go template files aws-cdk ships.
infra/node_modules/.installed: infra/package.json infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund
	printf 'module ignored/node_modules\n' > infra/node_modules/go.mod
	touch $@

# Each function is built for provided.al2023 (LAMBDA_GOARCH, arm64 for the
# stack; the AWS-path test builds for the host) with the packs copied beside
# its bootstrap (build/lambda/<fn>/packs, found through $LAMBDA_TASK_ROOT),
# so that the whole directory is the function's code asset. A function whose
# main (functions/<fn>) does not exist gets a placeholder bootstrap that
# exits 1, so the stack still synthesizes; it is not deployable. The
# poller's bundle also holds every pack's Go polling sensor
# (<pack>/sensors/<name>/main.go), built beside its source as
# build/lambda/poller/packs/<pack>/sensors/<name>/bwc-sensor, which the
# poller function runs in one-poll mode.
LAMBDA_GOARCH ?= arm64
LAMBDA_PACKS  ?= packs
lambda: ## build functions/<fn> for Lambda (provided.al2023, arm64) into build/lambda/<fn>/bootstrap, with packs/ beside it and the Go polling sensors built into the poller bundle
	@set -e; for fn in $(LAMBDA_FUNCTIONS); do \
	  mkdir -p $(LAMBDA_BUILD)/$$fn; \
	  if [ -d functions/$$fn ]; then \
	    echo "lambda: building functions/$$fn"; \
	    rm -f $(LAMBDA_BUILD)/$$fn/bootstrap; \
	    GOOS=linux GOARCH=$(LAMBDA_GOARCH) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags '-s -w' -o $(LAMBDA_BUILD)/$$fn/bootstrap ./functions/$$fn; \
	    rm -rf $(LAMBDA_BUILD)/$$fn/packs; mkdir -p $(LAMBDA_BUILD)/$$fn/packs; \
	    cp -R $(LAMBDA_PACKS)/. $(LAMBDA_BUILD)/$$fn/packs/; \
	    find $(LAMBDA_BUILD)/$$fn/packs -name '*_test.go' -delete; \
	    if [ $$fn = poller ]; then \
	      for main in $$(cd $(LAMBDA_PACKS) && find . -path '*/sensors/*' -name main.go | sort); do \
	        dir=$$(dirname $$main); dir=$${dir#./}; \
	        echo "lambda: building sensor $(LAMBDA_PACKS)/$$dir into the poller"; \
	        (cd $(LAMBDA_PACKS)/$$dir && GOOS=linux GOARCH=$(LAMBDA_GOARCH) CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(LAMBDA_BUILD)/$$fn/packs/$$dir/bwc-sensor .); \
	      done; \
	    fi; \
	  else \
	    echo "lambda: functions/$$fn does not exist yet: placeholder bootstrap (not deployable)"; \
	    printf '#!/bin/sh\necho "BWC function %s was not built (placeholder)" >&2\nexit 1\n' $$fn > $(LAMBDA_BUILD)/$$fn/bootstrap; \
	    chmod 755 $(LAMBDA_BUILD)/$$fn/bootstrap; \
	  fi; \
	done

synth: infra-tools lambda ## synthesize the AWS stack from packs/ into cdk.out/ (offline; fails on any cdk-nag AwsSolutions finding)
	CDK_DISABLE_CLI_TELEMETRY=true $(INFRA_NODE_BIN)/cdk synth --quiet --no-notices --no-version-reporting --no-asset-metadata
	@ls -l cdk.out/*.template.json

test-infra: lint-infra ## the infra module's tests: plan tests and the offline synth with CDK assertions and cdk-nag
	cd infra && $(GO) test -count=1 $(INFRA_PKGS)

lint-infra: go-tools ## go vet, staticcheck, golangci-lint and a go mod tidy check on the infra module
	cd infra && $(GO) vet $(INFRA_PKGS)
	cd infra && $(TOOLS_BIN)/staticcheck $(INFRA_PKGS)
	cd infra && $(TOOLS_BIN)/golangci-lint run $(INFRA_PKGS)
	@cd infra && cp go.mod go.mod.before && cp go.sum go.sum.before && $(GO) mod tidy && \
	  if ! cmp -s go.mod go.mod.before || ! cmp -s go.sum go.sum.before; then \
	    mv go.mod.before go.mod; mv go.sum.before go.sum; echo "go mod tidy changes infra/go.mod or infra/go.sum: commit the tidied files"; exit 1; fi; \
	  rm -f go.mod.before go.sum.before
