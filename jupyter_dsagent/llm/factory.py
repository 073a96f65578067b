"""Building an :class:`LLMService`: for the server's gateway, or in a kernel without one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..audit import AuditLog
from ..config import DSAgent
from ..datadir import DataDir
from .keys import KeyRing
from .metrics import LLMMetrics
from .service import LLMService
from .transcripts import TRANSCRIPTS_FILE, TranscriptLog
from .usage import UsageStore

__all__ = ["USAGE_FILE", "direct_service", "open_service"]

USAGE_FILE = "usage.sqlite"


def open_service(
    settings: DSAgent,
    audit: AuditLog,
    data_root: Path,
    keys: KeyRing,
    *,
    metrics: LLMMetrics | None = None,
) -> LLMService:
    """An LLMService over the usage store (and transcripts) in ``data_root``."""
    transcripts = (
        TranscriptLog(data_root / TRANSCRIPTS_FILE) if settings.store_transcripts else None
    )
    return LLMService(
        settings,
        keys=keys,
        audit=audit,
        usage=UsageStore(data_root / USAGE_FILE),
        transcripts=transcripts,
        metrics=metrics,
    )


def direct_service(
    settings: DSAgent, audit: AuditLog, *, environ: Mapping[str, str] | None = None
) -> LLMService:
    """The service a kernel uses when no server gateway is there (plain IPython).

    Keys come from ``environ`` (default ``os.environ``); the rules are the server's:
    the same Router settings, allow- and deny-lists, token limit, budgets (the same
    ``usage.sqlite``), rate limit and audit records. Call its synchronous methods,
    :meth:`~LLMService.complete` and :meth:`~LLMService.stream`, with the user name.
    """
    data = DataDir.prepare(settings.data_dir)
    keys = KeyRing.take(dict(os.environ if environ is None else environ), remove=False)
    return open_service(settings, audit, data.root, keys)
