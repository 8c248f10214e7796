# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Independent tests run side by side (pytest-xdist, three workers); the CPU-bound ones in
# two groups, each on one worker, so no more than two of them run at once on 2 cores
# (tests/conftest.py, docs/testing.md). `make test PYTEST_WORKERS=0` runs everything in
# one process.
PYTEST_WORKERS ?= 3
XDIST := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)

.PHONY: setup system services demo test test-all lint format bench clean

setup: system $(STAMP)

system:
	@bash scripts/system-packages.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

services:
	@bash scripts/services.sh

demo: setup
	$(BIN)/livevent demo

# Tests talk to the real PostgreSQL and Redis; services.sh starts them when needed.
# pytest's exit code 5 (no tests collected) is not a failure of the code.
test: setup services
	PGPASSWORD=$${PGPASSWORD:-postgres} $(BIN)/python -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS); \
	status=$$?; [ $$status -eq 5 ] && echo "no tests collected" && exit 0; exit $$status

test-all: setup services
	PGPASSWORD=$${PGPASSWORD:-postgres} $(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: setup services
	PGPASSWORD=$${PGPASSWORD:-postgres} $(BIN)/python benchmarks/store.py
	$(BIN)/python benchmarks/fanout.py
	$(BIN)/python benchmarks/pipeline.py
	PGPASSWORD=$${PGPASSWORD:-postgres} $(BIN)/python benchmarks/scaleout.py

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache
