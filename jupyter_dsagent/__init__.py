"""jupyter_dsagent: a notebook-native data-science agent for Jupyter.

This module holds entry points only; heavy parts are imported when first used, so
``%load_ext jupyter_dsagent`` stays fast.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = [
    "__version__",
    "ask",
    "automl",
    "load",
    "load_ipython_extension",
    "load_model",
    "profile",
    "sanitize_for_export",
    "uploads",
]

# Public functions resolved on first use, so importing the package stays cheap.
_LAZY = {
    "ask": "jupyter_dsagent.api",
    "load": "jupyter_dsagent.api",
    "profile": "jupyter_dsagent.profiling",
    "uploads": "jupyter_dsagent.api",
    "sanitize_for_export": "jupyter_dsagent.ingest.export",
    "load_model": "jupyter_dsagent.automl",
}
# Subpackages that are also the function of their name (``dsa.automl(df, "y")``).
_LAZY_MODULES = {"automl": "jupyter_dsagent.automl"}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(_LAZY_MODULES[name])
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'jupyter_dsagent' has no attribute {name!r}")


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server import DSAgentExtension

    return [{"module": "jupyter_dsagent", "app": DSAgentExtension}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    # The prebuilt sidebar lands in jupyter_dsagent/labextension when it is built.
    return [{"src": "labextension", "dest": "jupyter-dsagent"}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_dsagent``: validate settings and register ``%dsagent``."""
    from .kernel.extension import load

    load(ipython)
