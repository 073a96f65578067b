"""Everything a worker needs to know about its run, written by the kernel as ``run.json``.

The worker reads nothing else from the kernel (no pickled callables, no settings
object), so what a run did can always be read back from its directory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .budget import Budget

__all__ = ["RunSpec"]


@dataclass(frozen=True)
class RunSpec:
    """The run's request after checking, plus the limits it runs under."""

    run_id: str
    target: str
    task: str
    metric: str
    engine: str
    preset: str
    time_limit: float
    started_at: float
    holdout: float
    seed: int
    time_column: str | None
    cpus: int
    memory_bytes: int
    niceness: int
    importance_seconds: float
    engine_share: float
    parent_pid: int
    rows_total: int
    rows_used: int
    columns: int
    warm_worker: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sampled(self) -> bool:
        return self.rows_used < self.rows_total

    @property
    def budget(self) -> Budget:
        return Budget(self.started_at, self.time_limit, self.importance_seconds, self.engine_share)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = list(self.notes)
        return data

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> RunSpec:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["notes"] = tuple(data.get("notes", ()))
        return cls(**data)
