"""What a run reports while it works, passed from the worker to the kernel as a file.

The worker replaces ``progress.json`` atomically (write, then rename) at every step and
after every model; the kernel's monitor thread reads it when it changes. A file rather
than a pipe: a killed worker cannot leave it half-written, and it outlives the worker
for ``list_runs()``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..profiling.model import json_safe
from .metrics import METRICS

__all__ = ["PHASES", "STATUSES", "Progress", "ProgressReporter", "read_json", "write_json"]

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "done", "failed", "cancelled")
PHASES = ("queued", "starting", "splitting", "fitting", "evaluating", "importance", "finished")


@dataclass(frozen=True)
class Progress:
    """A snapshot of a run: how long, how many models, the best validation score so far.

    ``best_score`` is the engine's validation score of its best model in ``metric``'s
    natural direction (the holdout score comes with the result).
    """

    run_id: str
    status: str = "queued"
    phase: str = "queued"
    elapsed: float = 0.0
    budget: float = 0.0
    models_done: int = 0
    best_score: float | None = None
    metric: str | None = None
    best_model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, **changes: Any) -> Progress:
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Progress:
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        return cls(**known)

    def elapsed_since(self, started_at: float) -> Progress:
        return replace(self, elapsed=round(time.time() - started_at, 2))


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` atomically (readers see the old or the new file)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(json_safe(data), allow_nan=False), encoding="utf-8")
    os.replace(temporary, path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class ProgressReporter:
    """The worker's side: writes ``progress.json`` at each phase and each finished model,
    keeping the best validation score so far."""

    def __init__(
        self, path: Path, run_id: str, started_at: float, budget: float, metric: str
    ) -> None:
        self.path = path
        self.started_at = started_at
        self.greater_is_better = METRICS[metric].greater_is_better
        self.progress = Progress(
            run_id, status="running", phase="starting", budget=budget, metric=metric
        )
        self.write()

    def write(self) -> None:
        self.progress = self.progress.elapsed_since(self.started_at)
        write_json(self.path, self.progress.to_dict())

    def phase(self, name: str) -> None:
        self.progress = self.progress.updated(phase=name)
        self.write()
        log.info("phase %s", name)

    def model_done(self, name: str, score: float | None) -> None:
        best = self.progress.best_score
        better = best is None or (
            score is not None and (score > best if self.greater_is_better else score < best)
        )
        changes: dict[str, Any] = {"models_done": self.progress.models_done + 1}
        if score is not None and better:
            changes.update(best_score=score, best_model=name)
        self.progress = self.progress.updated(**changes)
        self.write()
        log.info("model %s finished, validation %s = %s", name, self.progress.metric, score)
