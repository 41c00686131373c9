# The two commands a new user needs: `make run` and `make test` (see README.md).
# Everything else is CMake; this file only strings the steps together.
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
API_FUZZ_EXAMPLES ?= 500
APEX = $(BUILD)/apextrade

.PHONY: all deps build build-asan web run demo test test-unit test-asan test-web check-layers bench fuzz clean

all: build web

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DAPEX_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAPEX_SANITIZE=ON -DAPEX_WERROR=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# The web UI (web/): its npm packages from the committed lock file (again only when the lock
# changed), then the static build into web/dist, which the server serves at /.
web: deps
	@cd web && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; }
	@cd web && npm run --silent build

# The API server on http://127.0.0.1:8000 with SQLite, the sample candles, a demo account and the
# web UI.
run: build web
	@sh scripts/run.sh $(APEX)

# The command-line tour on the sample data (what `make run` did before the server existed).
demo: build
	@sh scripts/demo.sh $(APEX)

test: check-layers test-unit test-asan test-web
	@echo "make test: all suites passed"

# The store tests also run on PostgreSQL: a throwaway cluster under the build directory, stopped
# and removed afterwards even when a test fails (scripts/with-pg.sh); the Redis adapters against a
# throwaway redis-server the same way (scripts/with-redis.sh). APEX_REQUIRE_PG=1 turns the
# PostgreSQL suites' skip (no APEX_TEST_PG_URL) into a failure: make test never passes without them.
PG_TEST_PORT ?= 55439
REDIS_TEST_PORT ?= 56379
test-unit: build
	@sh scripts/with-pg.sh $(CURDIR)/$(BUILD)/pgtest $(PG_TEST_PORT) \
	  sh scripts/with-redis.sh $(CURDIR)/$(BUILD)/redistest $(REDIS_TEST_PORT) \
	  sh -c 'cd $(BUILD) && APEX_REQUIRE_PG=1 APEX_REQUIRE_REDIS=1 ctest --output-on-failure -j $(JOBS)'

# Under the sanitizers the black-box API suite runs on SQLite only: on PostgreSQL it exercises the
# same C paths but the store's driver, which test_store_pg covers here, and it doubled the suite's time.
test-asan: build-asan
	@sh scripts/with-pg.sh $(CURDIR)/$(ASAN_BUILD)/pgtest $$(($(PG_TEST_PORT) + 1)) \
	  sh scripts/with-redis.sh $(CURDIR)/$(ASAN_BUILD)/redistest $$(($(REDIS_TEST_PORT) + 1)) \
	  sh -c 'cd $(ASAN_BUILD) && APEX_REQUIRE_PG=1 APEX_REQUIRE_REDIS=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) -E api_tests_pg'

# The UI's unit tests (Vitest), then the browser tests: Debian's Chromium driven by
# playwright-core against a real `apextrade serve` (screenshots in $(BUILD)/web-e2e).
test-web: build web
	@cd web && npm run --silent test
	@cd web && APEX_BIN=$(CURDIR)/$(APEX) APEX_SHOTS=$(CURDIR)/$(BUILD)/web-e2e node --test e2e/

check-layers:
	@sh scripts/check-layers.sh

bench: build
	@$(BUILD)/bench/bench_indicators
	@$(BUILD)/bench/bench_load
	@$(BUILD)/bench/bench_backtest
	@$(BUILD)/bench/ingest   # PostgreSQL too when APEX_TEST_PG_URL is set
	@$(BUILD)/bench/bench_paper   # PostgreSQL too when APEX_BENCH_PG_URL is set
	@sh bench/api.sh $(APEX)
	@sh bench/ws.sh $(APEX)   # 10,000 WebSocket subscribers (CONNS=...)
	@sh scripts/with-pg.sh $(CURDIR)/$(BUILD)/benchpg $$(($(PG_TEST_PORT) + 10)) /usr/bin/python3 bench/cluster.py $(APEX)

fuzz: deps build-asan
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAPEX_FUZZ=ON -DAPEX_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@for f in $(FUZZ_BUILD)/fuzz/fuzz_*; do \
	  name=$$(basename $$f); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
	  work=$(FUZZ_BUILD)/corpus-$${name#fuzz_}; mkdir -p $$work; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=$(FUZZ_BUILD)/ $$work $$corpus || exit 1; \
	done
	@echo "fuzz: the HTTP API, $(API_FUZZ_EXAMPLES) examples per operation, against $(ASAN_BUILD)/apextrade"
	@APEX_BIN=$(CURDIR)/$(ASAN_BUILD)/apextrade APEX_FUZZ_EXAMPLES=$(API_FUZZ_EXAMPLES) APEX_TEST_PG_URL= \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/hostile/test_api_fuzz.py

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) web/dist web/node_modules
