# The two README commands: `make demo` runs the whole flow locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install demo test test-sqlite test-postgres lint bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev tools

demo: $(STAMP) ## run the whole flow on this machine: sandboxes, SQLite, orders in, tracking out
	$(BIN)/integrator demo

test: $(STAMP) ## lint, type-check, and run the suite on SQLite and on PostgreSQL
	./scripts/test.sh

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check integrator webhooks tests bench
	$(BIN)/ruff format --check integrator webhooks
	$(BIN)/mypy

bench: $(STAMP) ## run the benchmarks (figures go in BENCHMARKS.md; needs PostgreSQL for --pg)
	$(BIN)/python bench/queue.py
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/tracking_sync.py
	$(BIN)/python bench/pipeline.py
