# BWC Makefile. `make run` starts BWC with the example packs; `make test` runs
# every test. Tools are installed into .tools/ (Go) and tools/node_modules
# (npm) at pinned versions, so a fresh machine needs only Go, Node and npm.
#
# Each area adds its own targets in mk/<area>.mk (bench-<area> targets append
# themselves to BENCH_TARGETS, which `make bench` runs).

SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
TOOLS_BIN := $(CURDIR)/.tools/bin
NODE_DIR  := $(CURDIR)/tools
NODE_BIN  := $(NODE_DIR)/node_modules/.bin
BWC       := $(CURDIR)/bin/bwc
export PATH := $(TOOLS_BIN):$(NODE_BIN):$(PATH)
# Where tests find the npm packages they run (reference implementations, dynalite).
export BWC_NODE_MODULES := $(NODE_DIR)/node_modules

GOLANGCI_LINT_VERSION := v2.15.0
STATICCHECK_VERSION   := v0.8.2
GOIMPORTS_VERSION     := v0.52.0

# mk/<area>.mk files append to these: bench targets `make bench` runs, and
# targets that install what the tests need (Debian packages such as
# openssh-server), which `make test` runs first.
BENCH_TARGETS :=
TEST_DEPS     :=

-include mk/*.mk

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN{FS=":.*?## "}{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/bwc
	$(GO) build -o $(BWC) ./cmd/bwc

.PHONY: run
run: build ## validate the example packs and start the embedded engine with them (Ctrl-C stops it)
	$(BWC) pack validate packs/
	$(BWC) serve --packs packs

.PHONY: tools
tools: go-tools node-tools ## install every tool the tests use (pinned)

.PHONY: go-tools
go-tools: $(TOOLS_BIN)/golangci-lint $(TOOLS_BIN)/staticcheck $(TOOLS_BIN)/goimports

$(TOOLS_BIN)/golangci-lint:
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
$(TOOLS_BIN)/staticcheck:
	GOBIN=$(TOOLS_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
$(TOOLS_BIN)/goimports:
	GOBIN=$(TOOLS_BIN) $(GO) install golang.org/x/tools/cmd/goimports@$(GOIMPORTS_VERSION)

.PHONY: node-tools
node-tools: $(NODE_DIR)/node_modules/.installed

$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	touch $@

.PHONY: test
test: node-tools lint test-go ## run lint and every test (what CI runs)

.PHONY: test-go
test-go: node-tools $(TEST_DEPS) ## run the Go tests
	$(GO) test -count=1 ./...

.PHONY: lint
lint: go-tools ## gofmt/goimports, go vet, staticcheck, golangci-lint, go mod tidy check
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@out=$$($(TOOLS_BIN)/goimports -l -local github.com/bwc-project/bwc $$(git ls-files --cached --others --exclude-standard '*.go')); if [ -n "$$out" ]; then echo "goimports needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS_BIN)/staticcheck ./...
	$(TOOLS_BIN)/golangci-lint run ./...
	@cp go.mod .tools/go.mod.before && cp go.sum .tools/go.sum.before && $(GO) mod tidy && \
	  if ! cmp -s go.mod .tools/go.mod.before || ! cmp -s go.sum .tools/go.sum.before; then \
	    echo "go mod tidy changed go.mod/go.sum: commit the tidied files"; exit 1; fi

.PHONY: bench
bench: ## run every benchmark target
	@set -e; for t in $(BENCH_TARGETS); do $(MAKE) --no-print-directory $$t; done

.PHONY: clean
clean:
	rm -rf bin .bwc
