# Essaim's command surface. Every target sets up the virtualenv it needs.
# SREs and CI rely on these names: run, test, loadtest, bench, bench-engine,
# bench-quality.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA ?= data
PROFILE ?= smoke
HOST ?=

.PHONY: run test test-slow chromium screenshots loadtest bench bench-engine bench-quality bench-aggregation bench-results venv clean

venv: $(STAMP)

# Reinstall when the project's dependencies change.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,load]'
	@touch $(STAMP)

## run: the server with a demo campaign on the embedded SQLite store in ./data
##      (HOST=0.0.0.0 to let phones on the network join; PORT=8000)
PORT ?= 8000
run: $(STAMP)
	$(VENV)/bin/essaim serve --demo --data-dir $(DATA) --port $(PORT) $(if $(HOST),--host $(HOST))

## test: the whole default suite (about ten minutes at most)
test: $(STAMP) chromium
	$(PY) -m pytest -q

## chromium: Debian's chromium for tests/browser (installed when missing and root; else those tests skip)
chromium:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || \
		echo "chromium could not be installed: the browser tests will be skipped"

## screenshots: regenerate docs/screenshots (the facilitator guide's pictures) from a browser run
screenshots: $(STAMP) chromium
	rm -rf docs/screenshots
	ESSAIM_DOC_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/browser/test_browser_campaign.py

## test-slow: the long soak and big-data tests too
test-slow: $(STAMP) chromium
	ESSAIM_SLOW=1 $(PY) -m pytest -q

## loadtest: a Locust profile, headless, gated on the SLOs (docs/loadtesting.md).
##           PROFILE=smoke|campaign|reconnect-storm|soak. Without HOST it starts a fresh
##           local server (server on core 0, Locust on core 1); HOST=http://... loads a
##           running deployment instead (set ESSAIM_ADMIN_TOKEN). Reports in reports/.
loadtest: $(STAMP)
	$(PY) -m loadtests.run --profile $(PROFILE) $(if $(HOST),--host $(HOST))

## bench: capacity benchmark, essaim serve vs the bare hypercorn+quart-trio stack,
##        server on core 0, the lean generator on core 1 (docs/performance.md)
TASKSET_GENERATOR := $(if $(shell command -v taskset),taskset -c 1)
bench: $(STAMP)
	$(TASKSET_GENERATOR) $(PY) -m loadtests.bench

## bench-engine: durable vs in-memory acknowledged commands per second
bench-engine: $(STAMP)
	$(PY) -m essaim.bench.engine

## bench-quality: simulated crowds with known truth; each strategy against a simple baseline
bench-quality: $(STAMP)
	$(PY) -m essaim_builtins.bench.quality

## bench-aggregation: sorting consensus over 20,000 cards / 150,000 placements, and engine latency meanwhile
bench-aggregation: $(STAMP)
	$(PY) -m essaim.bench.aggregation

## bench-results: results of a 10,000-person campaign (300,000 judgments) while consoles poll them, and the trio thread meanwhile
bench-results: $(STAMP)
	$(PY) -m essaim.bench.results

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
