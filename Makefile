# Essaim's command surface. Every target sets up the virtualenv it needs.
# SREs and CI rely on these names: run, test, loadtest, chaos, bench, bench-engine,
# bench-quality; `make check` runs the static checks alone.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA ?= data
PROFILE ?= smoke
HOST ?=

.PHONY: check lint-fix lock run test test-slow test-deps chromium screenshots loadtest chaos bench bench-cluster bench-owner bench-engine bench-quality bench-aggregation bench-results bench-plugin-phase venv clean

venv: $(STAMP)

# Reinstall when the project's dependencies change.
$(STAMP): pyproject.toml deploy/requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,load,cluster,postgres]' -c deploy/requirements.lock
	@touch $(STAMP)

## lock: re-pin deploy/requirements.lock (essaim's runtime dependencies) to the versions this
##       virtualenv holds, after changing pyproject.toml's dependencies and passing `make test`
lock:
	@test -x $(PY) || $(MAKE) venv
	$(PY) -m pip install --quiet -e '.[dev,load,cluster,postgres]'
	$(PY) deploy/lock.py

## run: the server with a demo campaign on the embedded SQLite store in ./data
##      (HOST=0.0.0.0 to let phones on the network join: links use this machine's
##      network address; PUBLIC_URL=https://... behind a proxy; PORT=8000)
PORT ?= 8000
PUBLIC_URL ?=
run: $(STAMP)
	$(VENV)/bin/essaim serve --demo --data-dir $(DATA) --port $(PORT) $(if $(HOST),--host $(HOST)) $(if $(PUBLIC_URL),--public-url $(PUBLIC_URL))

## test: the static checks first (a lint or type error fails in seconds), then the
##       whole default suite (about ten minutes at most)
test: $(STAMP) check test-deps
	$(PY) -m pytest -q

## check: the static checks alone: ruff (lint) and mypy --strict over core and plugins
##        (rules and strictness in pyproject.toml, why in docs/development.md)
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## lint-fix: apply ruff's automatic fixes (import order, unused imports...), then check
lint-fix: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/mypy

## test-deps: the Debian packages whose servers the tests start for real on loopback
##            (chromium, redis-server, postgresql, nginx, prometheus for promtool),
##            installed when missing and root; otherwise those tests skip and say why
TEST_DEBS := chromium:chromium redis-server:redis-server initdb:postgresql nginx:nginx promtool:prometheus
test-deps:
	@missing=$$(for pair in $(TEST_DEBS); do bin=$${pair%%:*}; deb=$${pair#*:}; \
		PATH="$$PATH:/usr/sbin:$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tr '\n' ':')" command -v $$bin >/dev/null || echo $$deb; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages for the tests:" $$missing; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
				|| echo "could not install $$missing: the tests that need them will skip"; \
		else echo "not root: the tests that need $$missing will skip"; fi; \
	fi

## chromium: kept for scripts that call it; test-deps installs chromium and the servers
chromium: test-deps

## screenshots: regenerate docs/screenshots (the facilitator guide's pictures) from a browser run
screenshots: $(STAMP) test-deps
	rm -rf docs/screenshots
	ESSAIM_DOC_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/browser/test_browser_campaign.py \
		tests/browser/test_browser_access.py tests/browser/test_browser_room_scale.py

## test-slow: the long soak and big-data tests too
test-slow: $(STAMP) test-deps
	ESSAIM_SLOW=1 $(PY) -m pytest -q

## loadtest: a Locust profile, headless, gated on the SLOs (docs/loadtesting.md).
##           PROFILE=smoke|campaign|reconnect-storm|soak. Without HOST it starts a fresh
##           local server (server on core 0, Locust on core 1); HOST=http://... loads a
##           running deployment instead (set ESSAIM_ADMIN_TOKEN). Reports in reports/.
loadtest: $(STAMP)
	$(PY) -m loadtests.run --profile $(PROFILE) $(if $(HOST),--host $(HOST))

## chaos: the fault-injection suite an SRE runs before a big campaign (docs/operations.md, "Chaos suite"):
##        kill -9 the owner / a gateway, SIGSTOP the owner past its lease, restart Valkey and
##        PostgreSQL, cut a gateway from Valkey, fill a SQLite server's disk; real processes on
##        127.0.0.1. Each scenario 3 times (about 14 min); SHORT=1 once each with fewer phones
##        (about 3 min, .ci/run);
##        ONLY="owner disk" picks scenarios by words of their names
chaos: $(STAMP) test-deps
	$(PY) -m loadtests.chaos $(if $(SHORT),--short) $(if $(ONLY),--only $(ONLY))

## bench: capacity benchmark, essaim serve vs the bare hypercorn+quart-trio stack,
##        server on core 0, the lean generator on core 1 (docs/performance.md).
##        HOST=URL[,URL...] loads a running deployment instead (sessions round-robin
##        over its URLs; set ESSAIM_ADMIN_TOKEN); PROCESSES=4 spreads the sessions over
##        several generator processes; LEVELS=1000,5000 WINDOW=30 choose the levels
TASKSET_GENERATOR := $(if $(shell command -v taskset),taskset -c 1)
BENCH_ARGS = $(if $(LEVELS),--levels $(LEVELS)) $(if $(WINDOW),--window $(WINDOW))
bench: $(STAMP)
	$(if $(HOST),,$(TASKSET_GENERATOR)) $(PY) -m loadtests.bench $(BENCH_ARGS) $(if $(HOST),--host $(HOST)) $(if $(PROCESSES),--processes $(PROCESSES))

## bench-cluster: sessions one gateway holds in cluster mode (owner + gateway + real redis-server)
##                next to one plain process, side by side per level (docs/scaling.md)
bench-cluster: $(STAMP) test-deps
	$(TASKSET_GENERATOR) $(PY) -m loadtests.bench_cluster $(BENCH_ARGS)

## bench-owner: commands/s one campaign owner acks from 10 simulated gateways, 100,000 participants
bench-owner: $(STAMP) test-deps
	$(PY) -m loadtests.bench_owner

## bench-engine: acknowledged commands per second in memory, on SQLite and on PostgreSQL (a throwaway server), same run
bench-engine: $(STAMP) test-deps
	$(PY) -m essaim.bench.engine

## bench-plugin-phase: a plugin phase's command (the pledges example) next to built-in ones, 10,000 people, engine in memory
bench-plugin-phase: $(STAMP)
	$(PY) -m loadtests.bench_plugin_phase

## bench-quality: simulated crowds with known truth; each strategy against a simple baseline
bench-quality: $(STAMP)
	$(PY) -m essaim_builtins.bench.quality
	$(PY) -m essaim_builtins.bench.personal_data

## bench-aggregation: sorting consensus over 20,000 cards / 150,000 placements, and engine latency meanwhile
bench-aggregation: $(STAMP)
	$(PY) -m essaim.bench.aggregation

## bench-results: results of a 10,000-person campaign (300,000 judgments) while consoles poll them, and the trio thread meanwhile
bench-results: $(STAMP)
	$(PY) -m essaim.bench.results

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
