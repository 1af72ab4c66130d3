# The two commands a user needs: `make build` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CARDSMITH := $(BIN)/cardsmith
# Extra flags for `cardsmith build`, e.g. `make build BUILD_FLAGS=--frozen` in CI.
BUILD_FLAGS ?=

.PHONY: build test check ids clean browser-deps preview

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,sync]'
	touch $@

build: $(VENV)/.installed
	$(CARDSMITH) build $(BUILD_FLAGS)

test: $(VENV)/.installed-test browser-deps
	$(BIN)/python -m pytest

ids: $(VENV)/.installed
	$(CARDSMITH) ids

# Every mistake in the decks, warnings included, as path:line: message; writes nothing.
check: $(VENV)/.installed
	$(CARDSMITH) check --strict

# The performance benchmark against the genanki floor (issue 6); writes the figures into bench/RESULTS.md. Not in CI.
.PHONY: bench
bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench,sync]'
	$(BIN)/python -m bench.run $(BENCH_FLAGS)
	$(BIN)/python -m bench.alternative
	$(BIN)/python -m bench.sync $(BENCH_SYNC_FLAGS)

# Browser tests: Debian's Chromium and ChromeDriver (installed only when missing, as root or with
# sudo) and Anki's own MathJax (from the aqt wheel on PyPI, cached once).
browser-deps: $(VENV)/.installed
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi
	$(BIN)/python -m cardsmith.commands.mathjax >/dev/null

# A static HTML preview of the deck in dist/preview/index.html.
preview: $(VENV)/.installed
	$(CARDSMITH) preview

clean:
	rm -rf dist .venv .pytest_cache
