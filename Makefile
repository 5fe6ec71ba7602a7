# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT ?= output

BENCH_VENV := .venv-bench

.PHONY: demo test lint typecheck pytest install install-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Builds the embedded C4725027 snapshot from the shipped raw store, offline, then prints it.
demo: install
	$(BIN)/medgen-etl build --concept C4725027 --offline --raw-dir pipeline/demo/raw --out $(OUT)
	$(BIN)/medgen-etl show C4725027 --out $(OUT) --limit 5

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev
	$(BIN)/pytest -q

test: lint typecheck pytest

# The benchmark's own environment: pubmed_parser is a peer we measure, never a dependency.
$(BENCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . pubmed_parser
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/parse.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) bench/.corpus build *.egg-info .mypy_cache .pytest_cache .ruff_cache
