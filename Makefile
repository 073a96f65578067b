# Two entry points for people: `make lab` (use it) and `make test` (check it).
# Everything installs into .venv from the package registries; nothing is assumed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test lint typecheck pytest audit-deps docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab --no-browser --port=$(PORT) $(ROOT_FLAG) \
	  --ServerApp.root_dir=notebooks notebooks/00-getting-started.ipynb

lint: install
	$(BIN)/ruff check jupyter_dsagent tests benchmarks
	$(BIN)/ruff format --check jupyter_dsagent tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest

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

test: lint typecheck audit-deps pytest

docs: install
	$(BIN)/python -m jupyter_dsagent.reference README.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
