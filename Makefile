# policenet: the two commands that matter are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck unit e2e tls-check bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "policenet needs Python 3.11 or newer"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## demo: build a hub and five nodes on localhost, run the scripted enquiry, keep serving
demo: $(STAMP)
	$(BIN)/policenet demo --dir demo-network

## test: lint, type-check and run the whole suite (SQLite, and PostgreSQL when reachable)
test: $(STAMP) lint typecheck
	$(BIN)/python scripts/run_tests.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e

## tls-check: grade the hub's TLS endpoint with sslyze (Mozilla "modern"), in its own venv
tls-check: $(STAMP)
	bash scripts/tls-check

clean:
	rm -rf $(VENV) .venv-sslyze demo-network .mypy_cache .ruff_cache .pytest_cache test-artifacts
