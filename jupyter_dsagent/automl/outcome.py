"""The worker's account of its run, rewritten (atomically) after every step as ``outcome.json``.

The kernel turns the last one written into ``result.json``: whatever the worker got to
before it finished, or before it was stopped, is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .progress import write_json
from .store import OUTCOME_FILE

__all__ = ["Outcome"]


class Outcome:
    """A dict of result fields with notes and timings, and where to write it."""

    def __init__(self, run_dir: Path, **fields: Any) -> None:
        self.path = run_dir / OUTCOME_FILE
        self.data: dict[str, Any] = {"notes": [], "timings": {}, **fields}

    def note(self, text: str) -> None:
        """A sentence for the person: something was sampled, skipped or cut short."""
        self.data["notes"].append(text)

    def timing(self, step: str, seconds: float) -> None:
        self.data["timings"][step] = round(seconds, 3)

    def write(self) -> None:
        write_json(self.path, self.data)
