"""Fixtures for the ingestion tests: one warm sandbox per module, a fresh data dir per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_dsagent.audit import AuditLog
from jupyter_dsagent.datadir import DataDir
from jupyter_dsagent.ingest.limits import Limits
from jupyter_dsagent.ingest.pipeline import Ingestor
from jupyter_dsagent.ingest.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    limits = Limits.default()
    box = Sandbox(
        memory_bytes=limits.sandbox_memory_bytes,
        cpu_seconds=limits.sandbox_cpu_seconds,
        wall_seconds=limits.sandbox_wall_seconds,
    )
    yield box
    box.close()


@pytest.fixture
def make_ingestor(tmp_path: Path, sandbox: Sandbox) -> Callable[..., Ingestor]:
    """Build an Ingestor over a private data dir, with any limits changed."""

    def make(**changes: Any) -> Ingestor:
        data = DataDir.prepare(tmp_path / "data" / "dsagent")
        return Ingestor(data, Limits.default(**changes), AuditLog(data.audit_db), sandbox=sandbox)

    return make


@pytest.fixture
def ingestor(make_ingestor: Callable[..., Ingestor]) -> Ingestor:
    return make_ingestor()
