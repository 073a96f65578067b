"""The runs directory: one ``runs/<run_id>/`` per run, listing, reading back, retention.

A run directory holds ``run.json`` (what was asked), ``run.log``, ``progress.json``,
``model/`` and, once the run is over, ``result.json``. Run ids are generated here and
checked against their pattern before any path is built from one, and the path is
checked to stay inside ``runs/``. A run without ``result.json`` is in progress until
its deadline is well past (a kernel that died mid-run leaves such a directory; it is
then reported as failed and may be removed).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..exceptions import NotFoundError
from .progress import read_json

__all__ = [
    "ERROR_FILE",
    "INPUT_FILE",
    "LOG_FILE",
    "OUTCOME_FILE",
    "PROGRESS_FILE",
    "RESULT_FILE",
    "RUN_ID",
    "SPEC_FILE",
    "RunStore",
    "RunSummary",
    "new_run_id",
]

RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{8}$")
# The files of a run directory.
SPEC_FILE = "run.json"  # the request, written by the kernel
INPUT_FILE = "input.pkl"  # the data, kernel to worker; removed when the run ends
PROGRESS_FILE = "progress.json"  # the worker's latest report
OUTCOME_FILE = "outcome.json"  # the worker's result so far
ERROR_FILE = "error.json"  # why the worker could not produce a model
RESULT_FILE = "result.json"  # the run's end, written by the kernel
LOG_FILE = "run.log"  # the worker's output
#: A run with no result this long after its deadline was abandoned (its kernel died).
ABANDONED_AFTER = 120.0
DAY = 86_400.0


def new_run_id(now: float | None = None) -> str:
    """``YYYYMMDD-HHMMSS-<8 hex>``: sortable by start time, unguessable, safe as a name."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class RunSummary:
    """One line about a run, for listings: what, when, how it ended and how well."""

    run_id: str
    status: str
    started: str | None
    engine: str | None
    task: str | None
    target: str | None
    metric: str | None
    score: float | None
    seconds: float | None
    deadline_hit: bool | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RunStore:
    """The ``runs/`` directory of the data dir."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def create(self, run_id: str) -> Path:
        path = self.root / run_id
        os.mkdir(path, 0o700)
        return path

    def path(self, run_id: str) -> Path:
        """The directory of ``run_id``; NotFoundError for a bad id or a missing run."""
        if not isinstance(run_id, str) or not RUN_ID.match(run_id):
            raise NotFoundError(
                f"{run_id!r} is not a run id (they look like 20250101-120000-1a2b3c4d)."
            )
        path = (self.root / run_id).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_dir():
            raise NotFoundError(f"There is no AutoML run {run_id!r}.")
        return path

    def run_ids(self) -> list[str]:
        """Every run id present, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(entry.name for entry in self.root.iterdir() if RUN_ID.match(entry.name))

    def in_progress(self, run_id: str, now: float | None = None) -> bool:
        path = self.root / run_id
        if (path / RESULT_FILE).exists():
            return False
        spec = read_json(path / SPEC_FILE)
        if spec is None:  # being created, or broken: judge by age
            started = path.stat().st_mtime if path.exists() else 0.0
            return (time.time() if now is None else now) - started < ABANDONED_AFTER
        ends = float(spec["started_at"]) + float(spec["time_limit"]) + ABANDONED_AFTER
        return (time.time() if now is None else now) < ends

    def summary(self, run_id: str) -> RunSummary:
        path = self.root / run_id
        result = read_json(path / RESULT_FILE)
        spec = read_json(path / SPEC_FILE) or {}
        started = spec.get("started_at")
        when = (
            datetime.fromtimestamp(float(started), timezone.utc).isoformat(timespec="seconds")
            if started is not None
            else None
        )
        if result is None:
            running = self.in_progress(run_id)
            progress = read_json(path / PROGRESS_FILE) or {}
            return RunSummary(
                run_id=run_id,
                status=progress.get("status", "queued") if running else "failed",
                started=when,
                engine=spec.get("engine"),
                task=spec.get("task"),
                target=spec.get("target"),
                metric=spec.get("metric"),
                score=None,
                seconds=progress.get("elapsed"),
                deadline_hit=None,
                error=None if running else "automl_failed",
            )
        error = result.get("error") or {}
        return RunSummary(
            run_id=run_id,
            status=str(result.get("status")),
            started=when,
            engine=result.get("engine", spec.get("engine")),
            task=result.get("task", spec.get("task")),
            target=result.get("target", spec.get("target")),
            metric=result.get("metric", spec.get("metric")),
            score=result.get("score"),
            seconds=(result.get("timings") or {}).get("wall"),
            deadline_hit=result.get("deadline_hit"),
            error=error.get("code"),
        )

    def started_at(self, run_id: str) -> float:
        spec = read_json(self.root / run_id / SPEC_FILE)
        if spec is not None:
            return float(spec["started_at"])
        return (self.root / run_id).stat().st_mtime

    def prune(
        self, *, keep_runs: int, keep_days: float, protect: frozenset[str] = frozenset()
    ) -> list[str]:
        """Remove finished runs beyond the newest ``keep_runs`` or older than ``keep_days``.

        Oldest first; a run in progress (or in ``protect``) is never removed. 0 turns a
        limit off. Returns the ids removed.
        """
        now = time.time()
        finished = [
            run_id
            for run_id in self.run_ids()
            if run_id not in protect and not self.in_progress(run_id, now)
        ]
        finished.sort(key=self.started_at)
        doomed = []
        if keep_days > 0:
            doomed += [r for r in finished if now - self.started_at(r) > keep_days * DAY]
        if keep_runs > 0:
            kept = [r for r in finished if r not in doomed]
            doomed += kept[: max(0, len(kept) - keep_runs)]
        for run_id in doomed:
            shutil.rmtree(self.root / run_id, ignore_errors=True)
        return doomed
