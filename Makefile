# Thin wrappers: the work is in the aks-runbook command and the tests.
VENV ?= .venv
BIN := $(VENV)/bin
ENV ?= environments/local.yaml
# the suite's pytest-xdist workers, each with a local cluster of its own (files stay whole):
# three on two cores, as the suite often waits for Kubernetes controllers (bench/README.md)
TEST_WORKERS ?= 3

SYSTEM_PACKAGES := tools/ensure-system-packages.sh

.PHONY: run test check lab hub lock bench notebooks screenshots lint clean down mutate bytecode

# The exact versions of requirements.lock (uv when it can be had, else pip); redone only when
# the lock, pyproject.toml or the script change.
$(BIN)/.installed: requirements.lock pyproject.toml tools/setup-venv.sh
	tools/setup-venv.sh $(VENV)
	touch $@

# The hub's proxy, configurable-http-proxy, at the versions of tools/npm/package-lock.json, in
# the project (never globally); redone only when the lock changes.
PROXY := tools/npm/node_modules/.bin/configurable-http-proxy
$(PROXY): tools/npm/package-lock.json
	$(SYSTEM_PACKAGES) npm
	npm ci --prefix tools/npm --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# The package's own bytecode (the venv's is compiled at set-up). Where PYTHONDONTWRITEBYTECODE
# is set, as on the project's machine, every process (the run, each kernel, each CLI call)
# would otherwise compile lib/ from source again; compileall writes only what changed.
bytecode: $(BIN)/.installed
	$(BIN)/python -m compileall -q -j 0 lib

## run: the main job: the runbook's notebooks against the local cluster (evidence in runs/)
run: $(BIN)/.installed bytecode
	$(SYSTEM_PACKAGES) bubblewrap
	$(BIN)/aks-runbook local up
	$(BIN)/aks-runbook run $(ENV)

## test: system packages and the local cluster's binaries if missing, then the whole suite
# pytest keeps the test modules it rewrote for its assertions in tests/__pycache__ only where
# bytecode may be written: each worker would otherwise rewrite all of them (about 7 of the 15 s a
# worker spent collecting).
test: $(BIN)/.installed $(PROXY) bytecode
	$(SYSTEM_PACKAGES) bubblewrap chromium fonts-noto-cjk
	$(BIN)/aks-runbook local build
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

## check: the edit loop's fast tier: lint, then the tests that need no cluster and start no
## notebook or az worker (a couple of minutes; `make test` stays the whole suite)
check: $(BIN)/.installed bytecode
	$(BIN)/ruff check lib tests bench
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -o addopts= -p randomly -q -m "not cluster and not slow" tests

## lab: the workshop: JupyterLab on 127.0.0.1 with the notebooks (ARGS=--ip=... to listen elsewhere)
lab: $(BIN)/.installed bytecode
	$(SYSTEM_PACKAGES) bubblewrap
	$(BIN)/aks-runbook lab $(ARGS)

## hub: the training hub for provisioned attendees (`training provision` first; ARGS=--ip=...)
hub: $(BIN)/.installed $(PROXY) bytecode
	$(SYSTEM_PACKAGES) bubblewrap
	$(BIN)/aks-runbook training hub $(ARGS)

## lock: refresh requirements.lock from pyproject.toml (LOCK_ARGS=--upgrade: newest allowed)
## (needs only uv: a dependency new in pyproject.toml cannot be installed before it is locked)
lock:
	test -x $(BIN)/uv || { python3 -m venv $(VENV) && \
		$(BIN)/python -m pip install --quiet "$$(grep -E '^uv==' requirements.lock)"; }
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --universal --python-version 3.11 \
		-o requirements.lock $(LOCK_ARGS)

## notebooks: regenerate the notebooks' stored outputs from a run against the local cluster
notebooks: $(BIN)/.installed
	$(BIN)/aks-runbook local up
	$(BIN)/python -m aks_runbook.notebook.storedoutputs

## screenshots: refresh docs/screenshots/ (the README's pictures) from the browser test
screenshots: $(BIN)/.installed $(PROXY)
	$(SYSTEM_PACKAGES) bubblewrap chromium fonts-noto-cjk
	$(BIN)/aks-runbook local build
	AKS_RUNBOOK_SCREENSHOTS=$(abspath docs/screenshots) $(BIN)/python -m pytest -o addopts= \
		-p no:randomly -q tests/test_browser.py tests/test_browser_ja.py tests/test_hub_browser.py

## bench: benchmarks (not part of the tests); results go to bench/README.md
bench: $(BIN)/.installed
	$(BIN)/python bench/run.py $(ARGS)

## mutate: mutation testing of the verdict code with the fast tests (not part of test; slow):
## one child on a shared machine; MUTANTS='aks_runbook.run.redact*' runs one module. See bench/README.md
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
