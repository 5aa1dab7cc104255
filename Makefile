# Thin wrappers: the work is in the aks-runbook command and the tests.
VENV ?= .venv
BIN := $(VENV)/bin
ENV ?= environments/local.yaml

.PHONY: run test bench notebooks lint clean down

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## run: the main job: bring the local cluster up and show its nodes by pool
run: $(BIN)/.installed
	$(BIN)/aks-runbook local up

## test: build the local cluster's binaries if needed (cached), then the whole test suite
test: $(BIN)/.installed
	$(BIN)/aks-runbook local build
	$(BIN)/python -m pytest

## bench: benchmarks (not part of the tests); results go to bench/README.md
bench: $(BIN)/.installed
	$(BIN)/python bench/run.py $(ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check lib tests bench

down: $(BIN)/.installed
	$(BIN)/aks-runbook local down

clean: down
	rm -rf $(VENV) .state runs
