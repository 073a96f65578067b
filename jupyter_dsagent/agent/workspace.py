"""The agent's view of the person's world: their DataFrames, uploads, runs and errors.

The kernel builds one from the IPython namespace; tests build one from a dict. The
agent never reaches past it, so what a tool can touch is decided here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Workspace"]


def _nothing() -> None:
    return None


@dataclass
class Workspace:
    """Accessors the tools and the offline planner use.

    Parameters
    ----------
    namespace
        The person's variables (IPython's ``user_ns``); read for DataFrames, written
        only by ``load_upload`` when the person asked for it.
    list_uploads
        Returns upload records (``models.UploadRecord``), newest first.
    load_upload
        Loads an upload by id or name into a DataFrame (validated by the ingest pipeline).
    start_automl
        ``(frame, target, time_limit) -> run`` starting a non-blocking AutoML run.
    automl_runs
        Returns the runs known to this process, newest first.
    last_error
        The last exception the person's code raised, or None.
    """

    namespace: Mapping[str, Any] = field(default_factory=dict)
    list_uploads: Callable[[], list[Any]] = list
    load_upload: Callable[[str], Any] | None = None
    start_automl: Callable[..., Any] | None = None
    automl_runs: Callable[[], list[Any]] = list
    last_error: Callable[[], BaseException | None] = _nothing

    def dataframes(self) -> dict[str, Any]:
        """Public DataFrame variables by name, in namespace order."""
        import pandas as pd

        return {
            name: value
            for name, value in list(self.namespace.items())
            if isinstance(value, pd.DataFrame) and not name.startswith("_")
        }

    def assign(self, name: str, value: Any) -> None:
        """Bind ``name`` in the person's namespace (only for actions they asked for)."""
        if not isinstance(self.namespace, dict):
            raise TypeError("This workspace's namespace is read-only.")
        self.namespace[name] = value
