"""jupyter_dsagent: a notebook-native data-science agent for Jupyter.

This module holds entry points only; heavy parts are imported when first used, so
``%load_ext jupyter_dsagent`` stays fast.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__", "load_ipython_extension"]


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
