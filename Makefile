# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

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
	PGPASSWORD=$${PGPASSWORD:-postgres} $(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS); \
	status=$$?; [ $$status -eq 5 ] && echo "no tests collected" && exit 0; exit $$status

test-all: setup services
	PGPASSWORD=$${PGPASSWORD:-postgres} $(BIN)/python -m pytest $(PYTEST_ARGS)

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
