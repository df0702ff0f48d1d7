# The README's two commands: `make demo` and `make test`. Each sets itself up.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all setup

$(STAMP): pyproject.toml scripts/setup
	PY=$(PY) bash scripts/setup
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/profkit demo --results results/demo -o reports/demo.html

test: $(STAMP)
	$(BIN)/ruff check profkit analyses tests benchmarks
	$(BIN)/mypy  # strict on the core modules: [tool.mypy] in pyproject.toml
	$(BIN)/python -m pytest -m "not slow and not valgrind" -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q
