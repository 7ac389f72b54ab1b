# lifecycle: build, run and test locally. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

TOOLS       := .tools
VENV        := $(TOOLS)/venv
VENV_READY  := $(VENV)/.installed
CHECKOV     := $(TOOLS)/checkov
CHECKOV_READY := $(CHECKOV)/.installed
WEB_READY   := web/node_modules/.package-lock.json
CONSOLE_DIR := tools/local/console/dist
CONSOLE_READY := $(CONSOLE_DIR)/index.html
CONSOLE_SRC := $(shell find web/console web/client web/scripts -type f) web/package.json web/package-lock.json
# The browser the browser tests drive: $(CHROME_PATH), else the first of the usual places on
# Linux and macOS (make tools installs Debian's chromium where apt-get is). Google Chrome on
# a Mac: CHROME_PATH="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome".
CHROMIUM    ?= $(or $(CHROME_PATH),$(firstword $(foreach c,/usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome /Applications/Chromium.app/Contents/MacOS/Chromium,$(wildcard $(c)))),/usr/bin/chromium)
export CHROMIUM
FUNCTIONS   := $(notdir $(wildcard functions/*))
LAMBDA_ARCH ?= arm64
GO_LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags=-s -buildvcs=false

# Local runs never touch a real AWS account: fixed fake credentials and region.
export AWS_REGION ?= us-east-1
export AWS_ACCESS_KEY_ID ?= local
export AWS_SECRET_ACCESS_KEY ?= local

# The names' column is as wide as the longest target's name, so every description lines up.
.PHONY: help
help: ## list the targets
	@grep -E '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' \
		'{ name[NR] = $$1; desc[NR] = $$2; if (length($$1) > w) w = length($$1) } \
		END { for (i = 1; i <= NR; i++) printf "  make %-" w "s  %s\n", name[i], desc[i] }'

## ---- tools (fetched on first use into .tools/) ----

.PHONY: tools
tools: $(VENV_READY) $(CHECKOV_READY) $(WEB_READY) $(CHROMIUM) docker ## fetch the Python tools (moto for DynamoDB, EventBridge and SQS; SAM, cfn-lint, checkov, schemathesis), web assets, chromium and Docker

# The venv is created once; a change to tools/requirements.txt installs what it adds.
$(VENV_READY): tools/requirements.txt
	@command -v python3 >/dev/null || { echo "python3 (3.9 or later) is required: install it (macOS: brew install python, or python.org)"; exit 1; }
	@echo "==> installing Python tools (moto, aws-sam-cli, cfn-lint with the serverless rules, openapi-spec-validator, schemathesis) from PyPI into $(VENV) (first run only)"
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --progress-bar off -q -r tools/requirements.txt
	@touch $@
	@echo "==> Python tools installed"

# checkov pins versions of boto3 and others that aws-sam-cli's pins exclude: its own venv.
$(CHECKOV_READY): tools/requirements-checkov.txt
	@echo "==> installing checkov from PyPI into $(CHECKOV) (first run only; a few minutes)"
	@test -x $(CHECKOV)/bin/python || python3 -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install --disable-pip-version-check --progress-bar off -q -r tools/requirements-checkov.txt
	@touch $@
	@echo "==> checkov ready"

$(WEB_READY): web/package.json web/package-lock.json
	@echo "==> installing the console toolchain (TypeScript, Vite, Preact), the docs renderer (swagger-ui-dist) and playwright-core from the npm registry into web/node_modules (first run only)"
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# A browser for the browser tests (playwright-core drives it; no browser download): Debian's
# chromium where apt-get is; elsewhere (macOS) install Chrome or Chromium and, if it is not in
# /Applications, point CHROME_PATH at its executable.
$(CHROMIUM):
	@if ! command -v apt-get >/dev/null; then \
		echo "no browser at $(CHROMIUM) for the browser tests: install Google Chrome or Chromium (macOS: brew install --cask chromium),"; \
		echo "or set CHROME_PATH to one's executable (make run does not need it)"; exit 1; fi
	@echo "==> installing Debian's chromium for the browser tests (first run only)"
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
	@"$(CHROMIUM)" --version

# Docker for sam local (make sam-invoke, make sam-api, the sam local test in make test). An
# engine that answers is used as it is. Otherwise Debian's docker.io is installed, and the
# command or test that needs it starts dockerd (root only) and stops it when it ends. The
# functions' base image is imported locally from Debian's busybox-static (no registry),
# unless the official public.ecr.aws/lambda/provided:al2023 image is on the machine.
.PHONY: docker
docker: ## install Debian's docker.io (unless a Docker engine answers) and busybox-static, for sam local
	@pkgs=; \
	docker version >/dev/null 2>&1 || command -v dockerd >/dev/null || pkgs=docker.io; \
	if command -v dpkg >/dev/null && ! dpkg -s busybox-static >/dev/null 2>&1; then pkgs="$$pkgs busybox-static"; fi; \
	if [ -n "$$pkgs" ]; then \
		command -v apt-get >/dev/null || { echo "sam local needs Docker: install it (https://docs.docker.com/engine/install/)"; exit 1; }; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		echo "==> installing Debian's $$pkgs for sam local (first run only)"; \
		start=$$(date +%s); \
		log=$$(mktemp); \
		{ $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$pkgs; } >$$log 2>&1 \
			|| { cat $$log; rm -f $$log; exit 1; }; \
		rm -f $$log; echo "==> installed $$pkgs in $$(( $$(date +%s) - start ))s"; \
	fi

## ---- build ----

BIN := bin

.PHONY: build
build: ## build every function's bootstrap for provided.al2023 (arm64 and amd64) into bin/
	@for arch in arm64 amd64; do for fn in $(FUNCTIONS); do \
		echo "==> $$fn ($$arch)"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch go build $(GO_LAMBDA_FLAGS) -o $(BIN)/$$arch/$$fn/bootstrap ./functions/$$fn; \
	done; done

# `sam build` calls build-<LogicalId> with ARTIFACTS_DIR set (template.yaml: BuildMethod
# makefile). CancelInterviewFunction builds functions/cancel-interview.
build-%Function:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) go build $(GO_LAMBDA_FLAGS) \
		-o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo '$*' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')

# The console (web/console: TypeScript and Preact, bundled by Vite) goes into the folder the
# local server embeds; the committed placeholder there keeps Go building before this runs.
$(CONSOLE_READY): $(WEB_READY) $(CONSOLE_SRC)
	@echo "==> building the console (type check, then Vite) into $(CONSOLE_DIR)"
	@rm -rf $(CONSOLE_DIR)/assets $(CONSOLE_READY)
	@cd web && npm run -s build:console

.PHONY: console
console: $(CONSOLE_READY) ## build the web console that make run serves at /console

# The typed client for frontends (web/client), its files generated and committed: schema.ts
# (the API's types) from openapi.yaml and local-schema.ts (the local server's /_local
# endpoints) from tools/local/console/local-api.yaml, both by openapi-typescript; live.ts (the
# live messages' types) from schemas/live-message.json by web/scripts/live-types.mjs
# (json-schema-to-typescript). Calls go through openapi-fetch.
.PHONY: client
client: $(WEB_READY) ## regenerate web/client's types (schema.ts, local-schema.ts, live.ts) from openapi.yaml, local-api.yaml and schemas/
	@cd web && npm run -s generate:client

.PHONY: check-client
check-client: $(WEB_READY) ## check that web/client's generated types match openapi.yaml, local-api.yaml and schemas/ (make test runs it)
	@echo "==> web/client's generated types match openapi.yaml, tools/local/console/local-api.yaml and schemas/live-message.json"
	@cd web && ./node_modules/.bin/openapi-typescript ../openapi.yaml --output client/schema.ts --check >/dev/null 2>&1 || \
		{ echo "web/client/schema.ts differs from what openapi.yaml generates: run make client and commit it"; exit 1; }
	@cd web && ./node_modules/.bin/openapi-typescript ../tools/local/console/local-api.yaml --output client/local-schema.ts --check >/dev/null 2>&1 || \
		{ echo "web/client/local-schema.ts differs from what tools/local/console/local-api.yaml generates: run make client and commit it"; exit 1; }
	@tmp=$$(mktemp); trap 'rm -f "$$tmp"' EXIT; \
		(cd web && node scripts/live-types.mjs "$$tmp") || { echo "web/scripts/live-types.mjs cannot generate web/client/live.ts from schemas/live-message.json"; exit 1; }; \
		cmp -s "$$tmp" web/client/live.ts || { echo "web/client/live.ts differs from what schemas/live-message.json (and the event schemas it refers to) generates: run make client and commit it"; exit 1; }

## ---- run locally ----

PORT ?= 3000
SAM_PORT ?= 3001
CMD_BIN := bin/cmd
# When this make began, in Unix milliseconds: `make run`'s ready line counts the set-up from here.
RUN_STARTED := $(shell date +%s%3N)

# The developer commands (tools/cmd/<name>: run, token, events, invoke, samlocal, bench, reliability,
# smoke, preflight),
# built once and rebuilt only when Go code changes, so `make token` answers at once.
GO_SOURCES = $(shell find . -name '*.go' -not -path './.tools/*' -not -path './.aws-sam/*' -not -path './web/*') go.mod go.sum
$(CMD_BIN)/run: $(CONSOLE_READY)
$(CMD_BIN)/%: $(GO_SOURCES)
	@echo "==> building $* (tools/cmd/$*)" >&2
	@go build -o $@ ./tools/cmd/$*

.PHONY: run
run: $(VENV_READY) $(WEB_READY) $(CONSOLE_READY) $(CMD_BIN)/run ## serve every route on http://127.0.0.1:3000 (PORT=3000) with demo data, events, docs and the console (Ctrl-C stops; CORS_ORIGINS=http://localhost:5173 admits a page on another origin)
	@$(CMD_BIN)/run -addr 127.0.0.1:$(PORT) -started $(RUN_STARTED) $(if $(CORS_ORIGINS),-cors-origins "$(CORS_ORIGINS)")

.PHONY: invoke
invoke: $(VENV_READY) $(CMD_BIN)/invoke ## run a function's real bootstrap on an event: make invoke FN=cancel-interview EVENT=events/cancel-interview/200-cancelled.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=<events/...json>"; exit 2; }
	@test -d "functions/$(FN)" || { echo "make invoke: no function $(FN); the functions are: $$(ls functions | tr '\n' ' ')"; exit 2; }
	@CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build $(GO_LAMBDA_FLAGS) -o $(BIN)/amd64/$(FN)/bootstrap ./functions/$(FN)
	@$(CMD_BIN)/invoke -fn $(FN) -event $(EVENT)

.PHONY: sam-invoke
sam-invoke: docker $(VENV_READY) $(CMD_BIN)/samlocal ## the real sam build + sam local invoke in Docker: make sam-invoke FN=cancel-interview EVENT=events/cancel-interview/200-cancelled.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make sam-invoke FN=<function> EVENT=<events/...json>"; exit 2; }
	@$(CMD_BIN)/samlocal invoke -fn $(FN) -event $(EVENT)

.PHONY: sam-api
sam-api: docker $(VENV_READY) $(CMD_BIN)/samlocal ## sam local start-api in Docker on 127.0.0.1:3001 (SAM_PORT) over the local stack; no JWT authorizer there (README)
	@$(CMD_BIN)/samlocal api -port $(SAM_PORT)

# make reliability and make soak run functions as their real linux/amd64 bootstraps under
# the Runtime API, and kill them: those tools/measure/robustness/coverage.go gives a role.
# Every function's is built, so that the list is kept in one place.
RELIABILITY_BOOTSTRAPS := $(foreach fn,$(FUNCTIONS),$(BIN)/amd64/$(fn)/bootstrap)
RELIABILITY_FLAGS = -clients $(or $(CLIENTS),32) -sessions $(or $(SESSIONS),64) -fault-rate $(or $(FAULT_RATE),0.05) \
	-crash-rate $(or $(CRASH_RATE),0.02) -publisher-crash-rate $(or $(PUBLISHER_CRASH_RATE),0.25) -seed $(or $(SEED),1)

$(BIN)/amd64/%/bootstrap: $(GO_SOURCES)
	@echo "==> building $* (linux/amd64 bootstrap)"
	@CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build $(GO_LAMBDA_FLAGS) -o $@ ./functions/$*

.PHONY: reliability
reliability: $(VENV_READY) $(CMD_BIN)/reliability $(RELIABILITY_BOOTSTRAPS) ## concurrent transitions under faults and SIGKILLed bootstraps, checked with porcupine and end to end (CLIENTS=32 REQUESTS=3000 SESSIONS=64 FAULT_RATE=0.05 CRASH_RATE=0.02 PUBLISHER_CRASH_RATE=0.25 SEED=1); then one session through 10,000 keyed pauses and resumes (make item-bound)
	@$(CMD_BIN)/reliability $(RELIABILITY_FLAGS) -requests $(or $(REQUESTS),3000)
	@$(MAKE) --no-print-directory item-bound

.PHONY: soak
soak: $(VENV_READY) $(CMD_BIN)/reliability $(RELIABILITY_BOOTSTRAPS) ## the reliability mix at a steady RATE (10/s) for DURATION (30m), new entities and the table every minute
	@$(CMD_BIN)/reliability $(RELIABILITY_FLAGS) -duration $(or $(DURATION),30m) -rate $(or $(RATE),10)

.PHONY: item-bound
item-bound: $(VENV_READY) ## one session through TRANSITIONS (10000) keyed pause/resume requests: its item stays bounded, every write costs the same units
	@echo "==> $(or $(TRANSITIONS),10000) alternating keyed pause/resume requests through one session (TestItemStaysBounded)"
	@LIFECYCLE_BOUNDED_TRANSITIONS=$(or $(TRANSITIONS),10000) $(REQUIRE_TOOLS) go test -count=1 -timeout 60m -v -run '^TestItemStaysBounded$$' ./tests/integration | grep -E '^(---|ok|FAIL|PASS)|bounded_test'

.PHONY: bench
bench: $(VENV_READY) $(CMD_BIN)/bench ## cold start, size, RSS, handler CPU vs the SDK, latency vs the bare write, requests and capacity units per call, the live channel: one table (ONLY=starts,cpu,latency,units,live picks parts)
	@mkdir -p test-output
	@$(CMD_BIN)/bench -out test-output/bench.md $(if $(PREBUILT),-prebuilt $(PREBUILT)) $(if $(ONLY),-only $(ONLY))

.PHONY: events
events: $(CMD_BIN)/events ## print the events the running `make run` received on its example queues, newest first
	@$(CMD_BIN)/events $(if $(filter command line,$(origin PORT)),-addr 127.0.0.1:$(PORT)) $(if $(JSON),-json)

.PHONY: reset
reset: $(CMD_BIN)/reset ## put the running `make run`'s demo data back as it started, in place
	@$(CMD_BIN)/reset

.PHONY: token
token: $(CMD_BIN)/token ## print a dev token: make token SUB=alice [ROLES=Dispatcher,Admin] [TTL=12h]; a service's: SUB=conversation-service SCOPES=lifecycle/interviews.progress
	@$(CMD_BIN)/token -sub "$(SUB)" -roles "$(ROLES)" -scopes "$(SCOPES)" -ttl "$(or $(TTL),12h)"

.PHONY: smoke
smoke: $(CMD_BIN)/smoke ## check a deployed stage (or make run): make smoke URL=<ApiUrl> TOKEN=<JWT> [ORIGIN=<frontend origin>] [SESSION=<id> TRANSITION=pause|resume|cancel]
	@test -n "$(URL)" -a -n "$(TOKEN)" || { echo "usage: make smoke URL=<ApiUrl output> TOKEN=<a user's JWT> [ORIGIN=https://app.example.com] [SESSION=<session id> TRANSITION=pause]"; exit 2; }
	@$(CMD_BIN)/smoke -url "$(URL)" -token "$(TOKEN)" -origin "$(ORIGIN)" -session "$(SESSION)" -transition "$(or $(TRANSITION),pause)"

# The Makefile's fixed local credentials and region (above) would stand in for the account's:
# preflight drops those it set, so the SDK's default chain (environment, profile, SSO)
# finds the real ones, and the region is samconfig.toml's unless AWS_REGION is set.
PREFLIGHT_ENV := $(foreach v,AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY,$(if $(filter file,$(origin $(v))),-u $(v)))

.PHONY: preflight
preflight: $(CMD_BIN)/preflight ## before a deploy, with the account's credentials: what `sam deploy --config-env ENV` would trip on, each with its fix: make preflight ENV=dev|prod
	@test -n "$(ENV)" || { echo "usage: make preflight ENV=<samconfig.toml environment: dev or prod> (with the account's AWS credentials)"; exit 2; }
	@env $(PREFLIGHT_ENV) $(CMD_BIN)/preflight -env "$(ENV)"

## ---- checks ----

export SAM_CLI_TELEMETRY := 0
# Under make test a test whose tools are missing fails; a plain `go test ./...` skips it.
# -timeout 20m: tests/integration (sam local in Docker included) took 9 of go test's default
# 10 minutes on a heavily shared 2-core machine.
REQUIRE_TOOLS := LIFECYCLE_REQUIRE_TOOLS=1
GO_FILES = $(shell find . -name '*.go' -not -path './.tools/*' -not -path './.aws-sam/*')

.PHONY: test
test: tools $(CONSOLE_READY) ## everything: format, vet, staticcheck, binaries, unit/integration/runtime/sam local/browser tests, template checks, sam build
	@echo "==> gofmt"
	@unformatted="$$(gofmt -l $(GO_FILES))"; if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@echo "==> go vet"
	@go vet ./...
	@$(MAKE) staticcheck
	@$(MAKE) build
	@$(MAKE) cross
	@echo "==> go test (unit, handler, contract, integration on moto, runtime API, sam local in Docker, browser)"
	@$(REQUIRE_TOOLS) go test -race -count=1 -timeout 20m ./...
	@$(MAKE) fuzz-api-fixed
	@$(MAKE) check-client
	@$(MAKE) fuzz FUZZTIME=10s
	@$(MAKE) lint-template
	@$(MAKE) sam-build

# staticcheck (pinned by go.mod's tool line) finds what vet does not: code nothing calls, a
# value set and never read, a deprecated call.
.PHONY: staticcheck
staticcheck: ## staticcheck on every package, tests included
	@echo "==> staticcheck"
	@go tool staticcheck ./...

# The developer commands on the laptop most of our users have: a Linux-only call in their
# path (a Pdeathsig, a /proc read) fails to build here, not on someone's Mac. CROSS adds
# platforms (make cross CROSS="darwin/arm64 darwin/amd64 linux/arm64").
CROSS ?= darwin/arm64
.PHONY: cross
cross: ## build the developer commands for macOS on Apple silicon (CROSS picks platforms)
	@for p in $(CROSS); do echo "==> the developer commands build for $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} go build -o /dev/null ./tools/cmd/... || { echo "tools/cmd does not build for $$p"; exit 1; }; \
	done

# Each fuzz target runs for FUZZTIME on top of its committed seed corpus (testdata/fuzz/),
# which plain go test always replays.
FUZZ_TARGETS := FuzzParseID:./shared/lifecycle FuzzDecode:./shared/httpapi FuzzHandler:./shared/httpapi

.PHONY: fuzz
# A finding fails the run with the fuzzer's whole output (the input is written to the
# package's testdata/fuzz/<target>/, to commit with the fix). Go's fuzzing engine can also
# fail with no input at all (a worker "hung or terminated unexpectedly", or "context deadline
# exceeded" as -fuzztime ends: golang/go#56238, #48127); such a run is said and tried once
# more, and fails if it happens again. Logs: test-output/fuzz-<target>.log.
fuzz: ## run every fuzz target for FUZZTIME (default 1m): ids, body decoding, whole handlers
	@mkdir -p test-output; for t in $(FUZZ_TARGETS); do name=$${t%%:*}; pkg=$${t#*:}; log=test-output/fuzz-$$name.log; \
		echo "==> go test -fuzz $$name $$pkg ($(or $(FUZZTIME),1m))"; \
		for attempt in 1 2; do \
			if go test -run '^$$' -fuzz "^$$name$$" -fuzztime $(or $(FUZZTIME),1m) $$pkg > $$log 2>&1; then tail -n 1 $$log; break; fi; \
			if grep -q 'Failing input written' $$log || [ $$attempt = 2 ]; then cat $$log; exit 1; fi; \
			echo "    the fuzzing engine failed without a failing input, once more:"; grep -E -e '--- FAIL|hung|deadline|terminated|panic' $$log | head -n 3 | sed 's/^/    /'; \
		done; \
	done

.PHONY: fuzz-api
fuzz-api: $(VENV_READY) ## schemathesis against the local API, exploring: a new seed, for SECONDS (default 900)
	@mkdir -p test-output
	@echo "==> schemathesis against the local API for $(or $(SECONDS),900) s, a new seed (report: test-output/apifuzz/schemathesis.txt)"
	@LIFECYCLE_FUZZ_API_SECONDS=$(or $(SECONDS),900) $(REQUIRE_TOOLS) go test -count=1 -timeout 0 -run '^TestSchemathesis$$' ./tests/apifuzz

# make test's run: the same cases on every machine (a fixed seed, EXAMPLES per operation and
# phase; about 100 s), so a faster machine cannot meet a case a slower one never tried.
.PHONY: fuzz-api-fixed
fuzz-api-fixed: $(VENV_READY) ## schemathesis against the local API, reproducibly: API_SEED (default 1), EXAMPLES (default 400)
	@mkdir -p test-output
	@echo "==> schemathesis against the local API, seed $(or $(API_SEED),1), $(or $(EXAMPLES),400) cases per operation (report: test-output/apifuzz/schemathesis.txt)"
	@LIFECYCLE_FUZZ_API_SEED=$(or $(API_SEED),1) LIFECYCLE_FUZZ_API_EXAMPLES=$(or $(EXAMPLES),400) $(REQUIRE_TOOLS) go test -count=1 -timeout 0 -run '^TestSchemathesis$$' ./tests/apifuzz

# --no-cached: SAM's build cache first hashes the whole checkout (CodeUri is the repository,
# .tools and node_modules included): 4m40s against 38s for building afresh on a busy 2-core machine.
.PHONY: sam-build
sam-build: $(VENV_READY) ## sam build, and check it produced exactly make build's arm64 bootstraps
	@echo "==> sam build"
	@$(VENV)/bin/sam build --template template.yaml --no-cached > $(TOOLS)/sam-build.log 2>&1 || { cat $(TOOLS)/sam-build.log; exit 1; }
	@n=0; for d in .aws-sam/build/*Function; do id=$$(basename $$d); \
		fn=$$(echo $${id%Function} | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z'); \
		cmp -s $$d/bootstrap $(BIN)/arm64/$$fn/bootstrap || { echo "sam build's $$id differs from make build's bin/arm64/$$fn/bootstrap"; exit 1; }; \
		echo "    $$id = bin/arm64/$$fn/bootstrap (sha256 $$(sha256sum < $$d/bootstrap | cut -c1-16))"; n=$$((n+1)); done; \
		test $$n -eq $(words $(FUNCTIONS)) || { echo "sam build built $$n functions, functions/ has $(words $(FUNCTIONS))"; exit 1; }

.PHONY: lint-template
lint-template: $(VENV_READY) ## sam validate --lint and cfn-lint on template.yaml; openapi.yaml against OpenAPI 3.1
	@echo "==> sam validate --lint"
	@$(VENV)/bin/sam validate --lint --template template.yaml
	@echo "==> cfn-lint"
	@$(VENV)/bin/cfn-lint template.yaml
	@echo "==> openapi-spec-validator"
	@$(VENV)/bin/openapi-spec-validator openapi.yaml

.PHONY: clean
clean: ## remove build output (keeps fetched tools)
	rm -rf $(BIN) .aws-sam test-output $(CONSOLE_DIR)/assets $(CONSOLE_READY)

.PHONY: distclean
distclean: clean ## also remove fetched tools and local state
	rm -rf $(TOOLS) .local
