"""Secure ingestion: quarantine, sandboxed validation, then the ready area and catalog.

A pure library (no HTTP, no IPython): the upload endpoint and the kernel's ``load()``
both go through :class:`Ingestor`; :func:`ingest` is the one-call form.
"""

from __future__ import annotations

import os
import threading
from typing import BinaryIO

from ..audit import AuditLog
from ..config import DSAgent
from ..datadir import DataDir
from ..models import UploadRecord
from .limits import Limits
from .pipeline import Ingestor

__all__ = ["Ingestor", "Limits", "ingest", "ingestor_for"]

_ingestors: dict[tuple[str, Limits], Ingestor] = {}
_ingestors_lock = threading.Lock()


def ingestor_for(config: DSAgent) -> Ingestor:
    """The process's Ingestor for these settings (its sandbox workers stay warm)."""
    limits = Limits.from_settings(config)
    key = (os.path.realpath(os.path.expanduser(config.data_dir)), limits)
    with _ingestors_lock:
        if key not in _ingestors:
            data = DataDir.prepare(config.data_dir)
            _ingestors[key] = Ingestor(data, limits, AuditLog(data.audit_db))
        return _ingestors[key]


def ingest(
    source: BinaryIO | str | os.PathLike[str], filename: str, *, config: DSAgent, actor: str
) -> UploadRecord:
    """Validate ``source`` (a path or a binary stream) and return its upload record."""
    return ingestor_for(config).ingest(source, filename, actor=actor)
