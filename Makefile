# Two entry points for people: `make lab` (use it) and `make test` (check it).
# Everything installs into .venv from the package registries; nothing is assumed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test lint typecheck pytest docs clean

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

test: lint typecheck pytest

docs: install
	$(BIN)/python -m jupyter_dsagent.reference README.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
