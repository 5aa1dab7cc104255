# Thin wrappers: the work is in the aks-runbook command and the tests.
VENV ?= .venv
BIN := $(VENV)/bin
ENV ?= environments/local.yaml

.PHONY: run test bench notebooks lint clean down mutate

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## run: the main job: the runbook's notebooks against the local cluster (evidence in runs/)
run: $(BIN)/.installed
	$(BIN)/aks-runbook local up
	$(BIN)/aks-runbook run $(ENV)

## test: build the local cluster's binaries if needed (cached), then the whole test suite
test: $(BIN)/.installed
	$(BIN)/aks-runbook local build
	$(BIN)/python -m pytest

## notebooks: regenerate the notebooks' stored outputs from a run against the local cluster
notebooks: $(BIN)/.installed
	$(BIN)/aks-runbook local up
	$(BIN)/python -m aks_runbook.storedoutputs

## bench: benchmarks (not part of the tests); results go to bench/README.md
bench: $(BIN)/.installed
	$(BIN)/python bench/run.py $(ARGS)

## mutate: mutation testing of the verdict code with the fast tests (not part of test; slow):
## one child on a shared machine; MUTANTS='aks_runbook.redact*' runs one module. See bench/README.md
MUTATE_STAGE := mutants/.stage
MUTANTS ?=
mutate: $(BIN)/.installed
	rm -rf $(MUTATE_STAGE)/mutants  # mutmut keeps old verdicts and test maps across changes
	$(BIN)/python tests/mutation_stage.py $(MUTATE_STAGE)
	cd $(MUTATE_STAGE) && $(abspath $(BIN))/mutmut run --max-children 1 $(MUTANTS)
	cd $(MUTATE_STAGE) && $(abspath $(BIN))/mutmut results

lint: $(BIN)/.installed
	$(BIN)/ruff check lib tests bench

down: $(BIN)/.installed
	$(BIN)/aks-runbook local down

clean: down
	rm -rf $(VENV) .state runs
