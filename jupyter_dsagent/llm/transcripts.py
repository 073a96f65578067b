"""Full transcripts of model calls, redacted, for teaching review (off by default).

The audit log keeps only a SHA-256 of each prompt. When ``store_transcripts`` is on,
each call's messages and answer are also appended, with secrets masked, as one JSON
line to ``llm-transcripts.jsonl`` in the data directory, a file only its owner can
read. It is a separate file so the audit log never holds prompt text.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..redaction import redact

__all__ = ["TRANSCRIPTS_FILE", "TranscriptLog"]

TRANSCRIPTS_FILE = "llm-transcripts.jsonl"


class TranscriptLog:
    """Append-only JSON Lines file of redacted transcripts, mode 0600."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, entry: Mapping[str, Any]) -> None:
        """Write one transcript; every string in it is redacted first."""
        line = json.dumps(redact(dict(entry)), ensure_ascii=False, default=str) + "\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
