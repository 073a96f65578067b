"""Engines by name, imported only when a run (or ``load_model``) needs one.

Each entry names the engine class the worker fits with and the function that loads a
saved model back; AutoGluon is imported by nothing else in the package.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

__all__ = ["ENGINES", "available", "engine_class", "model_loader"]

#: name -> ("module:Engine class", "module:load function", module that must be importable)
ENGINES: dict[str, tuple[str, str, str]] = {
    "autogluon": (
        "jupyter_dsagent.automl.engines.autogluon_engine:AutoGluonEngine",
        "jupyter_dsagent.automl.engines.autogluon_engine:load",
        "autogluon.tabular",
    ),
    "sklearn": (
        "jupyter_dsagent.automl.engines.sklearn_engine:SklearnEngine",
        "jupyter_dsagent.automl.engines.sklearn_engine:load",
        "sklearn",
    ),
}


def _resolve(reference: str) -> Any:
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def available(name: str) -> bool:
    """True when the engine's library is installed (checked without importing it)."""
    try:
        return importlib.util.find_spec(ENGINES[name][2]) is not None
    except ModuleNotFoundError:
        return False


def engine_class(name: str) -> Any:
    return _resolve(ENGINES[name][0])


def model_loader(name: str) -> Any:
    return _resolve(ENGINES[name][1])
