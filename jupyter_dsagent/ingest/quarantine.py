"""Receiving bytes: streamed into quarantine/, counted and hashed, cut off at the limit.

The client's file name is never used here; the file gets a random name. Nothing in
quarantine/ is trusted, and everything there is removed on failure or at start-up.

Receiving is on every upload's critical path, so what can wait runs in a helper
thread while the file is being validated: the ``fsync`` that makes it durable, and,
for a local file or stream (:func:`receive`, which is not paced by a network), the
SHA-256, read back from the quarantine copy. An HTTP body is hashed on the way, as its
pieces arrive. The pipeline waits for both (:meth:`Received.wait_durable`,
:attr:`Received.sha256`) before the file may be moved into ready/.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from ..exceptions import UploadTooLarge

__all__ = [
    "CHUNK_BYTES",
    "QuarantineWriter",
    "Received",
    "human_bytes",
    "receive",
    "sweep",
    "write_all",
]

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
    """A complete file in quarantine: where, how big, its SHA-256 and its ``fsync``.

    Both may still be running in the background; reading :attr:`sha256` waits for the
    digest, and nothing may publish the file before :meth:`wait_durable` returned.
    """

    path: Path
    size: int
    digest: Future[str]
    synced: Future[None]

    @property
    def sha256(self) -> str:
        """The file's SHA-256 (hex); raises the OSError that stopped the hashing."""
        return self.digest.result()

    def wait_durable(self) -> None:
        """Return once the file's bytes are on disk; raises the ``fsync``'s OSError."""
        self.synced.result()


class QuarantineWriter:
    """Write an upload chunk by chunk; refuse it the moment it passes ``max_bytes``.

    Use as a context manager: leaving the block with an exception removes the file.
    With ``hash_after``, chunks are not hashed as they come: :meth:`finish` has the
    file read back and hashed in the background instead.
    """

    def __init__(self, quarantine_dir: Path, max_bytes: int, *, hash_after: bool = False) -> None:
        self.path = quarantine_dir / f"{secrets.token_hex(16)}.part"
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = None if hash_after else hashlib.sha256()
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
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
        if self._hash is not None:
            self._hash.update(chunk)
        write_all(self._fd, chunk)

    def finish(self) -> Received:
        """The complete file; its hash and ``fsync`` may still run (see :class:`Received`)."""
        if self._fd is None:
            raise ValueError("the upload is already finished or aborted")
        fd, self._fd = self._fd, None
        helper = ThreadPoolExecutor(1, thread_name_prefix="dsagent-receive")
        digest: Future[str]
        if self._hash is None:
            digest = helper.submit(_hash_file, fd, self.size)
        else:
            digest = Future()
            digest.set_result(self._hash.hexdigest())
        synced = helper.submit(_sync_and_close, fd)
        helper.shutdown(wait=False)  # the thread ends once both are done
        return Received(self.path, self.size, digest, synced)

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


def write_all(fd: int, chunk: bytes) -> None:
    """``os.write`` until all of ``chunk`` is written (it may write less at once)."""
    view = memoryview(chunk)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _hash_file(fd: int, size: int) -> str:
    """SHA-256 of the first ``size`` bytes of the open file (all of it: it is ours)."""
    digest = hashlib.sha256()
    buffer = memoryview(bytearray(CHUNK_BYTES))
    offset = 0
    while offset < size:
        count = os.preadv(fd, [buffer[: size - offset]], offset)
        if not count:
            raise OSError(f"the quarantine file ended after {offset} of {size} bytes")
        digest.update(buffer[:count])
        offset += count
    return digest.hexdigest()


def _sync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def receive(source: BinaryIO | Path, quarantine_dir: Path, max_bytes: int) -> Received:
    """Stream a binary file object or a path into quarantine; hash it in the background.

    Reads never ask for more than one byte past the limit, so an endless stream
    costs at most ``max_bytes + 1`` bytes before it is refused.
    """
    if isinstance(source, Path):
        with open(source, "rb", buffering=0) as handle:
            return receive(handle, quarantine_dir, max_bytes)
    with QuarantineWriter(quarantine_dir, max_bytes, hash_after=True) as writer:
        while chunk := source.read(min(CHUNK_BYTES, max_bytes - writer.size + 1)):
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
