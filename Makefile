# The two commands a user needs: `make build` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CARDSMITH := $(BIN)/cardsmith
# Extra flags for `cardsmith build`, e.g. `make build BUILD_FLAGS=--frozen` in CI.
BUILD_FLAGS ?=

.PHONY: build test check ids clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

build: $(VENV)/.installed
	$(CARDSMITH) build $(BUILD_FLAGS)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

ids: $(VENV)/.installed
	$(CARDSMITH) ids

# The performance benchmark against the genanki floor (issue 6); writes bench/measured.md. Not in CI.
.PHONY: bench
bench: $(VENV)/.installed
	$(BIN)/python -m bench.run $(BENCH_FLAGS)

clean:
	rm -rf dist .venv .pytest_cache
