"""Receiving bytes: streamed into quarantine/, counted and hashed, cut off at the limit.

The client's file name is never used here; the file gets a random name. Nothing in
quarantine/ is trusted, and everything there is removed on failure or at start-up.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from ..exceptions import UploadTooLarge

__all__ = ["CHUNK_BYTES", "QuarantineWriter", "Received", "human_bytes", "receive", "sweep"]

CHUNK_BYTES = 1 << 20


def human_bytes(n: float) -> str:
    """Sizes as people read them: 546.0 GB, 50.0 MB, 812 bytes."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Received:
    """A complete file in quarantine: where, how big, and its SHA-256."""

    path: Path
    size: int
    sha256: str


class QuarantineWriter:
    """Write an upload chunk by chunk; refuse it the moment it passes ``max_bytes``.

    Use as a context manager: leaving the block with an exception removes the file.
    """

    def __init__(self, quarantine_dir: Path, max_bytes: int) -> None:
        self.path = quarantine_dir / f"{secrets.token_hex(16)}.part"
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        self._fd: int | None = os.open(self.path, flags, 0o600)

    def write(self, chunk: bytes) -> None:
        if self._fd is None:
            raise ValueError("the upload is already finished or aborted")
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.abort()
            raise UploadTooLarge(
                f"The upload is larger than {human_bytes(self.max_bytes)}, the limit; "
                "it was stopped and discarded."
            )
        self._hash.update(chunk)
        view = memoryview(chunk)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def finish(self) -> Received:
        if self._fd is None:
            raise ValueError("the upload is already finished or aborted")
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        return Received(self.path, self.size, self._hash.hexdigest())

    def abort(self) -> None:
        """Close and delete; safe to call more than once."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> QuarantineWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()


def receive(source: BinaryIO | Path, quarantine_dir: Path, max_bytes: int) -> Received:
    """Stream a binary file object or a path into quarantine."""
    if isinstance(source, Path):
        with open(source, "rb") as handle:
            return receive(handle, quarantine_dir, max_bytes)
    with QuarantineWriter(quarantine_dir, max_bytes) as writer:
        while chunk := source.read(CHUNK_BYTES):
            writer.write(chunk)
        return writer.finish()


def sweep(quarantine_dir: Path) -> int:
    """Remove everything left in quarantine by an interrupted upload; return how many."""
    removed = 0
    for entry in quarantine_dir.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed
