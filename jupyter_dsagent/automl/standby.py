"""One worker started ahead of time, libraries imported, waiting for its run.

Starting Python and importing pandas, scikit-learn and AutoGluon takes seconds (much
more on a busy machine), all of it out of a run's time limit. A standby worker does
that while nobody waits: it applies the run limits, imports the engines, and blocks
reading a run directory from its stdin. Each standby serves exactly one run (a fresh
process per run, as before), and a new one is started after a run ends, when it no
longer competes with the run for the cores. It exits by itself when the kernel goes
away (its stdin closes).
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import DSAgent
from .process import ProcessGroup, worker_environment

__all__ = ["Limits", "shutdown", "take", "warm_up"]


@dataclass(frozen=True)
class Limits:
    """What a worker is started with, so a standby only serves a run that asks the same."""

    cpus: int
    memory_bytes: int
    niceness: int

    @classmethod
    def from_settings(cls, settings: DSAgent) -> Limits:
        return cls(
            cpus=settings.automl_cpus or len(os.sched_getaffinity(0)),
            memory_bytes=settings.automl_memory_bytes,
            niceness=settings.automl_niceness,
        )

    def argument(self) -> str:
        return json.dumps(asdict(self))


_standby: dict[Limits, ProcessGroup] = {}
_lock = threading.Lock()


def _argv(limits: Limits) -> list[str]:
    return [sys.executable, "-m", "jupyter_dsagent.automl.worker", "--standby", limits.argument()]


def take(limits: Limits) -> ProcessGroup | None:
    """The waiting worker for ``limits``, if there is a live one; it is no longer on standby."""
    with _lock:
        group = _standby.pop(limits, None)
    if group is not None and group.running():
        return group
    return None


def warm_up(limits: Limits, cwd: Path) -> None:
    """Start a standby worker for ``limits`` unless one is waiting; stop those for others."""
    with _lock:
        current = _standby.get(limits)
        if current is not None and current.running():
            return
        others = [group for key, group in _standby.items() if key != limits]
        _standby.clear()
        _standby[limits] = ProcessGroup(
            _argv(limits), cwd=cwd, log_path=None, env=worker_environment(limits.cpus)
        )
    for group in others:
        group.stop()


@atexit.register
def shutdown() -> None:
    """Stop every standby worker (at the kernel's exit, or to free their memory)."""
    with _lock:
        waiting = list(_standby.values())
        _standby.clear()
    for group in waiting:
        group.stop()
