# The two README commands: `make demo` runs the whole flow locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# exact versions with hashes (pip-compile --generate-hashes); `make lock` makes them again
LOCKS := requirements/bootstrap.txt requirements/dev.txt
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

.PHONY: help install demo test test-sqlite test-postgres lint bench lock

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# pip, setuptools and wheel first (the venv's own may be old), then every dependency exactly as
# locked, hashes checked, then the project itself with nothing more (--no-deps)
$(STAMP): pyproject.toml $(LOCKS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/bootstrap.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
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

lock: $(STAMP) ## pin every dependency again, with hashes, after editing pyproject.toml
	$(PIP_COMPILE) -o requirements/bootstrap.txt requirements/bootstrap.in
	$(PIP_COMPILE) -o requirements/main.txt pyproject.toml
	$(PIP_COMPILE) --extra dev -o requirements/dev.txt pyproject.toml

bench: $(STAMP) ## run the benchmarks (figures go in BENCHMARKS.md; needs PostgreSQL for --pg)
	$(BIN)/python bench/job_queue.py
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/tracking_sync.py
	$(BIN)/python bench/pipeline.py
