# internal/runner: action runners (local/remote shell, http-request, noop, go).

.PHONY: test-deps-runner test-runner
TEST_DEPS += test-deps-runner

# The remote runner's tests start a real sshd (Debian's openssh-server) on
# 127.0.0.1; the sudo tests need sudo. Installs them when missing.
test-deps-runner: ## install what the runner tests need (openssh-server, sudo), when missing
	@missing=""; \
	  [ -x /usr/sbin/sshd ] || missing="$$missing openssh-server"; \
	  command -v sudo >/dev/null 2>&1 || missing="$$missing sudo"; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	    echo "installing$$missing"; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $$missing; \
	  fi

test-runner: test-deps-runner ## runner tests: real processes, a real HTTP server, real sshd on loopback, go actions
	$(GO) test -count=1 ./internal/runner/...

.PHONY: fuzz-runner
fuzz-runner: ## short fuzz run of the output secret masker
	$(GO) test -run '^$$' -fuzz '^FuzzStreamMasking$$' -fuzztime 20s ./internal/runner/
